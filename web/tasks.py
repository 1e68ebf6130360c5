"""The task page (xử lý hồ sơ): a step of a dossier — its summary, documents, the step's form, the
opinion (ý kiến) — and the actions on it: claim, unclaim, complete, then what comes next.

Only the holders of the step's role in the step's org unit may open the page or act on it (403
otherwise); the services check again. A completion is one service call (one transaction): a
refused field comes back next to the field, a stale page (the step completed meanwhile) gets the
Conflict message at the top, and nothing is saved in either case.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import load_only

from services import dossiers
from services.assignment import may_perform
from services.calendar import current_calendar
from services.documents import ALLOWED_LABEL, DEFAULT_MAX_BYTES, documents_of, human_size
from services.dossiers.common import runtime, utcnow
from services.errors import Conflict, ValidationError
from services.models import Dossier, DossierStep, ProcedureVersion
from services.models.dossiers import CLOCK_STOPPED, DONE, OPEN_STATUSES, STEP_COMPLETED, STEP_OPEN
from services.roles import OFFICIAL_ROLES
from web import task_form
from web.auth import role_required
from web.extensions import db
from web.inbox import deadline, row_context
from web.safe_redirect import local_path

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


def get_step(step_id: int) -> DossierStep:
    """The step, or 404; 403 unless the current user holds its role in its org unit."""
    step = db.session.get(DossierStep, step_id)
    if step is None:
        abort(404)
    if not may_perform(current_user._get_current_object(), step.role, step.org_unit_id):
        abort(403)
    return step


def max_document_bytes(app_config) -> int:
    """The documents' size limit: its own setting, else the app's upload limit
    (QUYTRINH_MAX_UPLOAD_BYTES, 20 MB by default)."""
    return int(app_config.get("QUYTRINH_DOCUMENT_MAX_BYTES") or app_config.get("MAX_CONTENT_LENGTH")
               or DEFAULT_MAX_BYTES)


def _form_fields(step: DossierStep):
    # The runtime is cached per version: the BPMN text is only read (deferred) on a cache miss.
    version = db.session.get(ProcedureVersion, step.dossier.version_id,
                             options=[load_only(ProcedureVersion.id, ProcedureVersion.bpmn_sha256)])
    return runtime(version).human_task(step.spec_id).form_fields


def _known(dossier: Dossier) -> dict:
    """What the dossier already says, to prefill same-named form fields (the receive step's)."""
    return {name: getattr(dossier, name) for name in
            ("applicant_name", "applicant_id_number", "applicant_phone", "applicant_email", "applicant_address")}


def render_task(step: DossierStep, *, views=None, opinion=None, top_errors=(), upload_error: str | None = None,
                status: int = 200):
    """The task page; `views`/`opinion` carry what was typed and the errors when it comes back."""
    from flask import current_app

    dossier = step.dossier
    if views is None:
        views, opinion = task_form.build(_form_fields(step), known=_known(dossier))
    user = current_user._get_current_object()
    now = utcnow()
    is_open = step.status in STEP_OPEN
    running = (dossier.status in OPEN_STATUSES and dossier.status not in CLOCK_STOPPED) or (
        dossier.status == DONE and step.step == "return_result")
    mine_or_free = step.assignee_id in (None, user.id)
    page = render_template(
        "tasks/show.html", step=step, dossier=dossier, fields=views, opinion=opinion,
        top_errors=list(top_errors), upload_error=upload_error, documents=documents_of(db.session, dossier.id),
        deadline=deadline(step, now, current_calendar(db.session)),
        is_open=is_open, can_complete=is_open and running and mine_or_free, running=running,
        max_upload=human_size(max_document_bytes(current_app.config)), allowed_types=ALLOWED_LABEL,
        human_size=human_size, accept=".pdf,.jpg,.jpeg,.png,.docx,.xlsx,.odt")
    return page, status


@bp.get("/<int:step_id>")
@role_required(*OFFICIAL_ROLES)
def show(step_id: int):
    return render_task(get_step(step_id))


@bp.post("/<int:step_id>/complete")
@role_required(*OFFICIAL_ROLES)
def complete(step_id: int):
    step = get_step(step_id)
    views, opinion = task_form.build(_form_fields(step), request.form)
    data, opinion_text, ok = task_form.parse(views, opinion, request.form)
    if not ok:
        return render_task(step, views=views, opinion=opinion, status=400)
    try:
        dossiers.complete(db.session, current_user._get_current_object(), step_id, data, opinion=opinion_text)
    except Conflict as exc:
        # The page was stale: say so at the top, show the step as it is now.
        return render_task(db.session.get(DossierStep, step_id), top_errors=[_(exc.template, **exc.params)],
                           status=409)
    except ValidationError as exc:
        step = db.session.get(DossierStep, step_id)
        top = [] if task_form.attach_error(exc, views, opinion, data, opinion_text) else [
            _(exc.template, **exc.params)]
        return render_task(step, views=views, opinion=opinion, top_errors=top, status=400)
    flash(_("Step '%(name)s' is completed.", name=step.name or step.spec_id), "success")
    return redirect(url_for("tasks.done", step_id=step_id), 303)


@bp.get("/<int:step_id>/done")
@role_required(*OFFICIAL_ROLES)
def done(step_id: int):
    """After a completion: the step(s) the dossier went to and who holds them."""
    step = db.session.get(DossierStep, step_id)
    if step is None:
        abort(404)
    user = current_user._get_current_object()
    if step.completed_by_id != user.id and not may_perform(user, step.role, step.org_unit_id):
        abort(403)
    if step.status != STEP_COMPLETED:
        return redirect(url_for("tasks.show", step_id=step_id))
    open_steps = db.session.scalars(select(DossierStep).where(
        DossierStep.dossier_id == step.dossier_id, DossierStep.status.in_(STEP_OPEN)).order_by(DossierStep.id)).all()
    opened_now = [s for s in open_steps if s.started_at == step.completed_at]
    still_open = [s for s in open_steps if s not in opened_now]
    return render_template("tasks/done.html", step=step, dossier=db.session.get(Dossier, step.dossier_id),
                           opened_now=opened_now, still_open=still_open,
                           may_open=lambda s: may_perform(user, s.role, s.org_unit_id))


def _claim_action(step_id: int, action, message):
    step = get_step(step_id)
    back = local_path(request.form.get("next")) or url_for("tasks.show", step_id=step_id)
    htmx = request.headers.get("HX-Request") == "true"
    try:
        action(db.session, current_user._get_current_object(), step_id)
    except (Conflict, ValidationError) as exc:
        flash(_(exc.template, **exc.params), "error")
        if htmx:
            # Someone else moved first: reload the whole inbox so the message and the rows are current.
            response = make_response("", 200)
            response.headers["HX-Refresh"] = "true"
            return response
        return redirect(back, 303)
    step = db.session.get(DossierStep, step_id)
    if htmx:
        return render_template("inbox/_row.html", step=step, **row_context(back))
    flash(message(step.name or step.spec_id), "success")
    return redirect(back, 303)


@bp.post("/<int:step_id>/claim")
@role_required(*OFFICIAL_ROLES)
def claim(step_id: int):
    return _claim_action(step_id, dossiers.claim,
                         lambda name: _("You have claimed step '%(name)s'.", name=name))


@bp.post("/<int:step_id>/unclaim")
@role_required(*OFFICIAL_ROLES)
def unclaim(step_id: int):
    return _claim_action(step_id, dossiers.unclaim,
                         lambda name: _("You have released step '%(name)s'.", name=name))
