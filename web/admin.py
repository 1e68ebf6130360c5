"""Admin pages: users, role assignments, org units (quản trị)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_user
from sqlalchemy import select

from services import accounts
from services.errors import ServiceError
from services.models import OrgUnit, Role, RoleAssignment, User
from web.auth import role_required
from web.extensions import db
from web.forms import ActionForm, GrantRoleForm, PasswordForm, UserCreateForm, show_service_error

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@role_required("admin")
def _only_admins():
    """Every admin route needs the admin role; the services check it again for every change."""


def _me() -> User:
    return current_user._get_current_object()


@bp.get("/")
def index():
    return redirect(url_for("admin.users"))


@bp.get("/users")
def users():
    rows = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=rows, holds=accounts.login_holds(db.session, rows),
                           action_form=ActionForm())


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(db.session, _me(), username=form.username.data,
                                        full_name=form.full_name.data, password=form.password.data,
                                        email=form.email.data)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("Account %(username)s created.", username=user.username), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/user_new.html", form=form), status


def _grant_form() -> GrantRoleForm:
    form = GrantRoleForm(prefix="grant")
    english = str(get_locale()) == "en"
    roles = db.session.scalars(select(Role).order_by(Role.code)).all()
    form.role.choices = [(r.code, f"{r.name_en if english else r.name_vi} ({r.code})") for r in roles]
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True)).order_by(OrgUnit.code)).all()
    form.org_unit.choices = [(u.id, f"{u.code} — {u.name}") for u in units]
    return form


def _detail(user: User, grant=None, password=None, status: int = 200):
    return render_template("admin/user_detail.html", user=user, grant=grant or _grant_form(),
                           hold=accounts.login_holds(db.session, [user]).get(user.id),
                           password=password or PasswordForm(prefix="pw"), action_form=ActionForm()), status


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users/<int:user_id>")
def user_detail(user_id: int):
    return _detail(_user_or_404(user_id))


@bp.post("/users/<int:user_id>/roles")
def grant_role(user_id: int):
    user = _user_or_404(user_id)
    form = _grant_form()
    if form.validate_on_submit():
        try:
            accounts.grant_role(db.session, _me(), user.id, form.role.data, form.org_unit.data)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("Role granted."), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return _detail(user, grant=form, status=400)


@bp.post("/users/<int:user_id>/roles/<int:assignment_id>/revoke")
def revoke_role(user_id: int, assignment_id: int):
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    assignment = db.session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.user_id != user.id:
        abort(404)
    accounts.revoke_role(db.session, _me(), assignment_id)
    flash(_("Role revoked."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/active/<int:active>")
def set_active(user_id: int, active: int):
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        accounts.set_active(db.session, _me(), user.id, bool(active))
    except ServiceError as exc:
        flash(_(exc.template, **exc.params), "error")
    else:
        flash(_("Account activated.") if active else _("Account deactivated."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/password")
def set_password(user_id: int):
    user = _user_or_404(user_id)
    form = PasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            accounts.set_password(db.session, _me(), user.id, form.password.data)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            if user.id == current_user.id:
                # Every session of the account ended; the admin who changed their own keeps this one.
                login_user(db.session.get(User, user.id))
            flash(_("Password changed: every session of the account has ended and its login holds are lifted."),
                  "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return _detail(user, password=form, status=400)


@bp.get("/org-units")
def org_units():
    units = db.session.scalars(select(OrgUnit).order_by(OrgUnit.code)).all()
    return render_template("admin/org_units.html", units=units)
