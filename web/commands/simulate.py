"""`quytrinh simulate` — a simulated history of dossiers (DESIGN.md, "The `quytrinh` command").

Runs `services.simulation.simulate` on the configured database, which must be migrated and hold
the demo (`quytrinh demo`); otherwise one line and exit 2. Without `--start` the history is the
26 weeks up to now; with it, the 26 weeks from that day (cut at now: a history never reaches
into the future). The same `--seed` and `--start` on the same database give the same history.
Exit 0; 1 when a service refused a simulated action (listed on stderr).
"""
from __future__ import annotations

import time as timer
from datetime import date, datetime, time, timezone
from typing import NoReturn

import click
from flask.cli import with_appcontext

from engine.calendar import TIMEZONE, to_local

ROWS = (  # (attribute, label)
    ("received", "Tiếp nhận (received)"),
    ("early", "Có kết quả: trước hạn (early)"),
    ("on_time", "  đúng hạn (on time)"),
    ("late", "  trễ hạn (late)"),
    ("handed_back", "  đã trả kết quả (handed back)"),
    ("rejected", "Từ chối (rejected)"),
    ("withdrawn", "Rút hồ sơ (withdrawn)"),
    ("within", "Đang xử lý: trong hạn (within)"),
    ("nearly_due", "  sắp đến hạn (nearly due)"),
    ("overdue", "  quá hạn (overdue)"),
    ("waiting", "  chờ bổ sung/nghĩa vụ tài chính (waiting)"),
    ("supplements", "Yêu cầu bổ sung (supplements)"),
    ("pauses", "Tạm dừng (pauses)"),
    ("returns", "Trả lại để hoàn thiện (returns)"),
    ("apologies", "Phiếu xin lỗi (apologies)"),
)


def _fail(message: str) -> NoReturn:
    click.echo(f"quytrinh simulate: {message}", err=True)
    click.get_current_context().exit(2)
    raise AssertionError("unreachable")  # ctx.exit raises


def _window(start_text: str | None, now: datetime) -> tuple[datetime, datetime]:
    from services.simulation import HISTORY

    end = now.replace(second=0, microsecond=0)
    if start_text is None:
        return end - HISTORY, end
    try:
        day = date.fromisoformat(start_text.strip())
    except ValueError:
        _fail(f"--start: cần một ngày dạng YYYY-MM-DD, nhận được {start_text!r}.")
    start = datetime.combine(day, time(0), TIMEZONE)
    if start >= end:
        _fail(f"--start: {day.isoformat()} chưa đến; lịch sử mô phỏng chỉ nằm trong quá khứ.")
    return start, min(start + HISTORY, end)


def format_report(report, elapsed: float) -> str:
    codes = sorted(report.per_procedure)
    width = max(len(label) for _, label in ROWS) + 2
    cols = [max(len(c), 6) + 2 for c in codes] + [8]
    lines = [
        f"Mô phỏng {report.total.received} hồ sơ (seed {report.seed}): tiếp nhận từ "
        f"{to_local(report.start):%Y-%m-%d %H:%M} đến {to_local(report.end_at):%Y-%m-%d %H:%M} (giờ Việt Nam).",
        "",
        " " * width + "".join(c.rjust(w) for c, w in zip(codes + ["Tổng"], cols)),
    ]
    for attr, label in ROWS:
        values = [getattr(report.per_procedure[c], attr) for c in codes] + [getattr(report.total, attr)]
        lines.append(label.ljust(width) + "".join(str(v).rjust(w) for v, w in zip(values, cols)))
    lines.append("")
    lines += [f"  {c}: {report.procedure_names.get(c, '')}" for c in codes]
    lines.append(f"{report.service_calls} thao tác qua services, {report.deadline_runs} lần chạy đánh dấu "
                 f"thời hạn; {elapsed:.1f} s.")
    return "\n".join(lines)


@click.command("simulate")
@click.option("--dossiers", "count", required=True, type=click.IntRange(1, 100_000), metavar="N",
              help="Số hồ sơ tiếp nhận trong thời gian mô phỏng.")
@click.option("--seed", default=1, show_default=True, type=int, help="Hạt giống ngẫu nhiên (cùng seed, cùng lịch sử).")
@click.option("--start", "start_text", metavar="YYYY-MM-DD",
              help="Ngày bắt đầu (mặc định: 26 tuần trước thời điểm hiện tại).")
@with_appcontext
def simulate_command(count: int, seed: int, start_text: str | None):
    """Mô phỏng N hồ sơ qua các quy trình đã công bố, với cán bộ và đồng hồ giả lập
    (dữ liệu cho trình diễn, báo cáo và đo hiệu năng)."""
    from services.errors import ServiceError
    from services.simulation import simulate
    from web.commands.serve import check_database
    from web.extensions import db

    # The wall clock is read here, never inside the simulation: it only places the window.
    start, end = _window(start_text, datetime.now(timezone.utc))
    check_database()  # not migrated → ConfigError → one line, exit 2 (web.cli.main)
    step = max(count // 10, 1)

    def progress(done: int, total: int) -> None:
        if count >= 200 and (done % step == 0 or done == total):
            click.echo(f"  … {done}/{total} hồ sơ", err=True)

    began = timer.perf_counter()
    try:
        report = simulate(db.session, dossiers=count, seed=seed, start=start, end_at=end, progress=progress)
    except ServiceError as exc:
        _fail(exc.message)  # e.g. nothing published: the message names `quytrinh demo`
    click.echo(format_report(report, timer.perf_counter() - began))
    if report.unstaffed:
        click.echo("Lưu ý: không ai giữ vai trò cho các bước " + ", ".join(report.unstaffed)
                   + "; các hồ sơ đó dừng tại bước này.", err=True)
    if report.errors:
        click.echo(f"{len(report.errors)} thao tác bị từ chối, ví dụ:", err=True)
        for line in report.errors[:5]:
            click.echo(f"  {line}", err=True)
        click.get_current_context().exit(1)
