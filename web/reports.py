"""Report pages (báo cáo): progress and results per agency / procedure and period, the month-by-
month trend (inline SVG), the 30 % compliance report, and the per-step heatmap on the diagram.

Read-only pages for the auditor, the administrator and the leaders (services.reports.REPORT_ROLES);
a department director sees their own agency (services.reports.scope).
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from services import reports, reports_time
from services.errors import ServiceError
from web import serving
from web.auth import role_required
from web.extensions import db
from web.input_guard import int_arg

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.before_request
@role_required(*reports.REPORT_ROLES)
def _only_report_readers():
    """The services check the reader's scope again."""


def _me():
    return current_user._get_current_object()


def _minutes_per_day() -> int:
    from services.calendar import current_calendar

    return current_calendar(db.session).minutes_per_day


def _period() -> tuple[reports.Period, dict[str, str]]:
    try:
        return reports.Period.parse(month=request.args.get("month"), start=request.args.get("from"),
                                    end=request.args.get("to")), {}
    except ServiceError as exc:
        return reports.Period.containing(datetime.now(timezone.utc)), {
            exc.field or "month": _(exc.template, **exc.params)}


def _filters_context(period: reports.Period, errors: dict[str, str]) -> dict:
    me = _me()
    return {
        "period": period, "errors": errors, "args": request.args,
        "agencies": reports.agencies(db.session, me), "procedures": reports.procedures(db.session, me),
        "keep": {k: request.args[k] for k in ("month", "from", "to", "agency", "procedure", "group")
                 if request.args.get(k, "").strip()},
    }


@bp.get("/")
def index():
    period, errors = _period()
    group = request.args.get("group", "agency")
    if group not in ("agency", "procedure"):
        group = "agency"
    agency_id, procedure_id = int_arg("agency"), int_arg("procedure")
    summary = reports.summary(db.session, _me(), period, group=group, agency_id=agency_id,
                              procedure_id=procedure_id)
    series = reports.trend(db.session, _me(), period, months=12, agency_id=agency_id, procedure_id=procedure_id)
    return render_template("reports/index.html", summary=summary, group=group, chart=chart(series),
                           **_filters_context(period, errors)), 400 if errors else 200


@bp.get("/compliance")
def compliance():
    period, errors = _period()
    rows = reports_time.compliance(db.session, _me(), period, agency_id=int_arg("agency"),
                                   procedure_id=int_arg("procedure"))
    return render_template("reports/compliance.html", rows=rows, per_day=_minutes_per_day(),
                           **_filters_context(period, errors)), 400 if errors else 200


@bp.get("/heatmap")
def heatmap():
    period, errors = _period()
    choices = reports_time.versions(db.session, _me())
    version_id = int_arg("version") or (choices[0].id if choices else None)
    version, steps = None, []
    whole = not any(request.args.get(k, "").strip() for k in ("month", "from", "to"))
    if version_id is not None:
        version = reports_time.version_for(db.session, _me(), version_id)
        steps = reports_time.heatmap(db.session, _me(), version_id, None if whole else period)
    return render_template("reports/heatmap.html", choices=choices, version=version, steps=steps, whole=whole,
                           heat_data=[asdict(s) for s in steps], per_day=_minutes_per_day(),
                           **_filters_context(period, errors)), 400 if errors else 200


@bp.get("/versions/<int:version_id>/diagram.bpmn")
def diagram(version_id: int):
    return serving.version_diagram(reports_time.version_for(db.session, _me(), version_id))


# -- the trend chart -----------------------------------------------------------------------------

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 760, 240, 44, 44, 12, 36


def chart(series: list[reports.MonthFigures]) -> dict:
    """Coordinates for an inline SVG: per month a received bar and a finished bar (on time + late
    stacked), and the on-time rate as a line on the right-hand 0–100 % axis."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = max([1] + [max(m.figures.received, m.figures.finished) for m in series])
    step = plot_w / max(1, len(series))
    bar = step * 0.34
    months, points = [], []
    for i, m in enumerate(series):
        f = m.figures
        x = LEFT + i * step + step * 0.14

        def h(v: int) -> float:
            return plot_h * v / peak

        good = f.early + f.on_time
        months.append({
            "label": f"{m.month:02d}/{m.year % 100:02d}", "cx": LEFT + i * step + step / 2, "f": f,
            "received": (x, TOP + plot_h - h(f.received), bar, h(f.received)),
            "good": (x + bar + 2, TOP + plot_h - h(good), bar, h(good)),
            "late": (x + bar + 2, TOP + plot_h - h(good) - h(f.late), bar, h(f.late)),
        })
        if f.on_time_rate is not None:
            points.append((LEFT + i * step + step / 2, TOP + plot_h * (1 - f.on_time_rate)))
    ticks = sorted({0, peak // 2, peak})
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
        "bottom": TOP + plot_h, "months": months, "line": " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
        "points": points, "ticks": [(t, TOP + plot_h - plot_h * t / peak) for t in ticks],
    }
