"""The home page: who I am and where my work is (trang chủ)."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from services.roles import OFFICIAL_ROLES

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def index():
    # Officials start from their inbox (việc cần xử lý); others see their roles here.
    if current_user.role_codes() & OFFICIAL_ROLES:
        return redirect(url_for("inbox.index"))
    assignments = sorted(current_user.assignments, key=lambda a: (a.org_unit.code, a.role_code))
    return render_template("main/index.html", assignments=assignments)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
