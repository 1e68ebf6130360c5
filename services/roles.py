"""The role catalogue (danh mục vai trò) of DESIGN.md's user table."""
from __future__ import annotations

# (code, Vietnamese name, English name). Migrations seed a frozen copy of this list.
ROLES: list[tuple[str, str, str]] = [
    ("designer", "Người thiết kế quy trình", "Process designer"),
    ("mot_cua", "Công chức Bộ phận Một cửa", "One-stop desk officer"),
    ("chuyen_vien", "Chuyên viên", "Specialist"),
    ("lanh_dao_phong", "Lãnh đạo phòng", "Head of division"),
    ("lanh_dao_so", "Lãnh đạo Sở", "Department director"),
    ("van_thu", "Văn thư", "Records clerk"),
    ("vp_chuyen_vien", "Chuyên viên Văn phòng UBND tỉnh", "Provincial Office specialist"),
    ("vp_lanh_dao", "Lãnh đạo Văn phòng UBND tỉnh", "Provincial Office leader"),
    ("chu_tich", "Chủ tịch UBND tỉnh", "Chairman of the Provincial People's Committee"),
    ("pho_chu_tich", "Phó Chủ tịch UBND tỉnh", "Vice-chairman of the Provincial People's Committee"),
    ("auditor", "Thanh tra, kiểm soát TTHC", "Auditor"),
    ("admin", "Quản trị hệ thống", "Administrator"),
]
ROLE_CODES = frozenset(code for code, _, _ in ROLES)
OFFICIAL_ROLES = ROLE_CODES - {"designer", "auditor", "admin"}
