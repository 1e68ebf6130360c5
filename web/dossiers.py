"""The dossier page (trang hồ sơ): summary, timeline of steps, and the diagram with where it stands.

Open to the officials who hold or held one of its steps, its receiving desk, its agency's leaders
and the auditors (services.dossier_view.can_view); 403 for anyone else.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import get_locale, lazy_gettext as _l
from flask_login import current_user, login_required

from bpmn.i18n import format_minutes
from engine.calendar import TIMEZONE
from services import dossier_view
from services.dossiers.common import utcnow
from services.models import Dossier
from services.models.dossiers import CLOCK_STOPPED, DONE, OPEN_STATUSES
from web import serving
from web.extensions import db
from web.forms import ActionForm

bp = Blueprint("dossiers", __name__, url_prefix="/dossiers")

STATUS_LABELS = {
    "received": _l("Received"), "processing": _l("Processing"),
    "waiting_supplement": _l("Waiting for supplement"), "paused": _l("Paused (financial obligation)"),
    "withdrawn": _l("Withdrawn"), "rejected": _l("Rejected"), "done": _l("Result ready"),
    "returned": _l("Result returned"),
}
WARNING_LABELS = {"within": (_l("Within time"), "green"), "nearly_due": (_l("Nearly due"), "amber"),
                  "overdue": (_l("Overdue"), "red"),
                  # sla.UNKNOWN: a stored due date outside the working calendar's years
                  "unknown": (_l("Due date out of the calendar's range"), "grey")}
RESULT_LABELS = {"early": _l("Early"), "on_time": _l("On time"), "late": _l("Late")}


def minutes_text(minutes: int | None) -> str:
    """Working time in days/hours/minutes (1 day = 8 working hours), in the page's language."""
    if minutes is None:
        return ""
    text = format_minutes(abs(minutes), str(get_locale() or "vi"))
    return f"-{text}" if minutes < 0 else text


@bp.app_context_processor
def _helpers():
    return {"dossier_status_label": lambda s: STATUS_LABELS.get(s, s),
            "warning_badge": lambda w: WARNING_LABELS.get(w, (w, "grey")),
            "result_label": lambda r: RESULT_LABELS.get(r, r or ""),
            "working_time": minutes_text}


def viewable(code: str) -> Dossier:
    """The dossier, or 404 when no such code, 403 when the current user may not see it."""
    dossier = dossier_view.by_code(db.session, code)
    if dossier is None:
        abort(404)
    if not dossier_view.can_view(current_user._get_current_object(), dossier):
        abort(403)
    return dossier


@bp.get("/<code>")
@login_required
def show(code: str):
    dossier = viewable(code)
    now = utcnow()
    version = dossier_view.version_of(db.session, dossier)
    me = current_user._get_current_object()
    at_desk = me.has_role("mot_cua", dossier.desk_id)
    return render_template(
        "dossiers/show.html", dossier=dossier, version=version,
        rows=dossier_view.timeline(db.session, dossier, now),
        progress=dossier_view.progress(db.session, [dossier], now).get(dossier.id),
        markers=dossier_view.diagram_markers(dossier, version),
        supplements=dossier_view.supplements(db.session, dossier.id),
        apology=dossier_view.apology(db.session, dossier.id),
        at_desk=at_desk, return_step=dossier_view.return_step(dossier),
        receive_step=dossier_view.receive_step(dossier),
        is_open=dossier.status in OPEN_STATUSES, stopped=dossier.status in CLOCK_STOPPED,
        can_hand_over=dossier.status == DONE and dossier_view.return_step(dossier) is None
        and not any(s.status in ("ready", "claimed") for s in dossier.steps),
        action_form=ActionForm(), tz=TIMEZONE)


@bp.get("/<code>/bpmn")
@login_required
def bpmn(code: str):
    """The BPMN of the version the dossier runs on, for the diagram."""
    dossier = viewable(code)
    version = dossier_view.version_of(db.session, dossier)
    return serving.version_diagram(version, name=f"{dossier.code}.bpmn")
