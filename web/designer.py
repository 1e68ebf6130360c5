"""Designer pages (thiết kế quy trình): procedures, versions, BPMN upload and the lint report on the
diagram.

Who sees what (checked here for every route, and again by the services for every change):
- a process designer (designer) sees and changes the procedures of the agencies where they hold
  the role; a designer of another agency gets 403;
- the Văn phòng UBND tỉnh (vp_chuyen_vien, vp_lanh_dao in the office) and the Chairman or a
  Vice-chairman (chu_tich, pho_chu_tich in the province) read every procedure and version, since
  every version comes to them for review or approval;
- admin and auditor read everything (admin may also publish, as the service allows).
Anyone else gets 403 for the whole area. The review and approval pages live in designer_review.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, StopValidation

from bpmn import ProfileValueError, format_minutes, parse_legal_days, parse_reduction
from bpmn.loader import DEFAULT_MAX_BYTES
from services import policy, procedures, version_files
from services.errors import ServiceError
from services.models import OrgUnit, Procedure, ProcedureVersion, User
from services.models.audit import AuditEvent
from web import serving
from web.extensions import db
from web.forms import TextRule, show_service_error

bp = Blueprint("designer", __name__, url_prefix="/designer")

READER_ROLES = ("admin", "auditor")
AUTHORITIES = (
    ("chu_tich_ubnd_tinh", _l("Chairman of the provincial People's Committee")),
    ("ubnd_tinh", _l("Provincial People's Committee")),
    ("so", _l("Provincial department (Sở)")),
    ("chu_tich_ubnd_xa", _l("Chairman of the commune People's Committee")),
    ("ubnd_xa", _l("Commune People's Committee")),
)
STATUS_LABELS = {
    "draft": _l("Draft"), "submitted": _l("Submitted"), "vp_reviewed": _l("Reviewed by the Văn phòng"),
    "approved": _l("Approved"), "published": _l("Published"), "retired": _l("Retired"),
    "rejected": _l("Rejected"),
}
STATUS_BADGES = {"draft": "badge-grey", "submitted": "badge-amber", "vp_reviewed": "badge-amber",
                 "approved": "badge-blue", "published": "badge-green", "retired": "badge-grey",
                 "rejected": "badge-red"}

ACTION_LABELS = {
    "version_uploaded": _l("Uploaded"), "version_linted": _l("Checked against the policy"),
    "version_submitted": _l("Submitted for approval"), "version_vp_review": _l("Văn phòng specialist's review"),
    "version_vp_opinion_agree": _l("The Văn phòng agrees to submit to the Chairman"),
    "version_vp_opinion_return": _l("Returned by the Văn phòng"), "version_approved": _l("Approved by the Chairman"),
    "version_returned": _l("Returned by the Chairman"), "version_rejected": _l("Rejected by the Chairman"),
    "version_published": _l("Published"), "version_retired": _l("Retired"),
}


@dataclass(frozen=True)
class Capacity:
    """What the current user may do in the designer area (vai trò trong khu vực thiết kế)."""

    designer_units: frozenset[int]
    vp_specialist: bool
    vp_leader: bool
    chairman: bool
    reader: bool
    admin: bool

    @property
    def reviewer(self) -> bool:
        return self.vp_specialist or self.vp_leader or self.chairman

    @property
    def any(self) -> bool:
        return bool(self.designer_units) or self.reviewer or self.reader

    def can_see(self, procedure: Procedure) -> bool:
        return procedure.agency_id in self.designer_units or self.reviewer or self.reader

    def can_design(self, procedure: Procedure) -> bool:
        return procedure.agency_id in self.designer_units


def capacity(user: User) -> Capacity:
    def holds(roles: tuple[str, ...], kind: str) -> bool:
        # Same rule as the services: a commune's chu_tich is not the province's Chairman.
        return any(a.role_code in roles and a.org_unit.kind == kind for a in user.assignments)

    return Capacity(
        designer_units=frozenset(a.org_unit_id for a in user.assignments if a.role_code == "designer"),
        vp_specialist=holds(("vp_chuyen_vien",), "office"),
        vp_leader=holds(("vp_lanh_dao",), "office"),
        chairman=holds(procedures.CHAIRMAN_ROLES, "province"),
        reader=bool(user.role_codes() & set(READER_ROLES)),
        admin="admin" in user.role_codes(),
    )


@bp.before_request
@login_required
def _area():
    """403 for the whole area unless the user designs, reviews, approves or reads procedures."""
    if not capacity(me()).any:
        abort(403)


@bp.context_processor
def _helpers():
    return {"version_status": lambda s: STATUS_LABELS.get(s, s), "status_badge": lambda s: STATUS_BADGES.get(s, ""),
            "minutes_text": minutes_text, "authority_label": lambda code: dict(AUTHORITIES).get(code, code)}


def me() -> User:
    return current_user._get_current_object()


def lang() -> str:
    return "en" if str(get_locale()) == "en" else "vi"


def minutes_text(minutes: int | None) -> str:
    """Working time as days and hours in the UI language (1 day = 8 working hours)."""
    return "—" if minutes is None else format_minutes(minutes, lang())


def procedure_or_abort(procedure_id: int, *, design: bool = False) -> Procedure:
    procedure = db.session.get(Procedure, procedure_id)
    if procedure is None:
        abort(404)
    cap = capacity(me())
    if not (cap.can_design(procedure) if design else cap.can_see(procedure)):
        abort(403)
    return procedure


def version_or_abort(version_id: int) -> ProcedureVersion:
    version = db.session.get(ProcedureVersion, version_id)
    if version is None:
        abort(404)
    procedure_or_abort(version.procedure_id)
    return version


def lint_report(version: ProcedureVersion) -> dict:
    """The stored report in the UI language (it holds a "vi" and an "en" rendering)."""
    try:
        stored = json.loads(version.lint_report or "{}")
    except ValueError:
        stored = {}
    return stored.get(lang()) or stored.get("vi") or {}


def history(version: ProcedureVersion) -> list[dict]:
    """The version's audit events (upload, lint, submit, opinions, decisions), oldest first."""
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.object == f"procedure_version:{version.id}")
                              .order_by(AuditEvent.seq)).all()
    events = []
    for row in rows:
        try:
            payload = json.loads(row.payload or "{}")
        except ValueError:
            payload = {}
        action = row.action
        if action == "version_vp_opinion":
            action += "_agree" if payload.get("agree") else "_return"
        events.append({"at": row.at, "actor": row.actor, "action": row.action,
                       "label": ACTION_LABELS.get(action, row.action),
                       "text": payload.get("opinion") or payload.get("note") or ""})
    return events


#: Labels of the values an upload may give outside the file (the overrides box).
OVERRIDE_LABELS = {"tthc.legal_days": _l("Legal time (working days)"), "tthc.authority": _l("Deciding authority"),
                   "tthc.reduction": _l("Reduction")}


# --- procedures ---------------------------------------------------------------------------------

def tthc_code(form, field) -> None:
    """The form mirrors the use case's rule (services.procedures.normalise_code), same message."""
    if not (field.data or "").strip():
        return  # DataRequired says so
    try:
        field.data = procedures.normalise_code(field.data)
    except ServiceError as exc:
        raise StopValidation(_(exc.template, **exc.params)) from None


class ProcedureForm(FlaskForm):
    code = StringField(_l("TTHC code"), validators=[DataRequired(), Length(max=40), tthc_code],
                       description=_l("For example 1.004227, or a local code such as 1.000948.H38."))
    name = StringField(_l("Procedure name"), validators=[DataRequired(), TextRule(procedures.PROCEDURE_NAME)])
    authority = SelectField(_l("Deciding authority"), validators=[DataRequired()])
    agency = SelectField(_l("Competent agency"), coerce=int, validators=[DataRequired()])


class UploadForm(FlaskForm):
    bpmn = FileField(_l("BPMN file"), validators=[
        FileRequired(_l("Choose a BPMN file to upload.")),
        FileAllowed(["bpmn", "xml"], _l("Only .bpmn or .xml files are accepted.")),
        FileSize(max_size=DEFAULT_MAX_BYTES,
                 message=_l("The file is larger than %(mb)s MB.", mb=DEFAULT_MAX_BYTES // (1024 * 1024)))])
    legal_days = StringField(_l("Legal time (working days), overrides the file"),
                             validators=[Optional(), Length(max=20)])
    reduction = StringField(_l("Reduction (for example 0.3 or 30%), overrides the file"),
                            validators=[Optional(), Length(max=20)])


@bp.get("/")
def index():
    cap = capacity(me())
    query = select(Procedure).order_by(Procedure.code, Procedure.id)
    if not (cap.reviewer or cap.reader):
        query = query.where(Procedure.agency_id.in_(cap.designer_units))
    rows = db.session.scalars(query).unique().all()
    waiting = []
    if cap.reviewer:
        mine = ({"vp_check"} if cap.vp_specialist else set()) | ({"vp_opinion"} if cap.vp_leader else set()) \
            | ({"chairman"} if cap.chairman else set())
        pending = db.session.scalars(select(ProcedureVersion).where(
            ProcedureVersion.status.in_(("submitted", "vp_reviewed"))).order_by(ProcedureVersion.submitted_at)).all()
        # What the user may actually do: a version whose specialist review they did waits for
        # another leader, not for them (separation of duties).
        waiting = [(v, stage) for v in pending if (stage := procedures.approval_stage(v)) in mine
                   and procedures.duty_conflict(db.session, me(), v, stage) is None]
    return render_template("designer/index.html", procedures=rows, cap=cap, waiting=waiting)


@bp.route("/procedures/new", methods=["GET", "POST"])
def procedure_new():
    cap = capacity(me())
    if not cap.designer_units:
        abort(403)
    form = ProcedureForm()
    form.authority.choices = [(code, f"{label} ({code})") for code, label in AUTHORITIES]
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(cap.designer_units))
                               .order_by(OrgUnit.code)).all()
    form.agency.choices = [(u.id, f"{u.code} — {u.name}") for u in units]
    if form.validate_on_submit():
        try:
            procedure = procedures.create_procedure(db.session, me(), code=form.code.data, name=form.name.data,
                                                    authority=form.authority.data, agency_id=form.agency.data)
        except ServiceError as exc:
            db.session.rollback()
            show_service_error(form, exc)
            status = exc.status
        else:
            flash(_("Procedure %(code)s created. Upload its first BPMN version.", code=procedure.code), "success")
            return redirect(url_for("designer.upload", procedure_id=procedure.id))
    else:
        status = 400 if form.is_submitted() else 200
    return render_template("designer/procedure_new.html", form=form, cap=cap), status


@bp.get("/procedures/<int:procedure_id>")
def procedure(procedure_id: int):
    proc = procedure_or_abort(procedure_id)
    return render_template("designer/procedure.html", procedure=proc, cap=capacity(me()))


def _overrides(form: UploadForm) -> bool:
    """Check the optional overrides here so the message names the field in the UI language."""
    ok = True
    for field, parse in ((form.legal_days, parse_legal_days), (form.reduction, parse_reduction)):
        value = (field.data or "").strip()
        if not value:
            continue
        try:
            parse(value)
        except ProfileValueError as exc:
            field.errors = list(field.errors) + [
                _("'%(value)s' is not usable: %(reason)s.", value=value, reason=exc.reason.render(lang()))]
            ok = False
    return ok


@bp.route("/procedures/<int:procedure_id>/upload", methods=["GET", "POST"])
def upload(procedure_id: int):
    proc = procedure_or_abort(procedure_id, design=True)
    form = UploadForm()
    status = 200
    if form.validate_on_submit() and _overrides(form):
        upload_file = form.bpmn.data
        try:
            version = procedures.upload_version(
                db.session, me(), proc.id, filename=upload_file.filename or "upload.bpmn",
                data=upload_file.read(), legal_days=(form.legal_days.data or "").strip() or None,
                reduction=(form.reduction.data or "").strip() or None)
        except ServiceError as exc:
            db.session.rollback()
            show_service_error(form, exc)
            status = exc.status
        else:
            if version.lint_ok:
                flash(_("Version %(n)s uploaded; it passes the policy checks.", n=version.number), "success")
            else:
                flash(_("Version %(n)s uploaded; it fails the policy checks: see the report below.",
                        n=version.number), "error")
            return redirect(url_for("designer.version", version_id=version.id))
    elif form.is_submitted():
        status = 400
    year, minimum = procedures.upload_policy(db.session)
    return render_template("designer/upload.html", procedure=proc, form=form, cap=capacity(me()),
                           max_mb=DEFAULT_MAX_BYTES // (1024 * 1024), policy_year=year,
                           policy_min=policy.percent(minimum)), status


# --- versions -----------------------------------------------------------------------------------

class SubmitForm(FlaskForm):
    note = TextAreaField(_l("Submission note"), validators=[Optional(), TextRule(procedures.SUBMISSION_NOTE)],
                         render_kw={"rows": 2})


class PublishForm(FlaskForm):
    """Only the CSRF token: publishing has no input."""


def version_context(ver: ProcedureVersion) -> dict:
    """What every version page shows: the report, budget, critical path, diagram spec, history."""
    report = lint_report(ver)
    tasks = report.get("tasks") or {}
    budget = report.get("budget") or {}
    critical = [{"id": el, "name": (tasks.get(el) or {}).get("name")} for el in budget.get("critical_path") or []]
    # An unreadable file (exit code 2: XML_UNSAFE, BPMN_INVALID) is not handed to the drawing script.
    diagram = _diagram_spec(report) if report.get("exit_code") != 2 else None
    stage = procedures.approval_stage(ver)
    duty = procedures.duty_conflict(db.session, me(), ver, stage) if stage in ("vp_check", "vp_opinion",
                                                                             "chairman") else None
    return {"version": ver, "procedure": ver.procedure, "report": report, "critical": critical, "diagram": diagram,
            "file_kept": version_files.is_kept(ver), "file_downloadable": version_files.is_downloadable(ver),
            "cap": capacity(me()), "stage": stage, "history": history(ver),
            "overrides": report.get("overrides") or [], "override_labels": OVERRIDE_LABELS,
            "policy": report.get("policy") or {},
            "duty_conflict": _(duty[0], **duty[1]) if duty else None}


def render_version(ver: ProcedureVersion, forms: dict | None = None, status: int = 200):
    """The version page; `forms` replaces the submit/publish forms after a failed action."""
    all_forms = {"submit": SubmitForm(prefix="submit"), "publish": PublishForm(prefix="publish")}
    all_forms.update(forms or {})
    return render_template("designer/version.html", forms=all_forms, **version_context(ver)), status


@bp.get("/versions/<int:version_id>")
def version(version_id: int):
    return render_version(version_or_abort(version_id))


def _diagram_spec(report: dict) -> dict:
    """Markers and overlays for QuytrinhDiagram.render: errors in red with their code, the critical
    path in blue, warnings as amber tags below their element."""
    markers: dict[str, list[str]] = {}
    for element in (report.get("budget") or {}).get("critical_path") or []:
        markers.setdefault(element, []).append("qt-critical")
    overlays = []
    stacked: dict[str, int] = {}
    for item in report.get("errors") or []:
        if item.get("element"):
            n = stacked[item["element"]] = stacked.get(item["element"], 0) + 1
            markers.setdefault(item["element"], []).append("qt-error")
            overlays.append({"element": item["element"], "html": item["code"],
                             "className": "qt-overlay qt-overlay-error", "position": {"top": -18 * n, "left": 0}})
    for item in report.get("warnings") or []:
        if item.get("element"):
            overlays.append({"element": item["element"], "html": item["code"],
                             "className": "qt-overlay qt-overlay-warning", "position": {"bottom": -4, "left": 0}})
    return {"markers": markers, "overlays": overlays}


@bp.get("/versions/<int:version_id>/bpmn")
def version_bpmn(version_id: int):
    """The file as uploaded, as a download (web/serving.py); 404 when it was not kept."""
    return serving.version_file(version_or_abort(version_id))


@bp.get("/versions/<int:version_id>/diagram.bpmn")
def version_diagram(version_id: int):
    """What designer.js draws: the re-serialized BPMN (web/serving.py), never the upload itself."""
    return serving.version_diagram(version_or_abort(version_id))
