"""Report pages: who sees them, the figures on the page, validation, the chart, the heatmap."""
from __future__ import annotations

import json
import re

import pytest

from services import dossiers
from tests.conftest import login
from tests.dossier_helpers import drive, form_data, open_steps, performer, procedure, user, vn


@pytest.fixture
def october(db_session):
    """Two dossiers of 1.003822 (Sở Nội vụ): one finished exactly at its due minute, one open."""
    officer = user(db_session, "motcua")
    proc = procedure(db_session, "1.003822")
    done = dossiers.receive(db_session, officer, procedure_id=proc.id, applicant_name="A",
                            received_at=vn(2026, 10, 1, 7), now=vn(2026, 10, 1, 7))
    drive(db_session, done.id, start=vn(2026, 10, 1, 7), until="Task_VanThuUBND")
    step = open_steps(db_session, done.id)[0]
    dossiers.complete(db_session, performer(db_session, step), step.id, form_data(db_session, step),
                      now=vn(2026, 10, 9, 17))
    dossiers.receive(db_session, officer, procedure_id=proc.id, applicant_name="B",
                     received_at=vn(2026, 10, 2, 7), now=vn(2026, 10, 2, 7))
    return done


@pytest.mark.parametrize("path", ["/reports/", "/reports/compliance", "/reports/heatmap"])
def test_anonymous_goes_to_login(client, path):
    assert client.get(path).status_code == 302


@pytest.mark.parametrize("username", ["chuyenvien", "motcua", "thietke", "vanthu.so"])
@pytest.mark.parametrize("path", ["/reports/", "/reports/compliance", "/reports/heatmap",
                                  "/reports/versions/1/diagram.bpmn"])
def test_officials_without_a_report_role_are_refused(client, username, path):
    login(client, username)
    assert client.get(path).status_code == 403


def _cells(html: str, label: str) -> list[str]:
    row = re.search(r"<tr><td><code>" + re.escape(label) + r"</code>.*?</tr>", html, re.S)
    assert row, label
    return re.findall(r'<td class="num[^"]*">([^<]*)</td>', row.group(0))


def test_october_figures_on_the_page(client, october):
    login(client, "thanhtra")
    html = client.get("/reports/?month=10/2026").get_data(as_text=True)
    # received, early, on time, late, finished, within, nearly due, overdue, stopped, rate
    cells = _cells(html, "H01.21")
    assert cells[:5] == ["2", "0", "1", "0", "1"]
    assert sum(int(c) for c in cells[5:9]) == 1  # the open one, classified now
    assert cells[9].strip() == "100.0 %"
    by_procedure = client.get("/reports/?month=10/2026&group=procedure").get_data(as_text=True)
    assert _cells(by_procedure, "1.003822")[:5] == ["2", "0", "1", "0", "1"]


def test_the_trend_chart_is_inline_svg(client, october):
    login(client, "thanhtra")
    html = client.get("/reports/?month=11/2026").get_data(as_text=True)
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing from a CDN
    assert "10/26" in svg and "11/26" in svg and "12/25" in svg  # twelve months up to the period's
    assert svg.count('class="bar-received"') == 12


def test_a_director_sees_their_own_agency_only(client, october):
    login(client, "lanhdaoso.noivu")
    html = client.get("/reports/?month=10/2026").get_data(as_text=True)
    assert _cells(html, "H01.21")[0] == "2"
    other = client.application.test_client()
    login(other, "lanhdaoso")  # Sở Xây dựng
    html = other.get("/reports/?month=10/2026").get_data(as_text=True)
    assert "H01.21" not in html
    response = other.get(f"/reports/?month=10/2026&agency={october.agency_id}")
    assert response.status_code == 403


@pytest.mark.parametrize("username", ["chutich", "phochutich", "vp.lanhdao", "admin"])
def test_province_leaders_see_everything(client, october, username):
    login(client, username)
    assert _cells(client.get("/reports/?month=10/2026").get_data(as_text=True), "H01.21")[0] == "2"


@pytest.mark.parametrize("args,field,message", [
    ("month=13/2026", "r-month", "không phải là tháng hợp lệ"),
    ("from=31/02/2026&to=01/03/2026", "r-from", "không phải là ngày hợp lệ"),
    ("from=02/10/2026&to=01/10/2026", "r-to", "Ngày kết thúc phải sau ngày bắt đầu"),
    ("from=01/10/2026", "r-to", "cả ngày bắt đầu và ngày kết thúc"),
])
def test_bad_periods_are_named_next_to_their_field(client, args, field, message):
    login(client, "thanhtra")
    for path in ("/reports/", "/reports/compliance"):
        response = client.get(f"{path}?{args}")
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert f'id="{field}-error"' in html and message in html


def test_compliance_page(client, october):
    login(client, "thanhtra")
    html = client.get("/reports/compliance?month=10/2026").get_data(as_text=True)
    row = re.search(r"<tr><td><code>1\.003822</code>.*?</tr>", html, re.S).group(0)
    assert "3360 phút" in row  # the target, and the actual time of the dossier finished at its due minute
    assert "1 (100.0 %)" in row


def test_heatmap_page_and_its_diagram(client, october):
    login(client, "thanhtra")
    html = client.get(f"/reports/heatmap?version={october.version_id}").get_data(as_text=True)
    assert "js/diagram.js" in html and "js/reports.js" in html
    data = json.loads(re.search(r'<script type="application/json" id="heat-data">(.*?)</script>', html, re.S).group(1))
    first = next(s for s in data if s["spec_id"] == "Task_TiepNhan")
    assert (first["count"], first["median"], first["p90"]) == (1, 30, 30)
    diagram = client.get(f"/reports/versions/{october.version_id}/diagram.bpmn")
    assert diagram.status_code == 200 and diagram.mimetype == "application/xml"
    assert b"Task_TiepNhan" in diagram.data
    assert client.get("/reports/versions/999999/diagram.bpmn").status_code == 404


def test_heatmap_is_scoped(client, october):
    login(client, "lanhdaoso")  # Sở Xây dựng: not the Sở Nội vụ's procedure
    assert client.get(f"/reports/versions/{october.version_id}/diagram.bpmn").status_code == 404
    assert client.get(f"/reports/heatmap?version={october.version_id}").status_code == 404


def test_english_pages(client, october):
    login(client, "thanhtra")
    client.get("/lang/en")
    assert "Progress and results of dossiers" in client.get("/reports/?month=10/2026").get_data(as_text=True)
    assert "Processing time against the cut target" in client.get("/reports/compliance").get_data(as_text=True)
    assert "Time used per step" in client.get("/reports/heatmap").get_data(as_text=True)
