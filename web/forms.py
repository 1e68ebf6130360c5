"""WTForms forms (biểu mẫu); Flask-WTF adds the CSRF token to each."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional


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


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ActionForm(FlaskForm):
    """A form with no fields but the CSRF token: for POST buttons (logout, deactivate, revoke)."""


class UserCreateForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=255)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(check_deliverability=False), Length(max=255)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])


class GrantRoleForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[DataRequired()])
    org_unit = SelectField(_l("Org unit"), coerce=int, validators=[DataRequired()])


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])
