"""Forms of the one-stop desk (biểu mẫu Bộ phận Một cửa) and the strict date parsing they share.

The forms only read what was typed; the rules (bounds of the receipt time, national formats) are
the use case's (services.dossiers), asked here too so that every error shows at once.
"""
from __future__ import annotations

import re
from datetime import datetime

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from engine.calendar import TIMEZONE
from services.dossiers import applicant
from services.dossiers.lifecycle import APOLOGY_REASON, CLOSE_REASON, SUPPLEMENT_ITEMS, SUPPLEMENT_REASON
from services.dossiers.receive import APPLICANT_ADDRESS, APPLICANT_NAME, DEFAULT_MAX_BACKDATE_DAYS, check_received_at
from services.errors import ServiceError
from services.models import Dossier
from services.validation import max_length
from web.forms import TextRule

_DATETIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2}))?")


class DateError(ValueError):
    pass


def parse_local(text: str, *, time_required: bool = False) -> datetime:
    """dd/mm/yyyy HH:MM (or dd/mm/yyyy, meaning 17:00, the end of the working day) in Vietnam time."""
    match = _DATETIME.fullmatch((text or "").strip())
    if match is None or (time_required and match.group(4) is None):
        raise DateError(text)
    day, month, year, hour, minute = match.groups()
    try:
        return datetime(int(year), int(month), int(day),
                        int(hour) if hour is not None else 17, int(minute) if minute is not None else 0,
                        tzinfo=TIMEZONE)
    except ValueError:
        raise DateError(text) from None


def _checked(field, check) -> None:
    """The use case's check of a field, its refusal shown next to the field."""
    try:
        check(field.data)
    except ServiceError as exc:
        field.errors.append(_(exc.template, **exc.params))


class ReceiveForm(FlaskForm):
    procedure_id = SelectField(_l("Administrative procedure"), coerce=int,
                               validators=[DataRequired(_l("Choose the procedure."))])
    applicant_name = StringField(_l("Applicant (person or organisation)"),
                                 validators=[TextRule(APPLICANT_NAME)])
    applicant_id_number = StringField(_l("ID number"), validators=[Length(max=40)])
    applicant_phone = StringField(_l("Phone"), validators=[Length(max=40)])
    applicant_email = EmailField(_l("Email"), validators=[Length(max=max_length(Dossier.applicant_email))])
    applicant_address = StringField(_l("Address"), validators=[TextRule(APPLICANT_ADDRESS)])
    received_at = StringField(_l("Received at (dd/mm/yyyy HH:MM, empty = now)"), validators=[Length(max=20)])
    desk_id = SelectField(_l("One-stop desk"), coerce=int, validate_choice=False)

    def validate_applicant_id_number(self, field):
        _checked(field, applicant.id_number)

    def validate_applicant_phone(self, field):
        _checked(field, applicant.phone)

    def validate_applicant_email(self, field):
        _checked(field, applicant.email)

    def parsed_received_at(self, now: datetime, max_backdate_days: int = DEFAULT_MAX_BACKDATE_DAYS
                           ) -> datetime | None:
        """The entered receipt time, or None (now); errors go next to the field."""
        text = (self.received_at.data or "").strip()
        if not text:
            return None
        try:
            when = parse_local(text, time_required=True)
        except DateError:
            self.received_at.errors = list(self.received_at.errors) + [_(
                "Received at: '%(text)s' is not a date and time dd/mm/yyyy HH:MM.", text=text[:40])]
            return None
        try:
            return check_received_at(when, now, max_backdate_days=max_backdate_days)
        except ServiceError as exc:
            self.received_at.errors = list(self.received_at.errors) + [_(exc.template, **exc.params)]
            return None


class SupplementForm(FlaskForm):
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02)."""

    items = TextAreaField(_l("Documents and contents to supplement (one per line)"),
                          validators=[DataRequired(_l("List what the applicant must supplement.")),
                                      TextRule(SUPPLEMENT_ITEMS)], render_kw={"rows": 6})
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("The reason is required.")),
                                                     TextRule(SUPPLEMENT_REASON)], render_kw={"rows": 3})


class PauseForm(FlaskForm):
    """The clock stops while the applicant fulfils a financial obligation (nghĩa vụ tài chính)."""

    reason = TextAreaField(_l("Financial obligation (fee, tax, charge) and how to pay it"),
                           validators=[DataRequired(_l("The reason is required.")),
                                       TextRule(SUPPLEMENT_REASON)], render_kw={"rows": 3})


class ApologyForm(FlaskForm):
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04)."""

    reason = TextAreaField(_l("Reason for the delay"), validators=[DataRequired(_l("The reason is required.")),
                                                                   TextRule(APOLOGY_REASON)],
                           render_kw={"rows": 3})
    new_due_at = StringField(_l("New return date (dd/mm/yyyy HH:MM)"),
                             validators=[DataRequired(_l("The new return date is required.")), Length(max=20)])

    def parsed_new_due_at(self) -> datetime | None:
        try:
            return parse_local(self.new_due_at.data)
        except DateError:
            self.new_due_at.errors = list(self.new_due_at.errors) + [_(
                "New return date: '%(text)s' is not a date dd/mm/yyyy HH:MM.", text=(self.new_due_at.data or "")[:40])]
            return None


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Reason given by the applicant"),
                           validators=[DataRequired(_l("The reason is required.")),
                                       TextRule(CLOSE_REASON)], render_kw={"rows": 3})
