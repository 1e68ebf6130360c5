"""Submitting, reviewing, approving and publishing a procedure version (trình, thẩm tra, phê duyệt,
công bố phiên bản quy trình).

The routes live on the designer blueprint (its area check covers them). Each page checks the
capacity the action needs (403 otherwise); the service decides again and its Forbidden, Conflict or
ValidationError is shown at the top of the form or next to the field, with its status code.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, Optional

from services import procedures
from services.errors import ServiceError
from web.designer import (
    PublishForm, SubmitForm, bp, capacity, me, render_version, version_context,
    version_or_abort,
)
from web.extensions import db
from web.forms import TextRule, show_service_error

class VpOpinionForm(FlaskForm):
    agree = RadioField(_l("The office's opinion"), choices=[
        ("yes", _l("Agree: submit to the Chairman")), ("no", _l("Return to the designer"))],
        validators=[Optional()])
    opinion = TextAreaField(_l("Opinion"), validators=[DataRequired(_l("The opinion text is required.")),
                                                       TextRule(procedures.OPINION)], render_kw={"rows": 5})


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[
        ("approve", _l("Approve")), ("return", _l("Return to the designer")), ("reject", _l("Reject"))],
        validators=[DataRequired(_l("Choose a decision."))])
    note = TextAreaField(_l("Note"), validators=[TextRule(procedures.DECISION_NOTE)], render_kw={"rows": 4})


def _back(version_id: int):
    return redirect(url_for("designer.version", version_id=version_id))


@bp.post("/versions/<int:version_id>/submit")
def submit(version_id: int):
    version = version_or_abort(version_id)
    if not capacity(me()).can_design(version.procedure):
        abort(403)
    form = SubmitForm(prefix="submit")
    if not form.validate_on_submit():
        return render_version(version, {"submit": form}, 400)
    try:
        procedures.submit_version(db.session, me(), version.id, note=form.note.data or "")
    except ServiceError as exc:
        db.session.rollback()
        form.form_errors.append(_(exc.template, **exc.params))
        return render_version(db.session.get(type(version), version_id), {"submit": form}, exc.status)
    flash(_("Version %(n)s submitted for approval.", n=version.number), "success")
    return _back(version_id)


@bp.post("/versions/<int:version_id>/publish")
def publish(version_id: int):
    version = version_or_abort(version_id)
    cap = capacity(me())
    if not (cap.can_design(version.procedure) or cap.admin):
        abort(403)
    form = PublishForm(prefix="publish")
    if not form.validate_on_submit():
        return render_version(version, {"publish": form}, 400)
    try:
        procedures.publish_version(db.session, me(), version.id)
    except ServiceError as exc:
        db.session.rollback()
        form.form_errors.append(_(exc.template, **exc.params))
        return render_version(db.session.get(type(version), version_id), {"publish": form}, exc.status)
    flash(_("Version %(n)s published: new dossiers of %(code)s follow it.", n=version.number,
            code=version.procedure.code), "success")
    return _back(version_id)


@bp.route("/versions/<int:version_id>/vp-opinion", methods=["GET", "POST"])
def vp_opinion(version_id: int):
    """The Văn phòng UBND tỉnh: its specialist reviews first, then its leader agrees or returns."""
    version = version_or_abort(version_id)
    cap = capacity(me())
    if not (cap.vp_specialist or cap.vp_leader):
        abort(403)
    form = VpOpinionForm()
    stage = procedures.approval_stage(version)
    status = 200
    if form.validate_on_submit():
        if stage == "vp_opinion" and form.agree.data not in ("yes", "no"):
            form.agree.errors = list(form.agree.errors) + [_("Choose whether the office agrees.")]
            status = 400
        else:
            try:
                procedures.give_vp_opinion(db.session, me(), version.id, agree=form.agree.data != "no",
                                           opinion=form.opinion.data)
            except ServiceError as exc:
                db.session.rollback()
                show_service_error(form, exc)
                status = exc.status
            else:
                flash(_("The Văn phòng's opinion on version %(n)s is recorded.", n=version.number), "success")
                return _back(version_id)
    elif form.is_submitted():
        status = 400
    version = db.session.get(type(version), version_id)
    return render_template("designer/vp_opinion.html", form=form, **version_context(version)), status


@bp.route("/versions/<int:version_id>/decision", methods=["GET", "POST"])
def decision(version_id: int):
    """The Chairman (or a Vice-chairman): approve, return to the designer, or reject, with a note."""
    version = version_or_abort(version_id)
    cap = capacity(me())
    if not cap.chairman:
        abort(403)
    form = DecisionForm()
    status = 200
    if form.validate_on_submit():
        if form.decision.data in ("return", "reject") and not (form.note.data or "").strip():
            form.note.errors = list(form.note.errors) + [_("Say why in the note when returning or rejecting.")]
            status = 400
        else:
            try:
                procedures.decide_version(db.session, me(), version.id, decision=form.decision.data,
                                          note=form.note.data or "")
            except ServiceError as exc:
                db.session.rollback()
                show_service_error(form, exc)
                status = exc.status
            else:
                messages = {"approve": _("Version %(n)s approved.", n=version.number),
                            "return": _("Version %(n)s returned to the designer.", n=version.number),
                            "reject": _("Version %(n)s rejected.", n=version.number)}
                flash(messages[form.decision.data], "success")
                return _back(version_id)
    elif form.is_submitted():
        status = 400
    version = db.session.get(type(version), version_id)
    return render_template("designer/decision.html", form=form, **version_context(version)), status
