"""Login and logout (đăng nhập, đăng xuất)."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_datetime, gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from services import accounts
from services.models import User
from web.extensions import db, login_manager
from web.forms import ActionForm, LoginForm

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
def load_user(user_id: str):
    try:
        user = db.session.get(User, int(user_id))
    except ValueError:
        return None
    # A user deactivated while logged in loses the session at the next request.
    return user if user is not None and user.active else None


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
    return accounts.LoginPolicy(
        max_failures=current_app.config["LOGIN_MAX_FAILURES"],
        lockout=timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]),
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        result = accounts.authenticate(db.session, form.username.data, form.password.data,
                                       policy=_policy(), ip=request.remote_addr)
        if result.user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session on login: no fixation
            if lang:
                session["lang"] = lang
            login_user(result.user)
            return redirect(_safe_next(request.args.get("next")))
        if result.reason == "locked":
            form.form_errors.append(_(
                "This account is locked until %(until)s after repeated failed logins. "
                "Try again later or ask an administrator.",
                until=format_datetime(result.locked_until, "HH:mm dd/MM/yyyy")))
        elif result.reason == "inactive":
            form.form_errors.append(_("This account has been deactivated. Ask an administrator."))
        else:
            form.form_errors.append(_("Wrong username or password."))
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


def _safe_next(target: str | None) -> str:
    # Only local paths: "next" must not become an open redirect.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.index")


@bp.post("/logout")
@login_required
def logout():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    accounts.record_logout(db.session, current_user._get_current_object())
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))
