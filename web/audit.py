"""The auditor's workspace (thanh tra, kiểm soát TTHC): log search, a dossier's timeline, the chain
verification, the filtered export. Read-only: every page is a GET.

It also installs the app-wide rule that an auditor changes nothing: any non-GET request from an
account whose only role is auditor answers 403 (logging out excepted), whatever the route, so a
route added later cannot forget it. The services refuse them again, having no auditor use case.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user

from engine.calendar import to_local
from services import audit, audit_query
from services.errors import ServiceError
from web.auth import role_required
from web.extensions import db
from web.input_guard import page_arg

bp = Blueprint("audit", __name__, url_prefix="/audit")

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Ending one's own session is not a change to the records (it is logged, though).
AUDITOR_MAY_POST = frozenset({"auth.logout"})


def is_read_only_account(user) -> bool:
    roles = user.role_codes() if getattr(user, "is_authenticated", False) else set()
    return bool(roles) and roles <= {"auditor"}


@bp.before_app_request
def _auditors_change_nothing():
    if request.method in READ_ONLY_METHODS or request.endpoint in AUDITOR_MAY_POST:
        return None
    if is_read_only_account(current_user):
        abort(403)
    return None


@bp.before_request
@role_required(*audit_query.READER_ROLES)
def _only_readers():
    """Auditors and administrators; audit_query checks again."""


def _me():
    return current_user._get_current_object()


def _filter_from_args() -> tuple[audit_query.AuditFilter, dict[str, str]]:
    """The filter from the query string; errors keyed by field (nothing raised)."""
    args = request.args
    try:
        return audit_query.AuditFilter.parse(
            dossier=args.get("dossier"), procedure=args.get("procedure"), actor=args.get("actor"),
            action=args.get("action"), start=args.get("from"), end=args.get("to")), {}
    except ServiceError as exc:
        return audit_query.AuditFilter(), {exc.field or "form": _(exc.template, **exc.params)}


def _raw_args() -> dict[str, str]:
    """The filter as typed, for the pager and the export links."""
    return {k: request.args[k] for k in ("dossier", "procedure", "actor", "action", "from", "to")
            if request.args.get(k, "").strip()}


@bp.get("/")
def search():
    flt, errors = _filter_from_args()
    page = None
    if not errors:
        page = audit_query.search(db.session, _me(), flt, page=page_arg(), per_page=50)
    status = 400 if errors else 200
    return render_template("audit/search.html", page=page, flt=flt, errors=errors, args=request.args,
                           actions=audit_query.actions(db.session), payload_of=audit_query.payload_of,
                           export_args=_raw_args()), status


@bp.get("/export.<fmt>")
def export(fmt: str):
    if fmt not in ("csv", "jsonl"):
        abort(404)
    flt, errors = _filter_from_args()
    if errors:
        return render_template("audit/search.html", page=None, flt=flt, errors=errors, args=request.args,
                               actions=audit_query.actions(db.session), payload_of=audit_query.payload_of,
                               export_args={}), 400
    lines = audit_query.export(db.session, _me(), flt, fmt)
    stamp = to_local(datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M")
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(stream_with_context(lines), mimetype=f"{mimetype}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="quytrinh-audit-{stamp}.{fmt}"',
        "X-Content-Type-Options": "nosniff",
    })


@bp.get("/dossiers/<code>")
def dossier(code: str):
    timeline = audit_query.timeline(db.session, _me(), code)
    return render_template("audit/dossier.html", t=timeline, payload_of=audit_query.payload_of)


@bp.get("/verify")
def verify():
    audit_query.require_reader(_me())
    count, broken = audit.verify(db.session)
    from sqlalchemy import select
    from services.models import AuditEvent
    head = db.session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    event = None
    if broken is not None:
        event = db.session.get(AuditEvent, broken.seq)
    return render_template("audit/verify.html", count=count, broken=broken, event=event, head=head,
                           why=_why(broken.reason) if broken else None, checked_at=datetime.now(timezone.utc))


def _why(reason: str) -> str:
    """services.audit's reason, in the reader's language."""
    if reason.startswith("expected event"):
        return _("An event is missing or out of order here (%(detail)s).", detail=reason)
    if reason.startswith("prev_hash"):
        return _("This event does not link to the previous one: an event before it was removed, "
                 "replaced or rewritten.")
    return _("This event's content does not match its hash: it was edited after it was written.")
