"""The world the hostile requests run in (dữ liệu của phép thử): the catalogue of routes with the demo
account that reaches each, what the pages need beyond the demo, and the fields and query parameters
read from the pages' HTML. Used through tests/fuzz_harness.py.

The world is the demo plus what the pages need to show their forms: dossiers (one at an official's
step, one waiting for a supplement, one with an apology letter), a document, notifications, a draft
version and versions waiting for the Văn phòng and for the Chairman, and a sacrificial account for
the admin routes. Each route is requested as a demo account whose roles reach it; its form fields
are read from the pages' HTML (every <form> of every page, keyed by the route it posts to), its
query parameters from the pages' GET forms and links and from every name the web code reads.
"""
from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

from sqlalchemy import select
from werkzeug.routing import IntegerConverter

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "bpmn" / "library"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
BPMN = (LIBRARY / "chairman_decision.bpmn").read_bytes()
VICTIM = "fuzz.victim"

# endpoint -> (account, methods). Every route of the app is here (test_every_route_is_fuzzed).
ROUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "main.index": ("chuyenvien", ("GET",)), "main.healthz": ("chuyenvien", ("GET",)),
    "set_language": ("lanhdaophong", ("GET",)), "static": ("chuyenvien", ("GET",)),
    "auth.login": ("", ("GET", "POST")), "auth.logout": ("logout:thanhtra", ("POST",)),
    "admin.index": ("admin", ("GET",)), "admin.users": ("admin", ("GET",)),
    "admin.user_new": ("admin", ("GET", "POST")), "admin.user_detail": ("admin", ("GET",)),
    "admin.set_active": ("admin", ("POST",)), "admin.set_password": ("admin", ("POST",)),
    "admin.grant_role": ("admin", ("POST",)), "admin.revoke_role": ("admin", ("POST",)),
    "admin.org_units": ("admin", ("GET",)), "admin.calendar_years": ("admin", ("GET",)),
    "admin.calendar_year": ("admin", ("GET",)), "admin.calendar_year_save": ("admin", ("POST",)),
    "admin.calendar_year_reset": ("admin", ("POST",)), "admin.calendar_settings": ("admin", ("POST",)),
    "audit.search": ("thanhtra", ("GET",)), "audit.dossier": ("thanhtra", ("GET",)),
    "audit.export": ("thanhtra", ("GET",)), "audit.verify": ("thanhtra", ("GET",)),
    "designer.index": ("thietke", ("GET",)), "designer.procedure": ("thietke", ("GET",)),
    "designer.procedure_new": ("thietke", ("GET", "POST")), "designer.upload": ("thietke", ("GET", "POST")),
    "designer.version": ("thietke", ("GET",)), "designer.version_bpmn": ("thietke", ("GET",)),
    "designer.submit": ("thietke", ("POST",)), "designer.publish": ("thietke", ("POST",)),
    "designer.vp_opinion": ("vp.chuyenvien", ("GET", "POST")), "designer.decision": ("chutich", ("GET", "POST")),
    "desk.index": ("motcua", ("GET",)), "desk.receive": ("motcua", ("GET", "POST")),
    "desk.procedure_options": ("motcua", ("GET",)), "desk.receipt": ("motcua", ("GET",)),
    "desk.supplement": ("motcua", ("GET", "POST")), "desk.supplement_print": ("motcua", ("GET",)),
    "desk.pause": ("motcua", ("GET", "POST")), "desk.resume": ("motcua", ("POST",)),
    "desk.apology": ("motcua", ("GET", "POST")), "desk.apology_print": ("motcua", ("GET",)),
    "desk.hand_over": ("motcua", ("POST",)), "desk.withdraw": ("motcua", ("GET", "POST")),
    "dossiers.show": ("motcua", ("GET",)), "dossiers.bpmn": ("motcua", ("GET",)),
    "documents.download": ("chuyenvien", ("GET",)), "documents.upload": ("chuyenvien", ("POST",)),
    "inbox.index": ("chuyenvien", ("GET",)),
    "tasks.show": ("chuyenvien", ("GET",)), "tasks.claim": ("chuyenvien", ("POST",)),
    "tasks.unclaim": ("chuyenvien", ("POST",)), "tasks.complete": ("chuyenvien", ("POST",)),
    "tasks.done": ("motcua", ("GET",)),
    "notifications.index": ("chuyenvien", ("GET",)), "notifications.read": ("chuyenvien", ("POST",)),
    "notifications.read_all": ("chuyenvien", ("POST",)),
    "reports.index": ("chutich", ("GET",)), "reports.compliance": ("chutich", ("GET",)),
    "reports.heatmap": ("chutich", ("GET",)), "reports.diagram": ("chutich", ("GET",)),
}
TARGETS = sorted(f"{endpoint} {method}" for endpoint, (_a, methods) in ROUTES.items() for method in methods)
# A route added later and not listed above yet is still fuzzed, as the account of its blueprint
# (tests/web/test_input_fuzz.py::test_hostile_input_on_routes_not_listed_yet).
BLUEPRINT_ACCOUNTS = {"admin": "admin", "audit": "thanhtra", "designer": "thietke", "desk": "motcua",
                      "dossiers": "motcua", "documents": "chuyenvien", "inbox": "chuyenvien", "tasks": "chuyenvien",
                      "notifications": "chuyenvien", "reports": "chutich", "auth": ""}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def catalogue(app) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every route of `app`: its account and methods (ROUTES, else by its blueprint)."""
    routes = {}
    for rule in app.url_map.iter_rules():
        methods = tuple(m for m in ("GET",) + WRITE_METHODS if m in rule.methods)
        account = ROUTES[rule.endpoint][0] if rule.endpoint in ROUTES else \
            BLUEPRINT_ACCOUNTS.get(rule.endpoint.partition(".")[0], "chuyenvien")
        routes[rule.endpoint] = (account, methods)
    return routes

# Benign values for fields the pages leave empty, so that the other fields' checks pass and the
# hostile value reaches the use case.
BENIGN = {
    "applicant_name": "Công ty TNHH Xây dựng Long Xuyên", "applicant_phone": "0912345678",
    "applicant_id_number": "089123456789", "applicant_email": "lienhe@example.vn",
    "applicant_address": "12 Trần Hưng Đạo, Long Xuyên", "reason": "Theo đề nghị của người nộp hồ sơ",
    "items": "Bản vẽ mặt bằng\nGiấy chứng nhận quyền sử dụng đất", "new_due_at": "28/12/2026 10:00",
    "opinion": "Đồng ý", "note": "Ghi chú", "username": "nobody", "password": "mat-khau-moi-2026",
    "full_name": "Người Thử Nghiệm", "email": "thu@example.vn", "pw-password": "mat-khau-moi-2026",
    "code": "1.009999", "name": "Thủ tục thử nghiệm",
}

# --- the world ----------------------------------------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    enctype: str
    fields: list[tuple[str, str]]      # name, default value
    files: list[str]                   # names of the file inputs


@dataclass
class Target:
    endpoint: str
    method: str
    account: str
    rule: str
    path: dict[str, str]               # the real values of the path's variables
    int_vars: set[str]
    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    multipart: bool = False
    query: list[str] = field(default_factory=list)      # every name the web reads or a page sends
    own_query: list[str] = field(default_factory=list)  # the names the pages send to this route

    @property
    def name(self) -> str:
        return f"{self.endpoint} {self.method}"


class Captured(logging.Handler):
    """Error records of the app (an unhandled exception is logged before its 500 page)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@dataclass
class World:
    app: object
    clients: dict
    tokens: dict
    targets: dict
    log: Captured
    query_names: list[str]

    def client(self, account: str):
        return self.clients[account]


def seed(app) -> dict:
    """Create what the pages need beyond the demo; returns the ids and codes for the path values."""
    from services import accounts, dossiers, jobs, procedures
    from services.documents import DocumentStore, upload
    from services.dossiers.common import utcnow
    from services.models import OrgUnit, Procedure
    from tests.dossier_helpers import drive, open_steps, user
    from web.extensions import db

    with app.app_context():
        s = db.session
        admin, motcua, designer = user(s, "admin"), user(s, "motcua"), user(s, "thietke")
        units = {u.code: u for u in s.scalars(select(OrgUnit))}
        victim = accounts.create_user(s, admin, username=VICTIM, full_name="Tài khoản thử", password="quytrinh2026")
        accounts.grant_role(s, admin, victim.id, "chuyen_vien", units["H01.15"].id)
        assignment = next(a.id for a in user(s, VICTIM).assignments)
        building = s.scalar(select(Procedure).where(Procedure.code == "1.009974"))
        now = utcnow()

        def receive(name):
            return dossiers.receive(s, motcua, procedure_id=building.id, applicant_name=name, now=now)

        at_official = receive("Công ty Xây dựng Một")
        drive(s, at_official.id, start=now - timedelta(hours=1), minutes_per_step=1, until="Task_KiemTra")
        step = next(x for x in open_steps(s, at_official.id) if x.spec_id == "Task_KiemTra")
        done_step = next(x for x in s.get(type(at_official), at_official.id).steps
                         if x.status == "completed" and x.role == "mot_cua")
        waiting = receive("Hộ kinh doanh Hai")
        supplement = dossiers.stop_clock(s, motcua, waiting.id, kind="supplement", reason="Thiếu bản vẽ",
                                         items="Bản vẽ mặt bằng", now=now)
        apologised = receive("Bà Ba")
        due = s.get(type(apologised), apologised.id).due_at
        for days in range(1, 15):  # a working day after the due date: whatever rule the dates obey
            try:
                dossiers.issue_apology(s, motcua, apologised.id, reason="Chậm do lấy ý kiến",
                                       new_due_at=(due + timedelta(days=days)).replace(hour=3, minute=0), now=now)
                break
            except Exception:  # noqa: BLE001 - try the next day
                s.rollback()
        store = DocumentStore(Path(app.instance_path) / "documents")
        document = upload(s, user(s, "chuyenvien"), at_official.id, io.BytesIO(PDF), "Đơn đề nghị.pdf",
                          store=store, step_id=step.id).document
        jobs.run_all(s)
        from services.models import Notification
        notification = s.scalar(select(Notification.id).where(Notification.user_id == user(s, "chuyenvien").id))

        home = s.scalar(select(Procedure).where(Procedure.code == "1.003822"))  # Sở Nội vụ, needs the Văn phòng
        data = BPMN
        draft = procedures.upload_version(s, designer, home.id, filename="ban-nhap.bpmn", data=data)
        at_vp = procedures.upload_version(s, designer, home.id, filename="cho-vp.bpmn", data=data)
        procedures.submit_version(s, designer, at_vp.id)
        at_chair = procedures.upload_version(s, designer, home.id, filename="cho-chu-tich.bpmn", data=data)
        procedures.submit_version(s, designer, at_chair.id)
        procedures.give_vp_opinion(s, user(s, "vp.chuyenvien"), at_chair.id, agree=True, opinion="Phù hợp")
        procedures.give_vp_opinion(s, user(s, "vp.lanhdao"), at_chair.id, agree=True, opinion="Thống nhất")
        ids = {
            "user_id": victim.id, "assignment_id": assignment, "active": 1, "year": now.year,
            "procedure_id": home.id, "version_id": draft.id, "code": at_official.code,
            "request_id": supplement.id, "document_id": document.id, "notification_id": notification,
            "step_id": step.id, "fmt": "csv", "filename": "css/app.css",
            "_codes": (at_official.code, waiting.code, apologised.code), "_done_step": done_step.id,
            "_versions": (draft.id, at_vp.id, at_chair.id),
        }
        s.remove()
    return ids


def path_values(ids: dict, endpoints) -> dict[str, dict[str, str]]:
    """The real path values per endpoint (the defaults, and where a route needs another object)."""
    base = {k: str(v) for k, v in ids.items() if not k.startswith("_")}
    official, waiting, apologised = ids["_codes"]
    draft, at_vp, at_chair = ids["_versions"]
    special = {
        "desk.supplement_print": {"code": waiting}, "desk.resume": {"code": waiting},
        "desk.apology_print": {"code": apologised}, "designer.vp_opinion": {"version_id": str(at_vp)},
        "designer.decision": {"version_id": str(at_chair)}, "set_language": {"code": "vi"},
        "tasks.done": {"step_id": str(ids["_done_step"])},
    }
    return {endpoint: {**base, **special.get(endpoint, {})} for endpoint in endpoints}


class _Page(HTMLParser):
    """The forms (fields with their defaults) and the links of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._radios: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form":
            self._form = Form((a.get("method") or "get").upper(), a.get("action") or "",
                              a.get("enctype") or "", [], [])
            self._radios = {}
            self.forms.append(self._form)
        if tag == "option" and self._select:
            self._options.append((a.get("value") or "", "selected" in a))
        if self._form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind == "file":
                self._form.files.append(name)
            elif kind == "radio":
                if name not in self._radios or "checked" in a:
                    self._radios[name] = a.get("value") or ""
            elif kind not in ("submit", "button", "image", "reset") and (kind != "checkbox" or "checked" in a):
                self._form.fields.append((name, a.get("value") or BENIGN.get(name, "")))
        elif tag == "select":
            self._select, self._options = name, []
        elif tag == "textarea":
            self._textarea, self._text = name, []

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "select" and self._select and self._form is not None:
            chosen = [v for v, sel in self._options if sel] or [v for v, _ in self._options if v not in ("", "0")]
            self._form.fields.append((self._select, (chosen or [""])[0]))
            self._select = None
        elif tag == "textarea" and self._textarea and self._form is not None:
            text = "".join(self._text).strip("\r\n")  # WTForms opens a textarea with a new line
            self._form.fields.append((self._textarea, text or BENIGN.get(self._textarea, "Nội dung")))
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self._form.fields += list(self._radios.items())
            self._form = None


def web_query_names() -> set[str]:
    """Every query parameter name the web code reads (request.args / request.values, int_arg, page_arg)."""
    names: set[str] = set()
    for path in (ROOT / "web").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"""(?:args|values)\.get\(\s*["']([^"']+)["']""", source))
        names |= set(re.findall(r"""int_arg\(\s*["']([^"']+)["']""", source))
        if "page_arg(" in source:
            names.add("page")
    return names


RULE_VAR = re.compile(r"<(?:([a-z]+)(?:\([^)]*\))?:)?(\w+)>")


def build_url(rule: str, values: dict[str, str]) -> str:
    return RULE_VAR.sub(lambda m: quote(values[m.group(2)].encode("utf-8", "surrogatepass"), safe=""), rule)



def build_world(app) -> World:
    from tests.conftest import csrf_token, login

    ids = seed(app)
    routes = catalogue(app)
    values = path_values(ids, routes)
    accounts = {account for account, _m in routes.values()}
    clients, tokens = {}, {}
    for account in sorted(accounts):
        client = app.test_client()
        username = account.split(":")[-1]
        if username:
            assert login(client, username).status_code == 302, f"{username} cannot log in"
            tokens[account] = csrf_token(client, "/")
        else:
            client.environ_base["REMOTE_ADDR"] = "203.0.113.7"  # its failed logins throttle no one else
            tokens[account] = csrf_token(client, "/login")
        clients[account] = client

    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    adapter = app.url_map.bind("localhost")
    forms: dict[tuple[str, str], list[Form]] = {}
    own: dict[str, set[str]] = {}
    query: set[str] = set(web_query_names())
    pages = [(endpoint, account) for endpoint, (account, methods) in routes.items()
             if "GET" in methods and endpoint not in ("static", "set_language", "audit.export")]
    pages += [("dossiers.show", "motcua", code) for code in ids["_codes"]]  # type: ignore[misc]
    for entry in pages:
        endpoint, account = entry[0], entry[1]
        vals = dict(values[endpoint], **({"code": entry[2]} if len(entry) > 2 else {}))
        url = build_url(rules[endpoint].rule, vals)
        response = clients[account].get(url)
        if not response.content_type.startswith("text/html"):
            continue
        page = _Page()
        page.feed(response.get_data(as_text=True))
        for form in page.forms:
            action = urlsplit(form.action or url)
            try:
                target, _args = adapter.match(action.path, method=form.method)
            except Exception:  # noqa: BLE001 - a form to somewhere else
                continue
            if form.method == "GET":
                own.setdefault(target, set()).update(name for name, _v in form.fields)
            else:
                forms.setdefault((target, form.method), []).append(form)
        for href in page.links:
            link = urlsplit(href)
            names = {k for k, _v in parse_qsl(link.query, keep_blank_values=True)}
            try:
                target, _args = adapter.match(link.path or url, method="GET")
            except Exception:  # noqa: BLE001 - a link elsewhere
                continue
            own.setdefault(target, set()).update(names)
    for names in own.values():
        query |= names

    targets = {}
    for endpoint, (account, methods) in routes.items():
        rule = rules[endpoint]
        int_vars = {name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)}
        path = {k: values[endpoint].get(k, "1" if k in int_vars else "x") for k in rule.arguments}
        for method in methods:
            t = Target(endpoint, method, account, rule.rule, path, int_vars, query=sorted(query),
                       own_query=sorted(own.get(endpoint, ())))
            if method != "GET":
                fields: dict[str, str] = {"csrf_token": ""}
                files: list[str] = []
                for form in forms.get((endpoint, "POST"), []):  # HTML forms post; an API's fields are unknown
                    for name, default in form.fields:
                        fields.setdefault(name, default)
                    files += [f for f in form.files if f not in files]
                    t.multipart = t.multipart or "multipart" in form.enctype
                t.fields, t.files = list(fields.items()), files
            targets[t.name] = t

    log = Captured()
    logging.getLogger().addHandler(log)
    return World(app, clients, tokens, targets, log, sorted(query))


def close_world(world: World) -> None:
    logging.getLogger().removeHandler(world.log)
    from web.extensions import db
    with world.app.app_context():
        db.session.remove()
        db.engine.dispose()
