"""Notifications in the header and their page (thông báo): new task, nearly due, overdue.

The header's badge costs one COUNT query per page (a context processor); the list shows each
notification in the page's language from its kind, step and dossier (the stored text is the
Vietnamese one, used for e-mail).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from services import notifications as service
from services.roles import OFFICIAL_ROLES
from web.extensions import db
from web.forms import ActionForm
from web.input_guard import page_arg
from web.safe_redirect import local_path

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

PER_PAGE = 50
KINDS = {"new_task": (_l("New task"), "green"), "nearly_due": (_l("Nearly due"), "amber"),
         "overdue": (_l("Overdue"), "red")}


_OFFICIAL = sorted(OFFICIAL_ROLES)


@bp.app_context_processor
def _header():
    """The header's unread count (one COUNT) and the roles that have an inbox."""
    if not getattr(current_user, "is_authenticated", False):
        return {"unread_notifications": 0, "official_roles": _OFFICIAL}
    try:
        unread = service.unread_count(db.session, current_user.id)
    except SQLAlchemyError:
        # An error page rendered because the database failed must still render: no badge then.
        db.session.rollback()
        unread = 0
    return {"unread_notifications": unread, "official_roles": _OFFICIAL}


@bp.get("")
@login_required
def index():
    unread_only = request.args.get("unread") == "1"
    page = page_arg()
    rows, total = service.latest(db.session, current_user._get_current_object(), page=page, per_page=PER_PAGE,
                                 unread_only=unread_only)
    pages = max(1, -(-total // PER_PAGE))
    return render_template("notifications/index.html", rows=rows, total=total, page=page, pages=pages,
                           unread_only=unread_only, kinds=KINDS, form=ActionForm())


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    # Someone else's id marks nothing: the service only touches the current user's rows.
    service.mark_read(db.session, current_user._get_current_object(), [notification_id])
    return redirect(_back(), 303)


@bp.post("/read-all")
@login_required
def read_all():
    if not ActionForm().validate_on_submit():
        abort(400)
    count = service.mark_read(db.session, current_user._get_current_object())
    flash(_("%(n)d notifications marked as read.", n=count), "success")
    return redirect(_back(), 303)


def _back() -> str:
    return local_path(request.form.get("next")) or url_for("notifications.index")
