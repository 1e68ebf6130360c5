"""Login and logout (đăng nhập, đăng xuất)."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from services import accounts
from web import known_device
from web.extensions import db, login_manager
from web.forms import ActionForm, LoginForm
from web.safe_redirect import local_path

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = None  # the login page itself says what to do


@login_manager.unauthorized_handler
def _unauthorized():
    """Anonymous: to the login page — for htmx requests by HX-Redirect, not by swapping it into a row."""
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.headers.get("HX-Request"):
        return "", 401, {"HX-Redirect": target}
    return redirect(target)


@login_manager.user_loader
def load_user(session_id: str):
    # Refuses a session opened before a logout, password change or deactivation of its user.
    return accounts.session_user(db.session, session_id)


def role_required(*roles: str):
    """403 unless the current user holds one of `roles` in some org unit."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.role_codes() & set(roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _policy() -> accounts.LoginPolicy:
    config = current_app.config
    return accounts.LoginPolicy(
        max_failures=config["LOGIN_MAX_FAILURES"],
        max_failures_per_address=config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
        max_failures_per_account=config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        lockout=timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]),
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        device = known_device.read()
        result = accounts.authenticate(db.session, form.username.data, form.password.data,
                                       policy=_policy(), ip=request.remote_addr, device=device)
        if result.user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session on login: no fixation
            if lang:
                session["lang"] = lang
            login_user(result.user)
            response = redirect(local_path(request.args.get("next")) or url_for("main.index"))
            known_device.remember(response, device, result.user.id)
            return response
        if result.reason == "inactive":
            form.form_errors.append(_("This account has been deactivated. Ask an administrator."))
        else:
            # One answer for an unknown name, a wrong password and a held-back client: it must not
            # tell which accounts exist or whose password was right.
            form.form_errors.append(_(
                "Wrong username or password, or too many failed logins from here. "
                "Check them, or try again in %(minutes)d minutes.",
                minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]))
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    accounts.record_logout(db.session, current_user._get_current_object())  # ends every session of the user
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))
