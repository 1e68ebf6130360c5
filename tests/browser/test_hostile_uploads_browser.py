"""No uploaded script runs when an administrator opens a diagram link (issue #11, finding 1), in Chromium.

A designer's hostile uploads — an XHTML page (unreadable: not kept), a policy-failing BPMN and a
lint-clean, approved and published BPMN, each with an XHTML <script> in its extension elements —
carry the attack that was seen: read a CSRF token from the admin pages, grant the admin role to
another account. The administrator (and the auditor, for the dossier) opens every URL that serves
those files, directly and through the pages. The script would call /__xss__/… and set the title;
neither happens, the victim is no administrator, and the diagram pages still draw the diagram.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests import hostile_uploads as hostile
from tests.browser.conftest import screenshot

VICTIM = "motcua"
CHAIRMAN_PROCEDURE = "1.003822"


@pytest.fixture(scope="module")
def hostile_versions(live_server):
    """The hostile versions, uploaded through the same service as the upload form, on the live database."""
    from services import dossiers, procedures
    from services.db import tune_sqlite
    from services.models import OrgUnit, RoleAssignment
    from tests.dossier_helpers import procedure, user

    engine = create_engine(live_server.db_url)
    tune_sqlite(engine)
    with Session(engine) as session:
        designer, chairman = user(session, "thietke"), user(session, "chutich")
        victim, admin = user(session, VICTIM), user(session, "admin")
        admin_unit = session.scalar(select(RoleAssignment.org_unit_id).where(
            RoleAssignment.user_id == admin.id, RoleAssignment.role_code == "admin"))
        script = hostile.attack_script("{label}", victim.id, admin_unit)

        def upload(procedure_id: int, label: str, data: bytes) -> int:
            data = data.replace(b"{label}", label.encode())
            return procedures.upload_version(session, designer, procedure_id, filename=f"{label}.bpmn", data=data).id

        agency = session.scalar(select(OrgUnit).where(OrgUnit.code == "H01.15"))
        own = procedures.create_procedure(session, designer, code=hostile.XSS_CODE, name="Thủ tục thử tấn công",
                                          authority="so", agency_id=agency.id)
        chairman_procedure = procedure(session, CHAIRMAN_PROCEDURE).id
        ids = {
            "xhtml": upload(own.id, "xhtml", hostile.xhtml_page(script)),
            "failing": upload(chairman_procedure, "failing", hostile.policy_failing_with_script(script)),
            "clean": upload(own.id, "clean", hostile.lint_clean_with_script(script)),
        }
        procedures.submit_version(session, designer, ids["clean"])
        procedures.decide_version(session, chairman, ids["clean"], decision="approve", note="Đồng ý.")
        procedures.publish_version(session, designer, ids["clean"])
        dossier = dossiers.receive(session, victim, procedure_id=own.id, applicant_name="Công ty Thử nghiệm")
        result = {"ids": ids, "dossier": dossier.code, "victim": victim.id}
    engine.dispose()
    return result


def _victim_roles(live_server, victim_id: int) -> set[str]:
    from services.models import RoleAssignment

    engine = create_engine(live_server.db_url)
    with Session(engine) as session:
        roles = set(session.scalars(select(RoleAssignment.role_code).where(RoleAssignment.user_id == victim_id)))
    engine.dispose()
    return roles


class ScriptWatch:
    """Every call a hostile script makes to /__xss__/, from any page of the browser context."""

    def __init__(self, context):
        self.calls: list[str] = []
        context.route(f"**{hostile.MARK_PATH}**", self._record)

    def _record(self, route):
        self.calls.append(route.request.url)
        route.fulfill(status=204, body="")


def _open_directly(page, url: str):
    """Navigate to *url* as a user following a link: 'download', or the status of the page shown."""
    downloads, status = [], None

    def on_download(download):
        downloads.append(download)

    page.on("download", on_download)
    try:
        response = page.goto(url)
        status = response.status if response else None
    except PlaywrightError as exc:
        if "Download is starting" not in str(exc):  # Chromium turns an attachment into a download
            raise
    page.wait_for_timeout(400)  # a script that ran would have called out by now
    page.remove_listener("download", on_download)
    for download in downloads:
        download.cancel()
    return "download" if downloads else status


def test_no_script_runs_from_any_diagram_link(new_page, live_server, hostile_versions):
    ids, code = hostile_versions["ids"], hostile_versions["dossier"]
    before = _victim_roles(live_server, hostile_versions["victim"])
    admin, auditor = new_page("admin"), new_page("thanhtra")
    watches = [ScriptWatch(admin.context), ScriptWatch(auditor.context)]

    outcomes = {}
    for name, version_id in ids.items():
        for url in (f"/designer/versions/{version_id}/bpmn", f"/designer/versions/{version_id}/diagram.bpmn",
                    f"/reports/versions/{version_id}/diagram.bpmn"):
            outcomes[url] = _open_directly(admin, url)
            assert "XSS" not in admin.title(), url
    outcomes[f"/dossiers/{code}/bpmn"] = _open_directly(auditor, f"/dossiers/{code}/bpmn")

    # Through the pages: the version pages (diagram drawn, download link), the heatmap, the dossier.
    for name in ("failing", "clean"):
        admin.goto(f"/designer/versions/{ids[name]}")
        admin.wait_for_selector("#diagram[data-qt-rendered=true] .djs-element")
        assert admin.locator("#diagram .djs-element").count() > 5
    with admin.expect_download() as download:
        admin.get_by_role("link", name="tải về").click()
    download.value.cancel()
    admin.goto(f"/designer/versions/{ids['xhtml']}")
    assert admin.get_by_role("link", name="tải về").count() == 0 and admin.locator("#diagram").count() == 0
    admin.goto(f"/reports/heatmap?version={ids['clean']}")
    admin.wait_for_selector("#heat-diagram[data-qt-rendered=true] .djs-element")
    auditor.goto(f"/dossiers/{code}")
    auditor.wait_for_selector("#dossier-diagram[data-rendered='1'] .djs-element")
    screenshot(auditor, "hostile-dossier-diagram")
    admin.wait_for_timeout(400)

    assert [call for watch in watches for call in watch.calls] == []
    assert "XSS" not in admin.title() and "XSS" not in auditor.title()
    assert _victim_roles(live_server, hostile_versions["victim"]) == before and "admin" not in before
    # What each URL answered: downloads, and nothing at all of the unreadable upload.
    v = ids
    assert outcomes == {
        f"/designer/versions/{v['xhtml']}/bpmn": 404, f"/designer/versions/{v['xhtml']}/diagram.bpmn": 404,
        f"/reports/versions/{v['xhtml']}/diagram.bpmn": 404,
        f"/designer/versions/{v['failing']}/bpmn": 404, f"/designer/versions/{v['failing']}/diagram.bpmn": "download",
        f"/reports/versions/{v['failing']}/diagram.bpmn": "download",
        f"/designer/versions/{v['clean']}/bpmn": "download", f"/designer/versions/{v['clean']}/diagram.bpmn": "download",
        f"/reports/versions/{v['clean']}/diagram.bpmn": "download", f"/dossiers/{code}/bpmn": "download",
    }
