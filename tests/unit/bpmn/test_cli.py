"""`quytrinh lint`: exit codes, --json, overrides, --lang, unreadable paths (click's CliRunner)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.unit.bpmn.builder import BASE_MINUTES, BASE_PATH, base, base_nodes, base_flows, document, node
from web.commands.lint import lint_command


@pytest.fixture(autouse=True)
def no_database(tmp_path, monkeypatch):
    """The linter reads the province's minimum from the database when there is one; here there
    is none (an app made by an earlier test may have left QUYTRINH_INSTANCE_PATH behind)."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'nothing-here.db'}")


@pytest.fixture
def write(tmp_path):
    def _write(data: bytes, name: str = "quy_trinh.bpmn"):
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)
    return _write


def _run(*args):
    return CliRunner().invoke(lint_command, list(args))


def test_compliant_file_exits_0_with_a_vietnamese_summary(write):
    result = _run(write(base("camunda")))
    assert result.exit_code == 0, result.output
    assert "Kết quả: ĐẠT" in result.output
    assert "Mục tiêu sau cắt giảm: 3 ngày 4 giờ (1680 phút)" in result.output
    assert "Đã phân bổ trên đường dài nhất: 2 ngày 2 giờ (1080 phút)" in result.output
    assert "Đường găng: Hồ sơ đến → Tiếp nhận hồ sơ → Thẩm định hồ sơ" in result.output


def test_json_is_one_object_with_the_contract(write):
    result = _run("--json", write(base("zeebe")))
    assert result.exit_code == 0
    payload = json.loads(result.output)
    assert {"ok", "errors", "warnings", "budget"} <= set(payload)
    assert payload["ok"] is True and payload["errors"] == [] and payload["warnings"] == []
    assert payload["budget"] == {"legal_minutes": 2400, "target_minutes": 1680,
                                 "allocated_minutes": BASE_MINUTES, "critical_path": BASE_PATH}
    assert payload["tasks"]["Task_ThamDinh"]["allocation_minutes"] == 480


def test_policy_violation_exits_1(write):
    nodes = base_nodes()
    node(nodes, "Task_ThamDinh").props = {}
    path = write(document("spiff", nodes, base_flows(), {"tthc.legal_days": "5"}))
    result = _run("--json", path)
    assert result.exit_code == 1
    error = json.loads(result.output)["errors"][0]
    assert error == {"code": "ALLOCATION_MISSING", "element": "Task_ThamDinh",
                     "message": "Bước 'Thẩm định hồ sơ' (Task_ThamDinh) chưa có thời gian thực hiện (tthc.allocation)."}
    english = json.loads(_run("--json", "--lang", "en", path).output)["errors"][0]["message"]
    assert english == "Step 'Thẩm định hồ sơ' (Task_ThamDinh) has no working time allotted (tthc.allocation)."
    text = _run("--lang", "en", path)
    assert text.exit_code == 1 and "Result: policy violations" in text.output


def test_invalid_input_exits_2(write):
    result = _run("--json", write(b"<html><body>hi</body></html>", "page.bpmn"))
    assert result.exit_code == 2
    payload = json.loads(result.output)
    assert payload["ok"] is False and payload["errors"][0]["code"] == "BPMN_INVALID"
    assert payload["budget"]["allocated_minutes"] is None


def test_unreadable_path_exits_2_with_a_clear_message(tmp_path):
    missing = tmp_path / "khong_co.bpmn"
    result = _run(str(missing))
    assert result.exit_code == 2
    assert "Không đọc được tệp" in result.output and "khong_co.bpmn" in result.output
    result = _run("--json", "--lang", "en", str(tmp_path))
    assert result.exit_code == 2
    assert json.loads(result.output)["errors"][0]["message"].startswith("Cannot read the file")


def test_overrides(write):
    props = {"tthc.authority": "chu_tich_ubnd_tinh"}
    path = write(document("camunda", base_nodes(), base_flows(), props))
    assert _run(path).exit_code == 1  # no legal time
    result = _run("--json", "--legal-days", "2", "--reduction", "0.5", path)
    payload = json.loads(result.output)
    assert payload["budget"]["legal_minutes"] == 960 and payload["budget"]["target_minutes"] == 480
    assert [e["code"] for e in payload["errors"]] == ["TIME_BUDGET_EXCEEDED"]
    assert _run("--legal-days", "5", "--reduction", "30%", path).exit_code == 0
    nodes = base_nodes()
    del node(nodes, "Task_VP").props["tthc.step"]
    path = write(document("camunda", nodes, base_flows(), {"tthc.legal_days": "5"}), "no_vp.bpmn")
    assert _run(path).exit_code == 0
    result = _run("--json", "--authority", "ubnd_tinh", path)
    assert [e["code"] for e in json.loads(result.output)["errors"]] == ["VP_REVIEW_MISSING"]


@pytest.mark.parametrize("cut", ["0", "0%", "1e-300", "0.29"])
def test_a_cut_below_the_minimum_exits_1_with_its_code(write, tmp_path, cut):
    path = write(base("camunda"))
    result = _run("--reduction", cut, path)
    assert result.exit_code == 1
    assert "REDUCTION_BELOW_POLICY" in result.output and "mức tối thiểu của tỉnh 30%" in result.output
    payload = json.loads(_run("--json", "--lang", "en", "--reduction", cut, path).output)
    assert [e["code"] for e in payload["errors"]] == ["REDUCTION_BELOW_POLICY"]
    assert payload["policy"]["min_reduction"] == "0.3" and payload["policy"]["year"] >= 2025
    assert payload["overrides"] == [{"property": "tthc.reduction", "file": "0.3", "given": payload["process"]["reduction"]}]
    assert not (tmp_path / "nothing-here.db").exists()  # a missing database is never created
    assert _run("--reduction", "0.3", path).exit_code == 0


@pytest.mark.parametrize("option, value", [
    ("--reduction", "1"), ("--reduction", "-0.1"), ("--reduction", "abc"), ("--legal-days", "0"),
    ("--legal-days", "mười"), ("--authority", "!!"), ("--lang", "fr"), ("--max-bytes", "0"),
])
def test_bad_options_are_usage_errors(write, option, value):
    result = _run(option, value, write(base("camunda")))
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_bad_option_message_follows_the_language(write):
    path = write(base("camunda"))
    assert "nhỏ hơn 1" in _run("--reduction", "1.5", path).output
    assert "less than 1" in _run("--lang", "en", "--reduction", "1.5", path).output


def test_max_bytes(write):
    data = base("camunda")
    path = write(data)
    assert _run("--max-bytes", str(len(data)), path).exit_code == 0
    result = _run("--json", "--max-bytes", str(len(data) - 1), path)
    assert result.exit_code == 2
    assert json.loads(result.output)["errors"][0]["code"] == "XML_UNSAFE"


def test_registered_in_the_quytrinh_command():
    from web.cli import cli
    assert cli.get_command(None, "lint") is lint_command
