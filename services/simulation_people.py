"""Made-up applicants, form values and opinions for the simulation (dữ liệu giả lập).

Drawn from the simulation's own `random.Random`, so a seed gives the same names and numbers.
"""
from __future__ import annotations

import random
from datetime import date

from bpmn.procedure import FormField

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
          "Ngô", "Dương", "Lý", "Trương", "Châu", "Thái")
MIDDLE = ("Văn", "Thị", "Minh", "Thanh", "Hoàng", "Ngọc", "Hữu", "Kim", "Quốc", "Thu", "Đức", "Bảo")
GIVEN = ("An", "Bình", "Cường", "Dung", "Hà", "Hải", "Hạnh", "Hùng", "Lan", "Long", "Mai", "Nam", "Nga",
         "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vân", "Xuân", "Yến")
ORGANISATIONS = ("Hội Cựu giáo chức", "Hội Sinh vật cảnh", "Công ty TNHH Xây dựng Phú Tân",
                 "Công ty Cổ phần Thủy sản Long Xuyên", "Hội Doanh nhân trẻ", "Hợp tác xã Mỹ Hòa Hưng")
PLACES = ("phường Long Xuyên", "phường Mỹ Thới", "xã Mỹ Hòa Hưng", "phường Châu Đốc", "xã Châu Thành",
          "phường Rạch Giá")
STREETS = ("Trần Hưng Đạo", "Hà Hoàng Hổ", "Nguyễn Huệ", "Lý Thái Tổ", "Tôn Đức Thắng", "Hùng Vương")

APPROVALS = ("Đồng ý.", "Thống nhất, đề nghị chuyển bước tiếp theo.", "Hồ sơ đủ điều kiện theo quy định.",
             "Đã kiểm tra, đề nghị trình ký.", "Thống nhất với ý kiến thẩm định.")
RETURNS = ("Đề nghị hoàn thiện dự thảo, bổ sung căn cứ pháp lý.", "Chưa thống nhất, đề nghị rà soát lại.",
           "Đề nghị làm rõ ý kiến của cơ quan có liên quan.")
CLERICAL = ("Đã vào sổ, chuyển xử lý.", "Đã tiếp nhận, chuyển bộ phận chuyên môn.", "Đã phát hành.")


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def applicant(rng: random.Random) -> dict[str, str]:
    """The receive form's applicant fields: a person, now and then an organisation."""
    name = f"{rng.choice(ORGANISATIONS)} {rng.choice(PLACES)}" if rng.random() < 0.2 else person_name(rng)
    return {
        "applicant_name": name,
        "applicant_id_number": f"0{rng.randint(89, 96)}{rng.randint(0, 999_999_999):09d}",
        "applicant_phone": f"09{rng.randint(0, 99_999_999):08d}",
        "applicant_address": f"{rng.randint(1, 400)} {rng.choice(STREETS)}, {rng.choice(PLACES)}, An Giang",
    }


def field_value(rng: random.Random, form_field: FormField, applicant_name: str, today: date):
    """A plausible value of the field's type (an enum: its first option)."""
    if form_field.options:
        return form_field.options[0][0]
    kind = (form_field.type or "string").lower()
    if kind == "boolean":
        return True
    if kind == "long":
        return rng.randint(1, 999)
    if kind == "date":
        return today.isoformat()
    name = form_field.id
    if name in ("applicant_name", "received_by"):
        return applicant_name
    if name.endswith("phone"):
        return f"09{rng.randint(0, 99_999_999):08d}"
    if name.endswith(("number", "reference")):
        return f"{rng.randint(1, 2999)}/{today.year}"
    return f"{form_field.label or name}: đã thực hiện"


def opinion(rng: random.Random, role: str | None, decision: str | None) -> str:
    if decision == "return":
        return rng.choice(RETURNS)
    if role in ("mot_cua", "van_thu"):
        return rng.choice(CLERICAL)
    return rng.choice(APPROVALS)
