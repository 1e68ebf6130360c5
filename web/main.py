"""The home page: who I am and where my work is (trang chủ)."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def index():
    assignments = sorted(current_user.assignments, key=lambda a: (a.org_unit.code, a.role_code))
    return render_template("main/index.html", assignments=assignments)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
