"""Admin page for the province's policy settings (quản trị tham số chính sách): the minimum time
cut a procedure version must make, for every year and per year.

The routes live on the admin blueprint (its admin-only check covers them); the service checks the
role again, parses every value exactly and refuses a minimum below the province's rule. The years
are one text area, one year per line (``2026: 50%``), so an error names its line.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from services import policy
from services.errors import ServiceError
from web.admin import bp
from web.extensions import db
from web.forms import show_service_error

_LINE = re.compile(r"\s*(\d{4})\s*[:=\t ]\s*(\S+(?:\s*%)?)\s*")


class PolicyForm(FlaskForm):
    default = StringField(_l("Minimum cut for every year"), validators=[InputRequired(), Length(max=20)])
    years = TextAreaField(_l("Years with their own minimum"), validators=[Length(max=4000)],
                          render_kw={"rows": 6})
    revision = HiddenField()


def _years_text(state: policy.ReductionPolicy) -> str:
    return "\n".join(f"{year}: {policy.percent(value)}%" for year, value in sorted(state.years.items()))


def parse_years(text: str) -> dict[str, str]:
    """``2026: 50%`` lines → {"2026": "50%"}; ValueError with the line's message."""
    years: dict[str, str] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        if not raw.strip():
            continue
        match = _LINE.fullmatch(raw)
        if match is None:
            raise ValueError(_("Line %(line)d: '%(text)s' is not a year and a minimum, e.g. 2026: 50%%.",
                               line=number, text=raw.strip()[:60]))
        if match.group(1) in years:
            raise ValueError(_("Line %(line)d: %(year)s is listed twice.", line=number, year=match.group(1)))
        value = match.group(2).replace(" ", "")
        try:  # the service checks again; here the message can name the line
            policy.parse_minimum(value, "years")
        except ServiceError as exc:
            raise ValueError(_("Line %(line)d: %(message)s", line=number,
                               message=_(exc.template, **exc.params))) from None
        years[match.group(1)] = value
    return years


def _page(form: PolicyForm, status: int = 200):
    state = policy.reduction_policy(db.session)
    this_year = policy.policy_year(datetime.now(timezone.utc))
    rows = [(year, state.minimum_for(year), year in state.years) for year in range(this_year - 1, this_year + 3)]
    return render_template("admin/policy.html", form=form, state=state, rows=rows, this_year=this_year,
                           percent=policy.percent, floor=policy.percent(policy.FLOOR)), status


@bp.get("/policy")
def policy_page():
    state = policy.reduction_policy(db.session)
    form = PolicyForm(formdata=None, revision=state.revision, default=f"{policy.percent(state.default)}%",
                      years=_years_text(state))
    return _page(form)


@bp.post("/policy")
def policy_save():
    form = PolicyForm()
    status = 400
    if form.validate_on_submit():
        try:
            revision = int(form.revision.data)
        except (TypeError, ValueError):
            form.form_errors.append(_("The form lost its revision number; reload the page."))
            return _page(form, status)
        try:
            years = parse_years(form.years.data)
        except ValueError as exc:
            form.years.errors = [str(exc)]
            return _page(form, status)
        try:
            policy.update_reduction_policy(db.session, current_user._get_current_object(),
                                           default=form.default.data, years=years, expected_revision=revision)
        except ServiceError as exc:
            db.session.rollback()
            show_service_error(form, exc)
            status = exc.status
        else:
            flash(_("The minimum time cut is saved."), "success")
            return redirect(url_for("admin.policy_page"))
    return _page(form, status)
