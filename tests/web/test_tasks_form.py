"""web.task_form: every camunda:formData type to its widget and back to the value the engine
checks; text that cannot be read is named on its field; the engine's refusals worded per field."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from bpmn.procedure import FormField
from services.errors import ValidationError
from web import task_form

FIELDS = (
    FormField("so_ban", "Số bản", "long", required=True),
    FormField("khan", "Hồ sơ khẩn", "boolean", default="true"),
    FormField("ngay", "Ngày hẹn", "date", default="2026-11-30"),
    FormField("linh_vuc", "Lĩnh vực", "enum", options=(("a", "A"), ("b", "B"), ("c", "C"), ("d", "D"))),
    FormField("decision", "Quyết định", "enum", required=True, options=(("approve", "Đồng ý"), ("return", "Trả lại"))),
    FormField("ghi_chu", "Ghi chú", None),
    FormField("opinion", "Ý kiến thẩm định", "string", required=True),
)


@pytest.fixture
def ctx(app):
    with app.test_request_context("/"):
        yield


def test_widgets_and_defaults(ctx):
    views, opinion = task_form.build(FIELDS)
    assert [(v.id, v.widget) for v in views] == [("so_ban", "number"), ("khan", "checkbox"), ("ngay", "date"),
                                                 ("linh_vuc", "select"), ("decision", "radios"), ("ghi_chu", "text")]
    by_id = {v.id: v for v in views}
    assert by_id["khan"].checked and by_id["ngay"].value == "30/11/2026"
    assert (opinion.label, opinion.required, opinion.widget, opinion.name) == (
        "Ý kiến thẩm định", True, "textarea", "opinion")
    # Without an opinion field on the form the textarea is optional.
    _, plain = task_form.build(FIELDS[:2])
    assert plain.required is False and plain.name == "opinion"


def test_values_are_typed_for_the_engine(ctx):
    submitted = MultiDict({"f_so_ban": " 12 ", "f_ngay": "1/2/2027", "f_linh_vuc": "b", "f_decision": "approve",
                           "f_ghi_chu": "", "opinion": "  Đạt yêu cầu  "})
    views, opinion = task_form.build(FIELDS, submitted)
    data, text, ok = task_form.parse(views, opinion, submitted)
    assert ok and text == "Đạt yêu cầu"
    assert data == {"so_ban": 12, "khan": False, "ngay": "2027-02-01", "linh_vuc": "b", "decision": "approve"}
    submitted["f_khan"] = "on"
    assert task_form.parse(*task_form.build(FIELDS, submitted), submitted)[0]["khan"] is True


@pytest.mark.parametrize("field, raw, message", [
    ("so_ban", "12,5", "Số bản: nhập một số nguyên."),
    ("ngay", "2027-02-01", "Ngày hẹn: '2027-02-01' không phải là ngày dd/mm/yyyy."),
    ("ngay", "30/02/2027", "Ngày hẹn: '30/02/2027' không phải là ngày dd/mm/yyyy."),
    ("ghi_chu", "x" * 4001, "Ghi chú: tối đa 4000 ký tự."),
])
def test_unreadable_text_is_named_on_its_field(ctx, field, raw, message):
    submitted = MultiDict({f"f_{field}": raw})
    views, opinion = task_form.build(FIELDS, submitted)
    data, _, ok = task_form.parse(views, opinion, submitted)
    assert not ok and field not in data
    assert {v.id: v.error for v in views}[field] == message


def test_engine_refusals_are_worded_on_their_field(ctx):
    views, opinion = task_form.build(FIELDS)
    missing = ValidationError("%(detail)s", "decision", detail="Field 'Quyết định' (decision) is required.")
    assert task_form.attach_error(missing, views, opinion, {}, "")
    assert {v.id: v.error for v in views}["decision"] == "Quyết định là bắt buộc."
    bad = ValidationError("%(detail)s", "decision", detail="'x' is not one of the options")
    views, opinion = task_form.build(FIELDS)
    task_form.attach_error(bad, views, opinion, {"decision": "x"}, "")
    assert {v.id: v.error for v in views}["decision"] == (
        "Quyết định: 'x' không phải là một trong các lựa chọn (Đồng ý, Trả lại).")
    required_opinion = ValidationError("%(detail)s", "opinion", detail="required")
    assert task_form.attach_error(required_opinion, views, opinion, {}, "")
    assert opinion.error == "Ý kiến thẩm định là bắt buộc."
    # Anything else is said as the engine said it; a field not on the form goes to the top.
    other = ValidationError("%(detail)s", "so_ban", detail="Field 'Số bản' (so_ban): expected a whole number.")
    task_form.attach_error(other, views, opinion, {"so_ban": 3}, "")
    assert {v.id: v.error for v in views}["so_ban"] == "Field 'Số bản' (so_ban): expected a whole number."
    assert not task_form.attach_error(ValidationError("%(detail)s", "requires_vp_review", detail="no"),
                                      views, opinion, {}, "")
