"""The one-stop desk (Bộ phận Một cửa): receive dossiers, print receipts, supplement requests,
pauses, apology letters, hand the results over, record withdrawals.

Every route needs the mot_cua role; every dossier route also needs the dossier to have been
received at one of the officer's desks (403 otherwise). The services check both again. Print
views follow Thông tư 01/2018/TT-VPCP: Mẫu 01 (receipt), Mẫu 02 (supplement), Mẫu 04 (apology).
"""
from __future__ import annotations

from typing import Callable, TypeVar

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from services import dossier_view, dossiers
from services.documents import documents_of
from services.dossiers.common import utcnow
from services.errors import ServiceError
from services.models import Dossier, OrgUnit, SupplementRequest, User
from web.auth import role_required
from web.desk_forms import ApologyForm, PauseForm, ReceiveForm, SupplementForm, WithdrawForm
from web.extensions import db
from web.forms import ActionForm, show_service_error
from web.input_guard import page_arg

T = TypeVar("T")
bp = Blueprint("desk", __name__, url_prefix="/desk")
STATUS_FILTERS = ("open", "received", "processing", "waiting_supplement", "paused", "done", "returned",
                  "withdrawn", "rejected")


@bp.before_request
@role_required("mot_cua")
def _only_desk_officers():
    """Every desk route needs the one-stop role; the services check it again for every change."""


def _me():
    return current_user._get_current_object()


def _form_page(form: FlaskForm, template: str, dossier: Dossier, submit: Callable[[], T], success: str,
               then: Callable[[T], str], *, ready: Callable[[], bool] | None = None):
    """A dossier's form page: GET shows it; a POST that passes the form's checks and `ready()` calls
    `submit()`. A refusal is shown beside its field with the refusal's status (400 for the form's own
    checks); success flashes `success` and redirects to `then(result)`."""
    status = 200
    if request.method == "POST":
        status = 400
        valid = form.validate_on_submit()
        if ready is not None:
            valid = ready() and valid  # run even when the form failed: all the errors show at once
        if valid:
            try:
                result = submit()
            except ServiceError as exc:
                show_service_error(form, exc)
                status = exc.status
            else:
                flash(success, "success")
                return redirect(then(result))
    return render_template(template, dossier=dossier, form=form), status


def _button(code: str, act: Callable[[], object], success: str):
    """A button on the dossier's page: the service's refusal, or `success`, is flashed back there."""
    try:
        act()
    except ServiceError as exc:
        flash(_(exc.template, **exc.params), "error")
    else:
        flash(success, "success")
    return redirect(url_for("dossiers.show", code=code))


def _own(code: str) -> Dossier:
    """A dossier received at one of my desks (404 unknown, 403 another desk's)."""
    dossier = dossier_view.by_code(db.session, code)
    if dossier is None:
        abort(404)
    if not _me().has_role("mot_cua", dossier.desk_id):
        abort(403)
    return dossier


@bp.get("")
def index():
    status = request.args.get("status") or "open"
    if status not in STATUS_FILTERS:
        status = "open"
    page = page_arg()
    code = (request.args.get("code") or "").strip()[:60]
    result = dossier_view.desk_dossiers(db.session, _me(), status=status, code=code, page=page)
    return render_template("desk/index.html", result=result, status=status, code=code,
                           statuses=STATUS_FILTERS,
                           progress=dossier_view.progress(db.session, result.items, utcnow()))


def _procedure_choices(query: str | None):
    return [(p.id, f"{p.code} — {p.name}") for p in dossier_view.receivable_procedures(db.session, query)]


def _receive_form(query: str | None) -> ReceiveForm:
    form = ReceiveForm()
    choices = _procedure_choices(query)
    chosen = request.form.get("procedure_id", type=int)
    if chosen and chosen not in {c[0] for c in choices}:
        choices = _procedure_choices(None)  # the search changed after the choice: keep the choice valid
    form.procedure_id.choices = [(0, _("— choose —"))] + choices
    desks = dossier_view.desk_ids(_me())
    units = {u.id: u for u in db.session.query(OrgUnit).filter(OrgUnit.id.in_(desks))}
    form.desk_id.choices = [(d, f"{units[d].code} — {units[d].name}") for d in desks]
    if len(desks) > 1:  # no silent default: the officer says which desk receives
        form.desk_id.choices.insert(0, (0, _("— choose —")))
    return form


@bp.get("/procedures")
def procedure_options():
    """The procedure <option>s matching ?q= (code or name): the receive form's search (htmx)."""
    query = (request.args.get("q") or "").strip()[:100]
    return render_template("desk/_procedure_options.html", choices=_procedure_choices(query), query=query)


@bp.route("/receive", methods=["GET", "POST"])
def receive():
    query = (request.values.get("q") or "").strip()[:100]
    form = _receive_form(query)
    if request.method == "GET":
        return render_template("desk/receive.html", form=form, query=query, many_desks=len(form.desk_id.choices) > 1)
    now = utcnow()
    valid = form.validate_on_submit()
    backdate = current_app.config["QUYTRINH_MAX_BACKDATE_DAYS"]
    received_at = form.parsed_received_at(now, backdate)
    desk_id = (form.desk_id.data or None) if len(form.desk_id.choices) > 1 else None
    if valid and not form.received_at.errors and not form.applicant_name.errors:
        try:
            dossier = dossiers.receive(
                db.session, _me(), procedure_id=form.procedure_id.data, applicant_name=form.applicant_name.data,
                applicant_id_number=form.applicant_id_number.data, applicant_phone=form.applicant_phone.data,
                applicant_email=form.applicant_email.data, applicant_address=form.applicant_address.data,
                desk_id=desk_id, received_at=received_at, now=now, max_backdate_days=backdate)
        except ServiceError as exc:
            exc.field = {"procedure": "procedure_id", "desk": "desk_id"}.get(exc.field, exc.field)
            show_service_error(form, exc)
            status = exc.status
        else:
            flash(_("Dossier %(code)s received. Print the receipt for the applicant.", code=dossier.code), "success")
            return redirect(url_for("desk.receipt", code=dossier.code))
    else:
        status = 400
    return render_template("desk/receive.html", form=form, query=query,
                           many_desks=len(form.desk_id.choices) > 1), status


def _print_context(dossier: Dossier) -> dict:
    desk = db.session.get(OrgUnit, dossier.desk_id)
    province = desk.parent or desk
    # "UBND tỉnh An Giang" → "An Giang": the place on the form's date line.
    place = province.name.removeprefix("UBND tỉnh ").removeprefix("UBND ")
    return {"dossier": dossier, "desk": desk, "province": province, "place": place,
            "agency": dossier.agency, "version": dossier_view.version_of(db.session, dossier)}


@bp.get("/dossiers/<code>/receipt")
def receipt(code: str):
    """Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01)."""
    dossier = _own(code)
    return render_template("desk/receipt.html", officer=db.session.get(User, dossier.received_by_id),
                           documents=documents_of(db.session, dossier.id),
                           receive_step=dossier_view.receive_step(dossier), **_print_context(dossier))


@bp.route("/dossiers/<code>/supplement", methods=["GET", "POST"])
def supplement(code: str):
    dossier = _own(code)
    form = SupplementForm()
    return _form_page(
        form, "desk/supplement.html", dossier,
        lambda: dossiers.stop_clock(db.session, _me(), dossier.id, kind="supplement", reason=form.reason.data,
                                    items=form.items.data, now=utcnow()),
        _("Supplement request recorded; the clock of %(code)s is stopped.", code=code),
        lambda request_: url_for("desk.supplement_print", code=code, request_id=request_.id))


@bp.get("/dossiers/<code>/supplement/<int:request_id>")
def supplement_print(code: str, request_id: int):
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02), or the financial obligation notice."""
    dossier = _own(code)
    request_ = db.session.get(SupplementRequest, request_id)
    if request_ is None or request_.dossier_id != dossier.id:
        abort(404)
    return render_template("desk/supplement_print.html", request_=request_,
                           officer=db.session.get(User, request_.requested_by_id), **_print_context(dossier))


@bp.route("/dossiers/<code>/pause", methods=["GET", "POST"])
def pause(code: str):
    dossier = _own(code)
    form = PauseForm()
    return _form_page(
        form, "desk/pause.html", dossier,
        lambda: dossiers.stop_clock(db.session, _me(), dossier.id, kind="pause", reason=form.reason.data,
                                    now=utcnow()),
        _("Dossier %(code)s is paused for the financial obligation; the clock is stopped.", code=code),
        lambda request_: url_for("desk.supplement_print", code=code, request_id=request_.id))


@bp.post("/dossiers/<code>/resume")
def resume(code: str):
    dossier = _own(code)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _button(code, lambda: dossiers.resume(db.session, _me(), dossier.id, now=utcnow()),
                   _("Dossier %(code)s resumed; its return date moved by the time spent waiting.", code=code))


@bp.route("/dossiers/<code>/apology", methods=["GET", "POST"])
def apology(code: str):
    dossier = _own(code)
    form = ApologyForm()
    return _form_page(
        form, "desk/apology.html", dossier,
        # Parsed again here: ready() has already parsed it, so this cannot fail.
        lambda: dossiers.issue_apology(
            db.session, _me(), dossier.id, reason=form.reason.data, new_due_at=form.parsed_new_due_at(),
            now=utcnow(), max_extension_days=current_app.config["QUYTRINH_MAX_EXTENSION_WORKING_DAYS"]),
        _("Apology letter issued; the new return date is recorded."),
        lambda _letter: url_for("desk.apology_print", code=code),
        ready=lambda: bool(form.new_due_at.data) and form.parsed_new_due_at() is not None)


@bp.get("/dossiers/<code>/apology/print")
def apology_print(code: str):
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04)."""
    dossier = _own(code)
    letter = dossier_view.apology(db.session, dossier.id)
    if letter is None:
        abort(404)
    return render_template("desk/apology_print.html", letter=letter, **_print_context(dossier))


@bp.post("/dossiers/<code>/hand-over")
def hand_over(code: str):
    """The result handed back (procedures whose BPMN has no return_result step)."""
    dossier = _own(code)
    if not ActionForm().validate_on_submit():
        abort(400)
    step = dossier_view.return_step(dossier)
    if step is not None:  # the BPMN has its own step: it is completed on the task page
        return redirect(f"/tasks/{step.id}")
    return _button(code, lambda: dossiers.hand_over(db.session, _me(), dossier.id, now=utcnow()),
                   _("The result of %(code)s has been handed over.", code=code))


@bp.route("/dossiers/<code>/withdraw", methods=["GET", "POST"])
def withdraw(code: str):
    dossier = _own(code)
    form = WithdrawForm()
    return _form_page(
        form, "desk/withdraw.html", dossier,
        lambda: dossiers.close(db.session, _me(), dossier.id, outcome="withdrawn", reason=form.reason.data,
                               now=utcnow()),
        _("Dossier %(code)s is withdrawn at the applicant's request.", code=code),
        lambda _dossier: url_for("dossiers.show", code=code))
