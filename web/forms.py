"""WTForms forms (biểu mẫu); Flask-WTF adds the CSRF token to each."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError as FieldError

from services import accounts
from services.errors import ServiceError
from services.validation import TextField


def show_service_error(form, exc, message: str | None = None) -> None:
    """Show a use case's refusal (a ServiceError) on `form`: next to the field it names when the form
    shows that field, else above the form — a dossier-wide conflict, or a stale hidden `revision`.

    `message` replaces the translated text (e.g. prefixed with the line it concerns)."""
    text = message if message is not None else _(exc.template, **exc.params)
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None and hasattr(field, "errors") and not isinstance(field, HiddenField):
        field.errors = list(field.errors) + [text]
    else:
        form.form_errors.append(text)


class TextRule:
    """A WTForms validator that asks the use case's own rule for a text field (services.validation):
    the same limit — read from the model at each form, and given to the browser as maxlength — and
    the same message, shown with the form's other errors. The use case checks it again."""

    def __init__(self, rule: TextField):
        self.rule = rule

    @property
    def field_flags(self) -> dict:
        return {"maxlength": self.rule.limit}

    def __call__(self, form, field) -> None:
        try:
            self.rule.clean(field.data)
        except ServiceError as exc:
            raise FieldError(_(exc.template, **exc.params)) from None


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ActionForm(FlaskForm):
    """A form with no fields but the CSRF token: for POST buttons (logout, deactivate, revoke)."""


class UserCreateForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    full_name = StringField(_l("Full name"), validators=[DataRequired(), TextRule(accounts.FULL_NAME)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(check_deliverability=False),
                                                TextRule(accounts.EMAIL)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])


class GrantRoleForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[DataRequired()])
    org_unit = SelectField(_l("Org unit"), coerce=int, validators=[DataRequired()])


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])
