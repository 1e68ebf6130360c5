"""The TTHC profile: allocation parser, legal time and cut arithmetic, roles, property reading."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from bpmn import InvalidOption, lint
from bpmn.profile import (
    ProfileValueError, legal_minutes, parse_allocation, parse_authority, parse_legal_days, parse_reduction,
    parse_step, read_properties, target_minutes,
)
from bpmn.roles import KNOWN_ROLES, normalise, role_from_lane
from bpmn.steps import Overrides
from tests.unit.bpmn.builder import FLAVOURS, base_flows, base_nodes, document, node


@pytest.mark.parametrize("text, minutes", [
    ("0", 0), ("0.0", 0), ("00", 0),
    ("4h", 240), ("0.5d", 240), ("1d4h", 720), ("30m", 30), ("90min", 90), ("1d 4h", 720),
    ("2D", 960), ("1.5h", 90), ("0,5d", 240), ("1d4h30m", 750), ("0.25d", 120), ("3d", 1440),
    ("PT4H", 240), ("P2D", 960), ("P1DT4H", 720), ("PT30M", 30), ("pt1h30m", 90), ("P0.5D", 240),
    ("PT0S", 0), ("PT90S", None), ("PT120S", 2), (" 4h ", 240), ("P1DT0H", 480),
    ("0.1h", 6), ("0.01h", None), ("0.001d", None), ("0.3d", 144),
])
def test_allocation_values(text, minutes):
    if minutes is None:
        with pytest.raises(ProfileValueError, match="whole number of minutes"):
            parse_allocation(text)
    else:
        assert parse_allocation(text) == minutes


@pytest.mark.parametrize("text", [
    "", "-1d", "-30m", "abc", "4", "1.5", "4x", "h", "d", "P", "PT", "P1W", "P1M", "P1Y", "P1DT",
    "1h1d", "4h 4h", "1e3h", "∞h", "4 giờ", "x" * 100, "1d-4h", "PT-4H", "1.2.3h", "P1D4H",
])
def test_unreadable_or_negative_allocations_are_refused(text):
    with pytest.raises(ProfileValueError):
        parse_allocation(text)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 50), st.integers(0, 7), st.integers(0, 59))
def test_compact_and_iso_forms_agree(days, hours, minutes):
    compact = f"{days}d{hours}h{minutes}m"
    iso = f"P{days}DT{hours}H{minutes}M"
    expected = days * 480 + hours * 60 + minutes
    assert parse_allocation(compact) == parse_allocation(iso) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_allocation_parser_never_raises_anything_else(text):
    try:
        assert parse_allocation(text) >= 0
    except ProfileValueError:
        pass


def test_target_is_exact_not_float():
    # In floats 3 days × 480 × (1 − 0.3) is 1007.9999999999999 and would floor to 1007.
    assert 3 * 480 * (1 - 0.3) < 1008
    assert target_minutes(legal_minutes(parse_legal_days(3)), parse_reduction(0.3)) == 1008
    assert target_minutes(legal_minutes(parse_legal_days("1.5")), parse_reduction("0.3")) == 504
    assert target_minutes(legal_minutes(parse_legal_days("10")), parse_reduction("0.3")) == 3360
    assert target_minutes(legal_minutes(parse_legal_days(10)), parse_reduction(0.3)) == 3360
    assert target_minutes(4800, parse_reduction(Decimal("0.5"))) == 2400
    assert target_minutes(1440, Fraction(3, 10)) == 1008
    assert target_minutes(legal_minutes(parse_legal_days("7,5")), parse_reduction("30%")) == 2520
    assert target_minutes(100, Fraction(1, 3)) == 66  # floor, not round


@pytest.mark.parametrize("days, minutes", [("10", 4800), ("0.5", 240), ("2.123", 1019), (3, 1440), (0.3, 144)])
def test_legal_minutes_round_down(days, minutes):
    assert legal_minutes(parse_legal_days(days)) == minutes


@pytest.mark.parametrize("value", ["0", "-1", "abc", "", "nan", "inf", True, float("nan"), "10001"])
def test_bad_legal_days(value):
    with pytest.raises(ProfileValueError):
        parse_legal_days(value)


@pytest.mark.parametrize("value, expected", [("0", 0), ("0.3", Fraction(3, 10)), ("50%", Fraction(1, 2)),
                                             (0.3, Fraction(3, 10)), ("0,5", Fraction(1, 2))])
def test_reduction_values(value, expected):
    assert parse_reduction(value) == expected


@pytest.mark.parametrize("value", ["1", "1.5", "-0.1", "100%", "abc", ""])
def test_reduction_must_be_at_least_0_and_below_1(value):
    with pytest.raises(ProfileValueError):
        parse_reduction(value)


def test_authority_and_step_are_normalised():
    assert parse_authority("Chủ tịch UBND tỉnh") == "chu_tich_ubnd_tinh"
    assert parse_authority("ubnd_tinh") == "ubnd_tinh"
    assert parse_step("VP-Review") == "vp_review"
    assert parse_step(" chairman approval ") == "chairman_approval"
    with pytest.raises(ProfileValueError):
        parse_step("vp_reveiw")
    with pytest.raises(ProfileValueError):
        parse_authority("!!!")


def test_overrides_name_the_bad_option():
    with pytest.raises(InvalidOption) as caught:
        Overrides.parse(reduction="1.2")
    assert caught.value.option == "reduction"
    with pytest.raises(InvalidOption):
        lint(b"", legal_days="-3")
    assert Overrides.parse(legal_days="10", authority="UBND tỉnh", reduction="0.5") == Overrides(
        Fraction(10), "ubnd_tinh", Fraction(1, 2))


@pytest.mark.parametrize("lane, role", [
    ("Chuyên viên", "chuyen_vien"), ("chuyen_vien", "chuyen_vien"), ("Lãnh đạo phòng", "lanh_dao_phong"),
    ("Lãnh đạo Sở", "lanh_dao_so"), ("LÃNH ĐẠO SỞ", "lanh_dao_so"), ("Bộ phận Một cửa", "mot_cua"),
    ("Văn thư", "van_thu"), ("Chuyên viên VP UBND", "vp_chuyen_vien"),
    ("Chuyên viên Văn phòng UBND tỉnh", "vp_chuyen_vien"), ("Lãnh đạo VP UBND", "vp_lanh_dao"),
    ("Lãnh đạo Văn phòng Ủy ban nhân dân tỉnh", "vp_lanh_dao"), ("Chủ tịch UBND tỉnh", "chu_tich"),
    ("Phó Chủ tịch", "pho_chu_tich"), ("Phó Chủ tịch UBND tỉnh", "pho_chu_tich"),
    ("Trung tâm Phục vụ hành chính công", "mot_cua"), ("  van thu  ", "van_thu"),
    ("Người dân", None), ("", None), (None, None), ("Phòng Tổ chức – Biên chế", None),
])
def test_lane_names_map_to_roles(lane, role):
    assert role_from_lane(lane) == role


def test_known_roles_are_configurable():
    assert role_from_lane("Văn thư", known_roles={"chuyen_vien"}) is None
    assert role_from_lane("thu_ky", known_roles=KNOWN_ROLES | {"thu_ky"}) == "thu_ky"
    assert normalise("Lãnh đạo Văn phòng UBND tỉnh") == "lanh_dao_vp_ubnd"


def test_configured_roles_reach_the_report():
    data = document("camunda", base_nodes(), base_flows(), {"tthc.legal_days": "5"})
    report = lint(data, known_roles={"mot_cua", "chu_tich", "vp_chuyen_vien"})
    assert [w.element for w in report.warnings] == ["Task_ThamDinh"]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_properties_are_read_from_every_flavour(flavour):
    data = document(flavour, base_nodes(), base_flows(), {"tthc.legal_days": "5"})
    root = etree.fromstring(data)
    task = root.find(".//{*}userTask[@id='Task_VP']")
    properties, conflicts = read_properties(task)
    assert properties == {"tthc.allocation": "4h", "tthc.step": "vp_review"}
    assert conflicts == {}


def test_properties_mixed_flavours_and_conflicts():
    element = etree.fromstring(
        '<bpmn:userTask xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
        'id="T"><bpmn:extensionElements>'
        '<camunda:properties><camunda:property name="tthc.allocation" value="4h"/></camunda:properties>'
        '<zeebe:properties><zeebe:property name="tthc.allocation" value="1d"/>'
        '<zeebe:property name="tthc.role" value="chuyen_vien"/></zeebe:properties>'
        "</bpmn:extensionElements></bpmn:userTask>")
    properties, conflicts = read_properties(element)
    assert properties == {"tthc.allocation": "4h", "tthc.role": "chuyen_vien"}
    assert conflicts == {"tthc.allocation": ["4h", "1d"]}


def test_conflicting_allocations_are_invalid():
    nodes = base_nodes()
    node(nodes, "Task_ThamDinh").ext = (
        '<camunda:properties><camunda:property name="tthc.allocation" value="2d"/></camunda:properties>')
    report = lint(document("camunda", nodes, base_flows(), {"tthc.legal_days": "5",
                                                            "tthc.authority": "chu_tich_ubnd_tinh"}))
    assert [(e.code, e.element) for e in report.errors] == [("ALLOCATION_INVALID", "Task_ThamDinh")]


def test_process_properties_may_sit_on_the_participant():
    data = document("camunda", base_nodes(), base_flows(), {})
    data = data.replace(b'name="UBND t\xe1\xbb\x89nh" processRef="Process_1"/>',
                        b'name="UBND" processRef="Process_1"><bpmn:extensionElements><camunda:properties>'
                        b'<camunda:property name="tthc.legal_days" value="5"/></camunda:properties>'
                        b"</bpmn:extensionElements></bpmn:participant>")
    report = lint(data)
    assert report.budget.legal_minutes == 2400 and report.ok


def test_invalid_process_values_are_named():
    props = {"tthc.legal_days": "năm", "tthc.reduction": "1.5", "tthc.authority": "chu_tich_ubnd_tinh"}
    report = lint(document("spiff", base_nodes(), base_flows(), props))
    assert sorted((e.code, e.element) for e in report.errors) == [
        ("BPMN_INVALID", "Process_1"), ("LEGAL_TIME_MISSING", "Process_1")]
    assert report.exit_code == 2
    nodes = base_nodes()
    node(nodes, "Task_VP").props["tthc.step"] = "vp_reveiw"
    report = lint(document("spiff", nodes, base_flows(), {"tthc.legal_days": "5"}))
    assert [(e.code, e.element) for e in report.errors] == [("BPMN_INVALID", "Task_VP")]
    assert "vp_reveiw" in report.errors[0].message.render("vi")


def test_overrides_win_over_the_file():
    data = document("zeebe", base_nodes(), base_flows(), {"tthc.legal_days": "1", "tthc.reduction": "0.9"})
    report = lint(data, legal_days="5", reduction="0.3", authority="so")
    assert (report.budget.legal_minutes, report.budget.target_minutes) == (2400, 1680)
    assert report.authority == "so" and report.reduction == "0.3" and report.ok


def test_camunda_form_fields_are_kept():
    nodes = base_nodes()
    node(nodes, "Task_VP").ext = (
        '<camunda:formData><camunda:formField id="decision" label="Kết quả" type="enum">'
        '<camunda:validation><camunda:constraint name="required"/></camunda:validation>'
        '<camunda:value id="approve" name="Đồng ý"/><camunda:value id="return" name="Trả lại"/>'
        '</camunda:formField><camunda:formField id="opinion" label="Ý kiến" type="string"/></camunda:formData>')
    procedure = lint(document("camunda", nodes, base_flows(), {"tthc.legal_days": "5"})).procedure
    fields = procedure.tasks["Task_VP"].form_fields
    assert [(f.id, f.type, f.required) for f in fields] == [("decision", "enum", True), ("opinion", "string", False)]
    assert fields[0].options == (("approve", "Đồng ý"), ("return", "Trả lại"))


@pytest.mark.parametrize("value", ["1e-999999999", "1e999999999", "5e+99999999"])
def test_a_huge_exponent_is_refused_at_once_not_computed(value):
    """Read exactly, 1e-999999999 would mean building 10**999999999 (minutes of CPU)."""
    import time

    started = time.perf_counter()
    for parse in (parse_reduction, parse_legal_days):
        with pytest.raises(ProfileValueError):
            parse(value)
    report = lint(document("camunda", base_nodes(), base_flows(),
                           {"tthc.legal_days": "5", "tthc.reduction": value}))
    assert "BPMN_INVALID" in report.codes()
    assert time.perf_counter() - started < 5
