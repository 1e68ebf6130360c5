"""The demo: An Giang org units, one account per role, the library procedures (dữ liệu mẫu).

Idempotent: what exists is left as it is, so a second run changes nothing and writes no events.
Codes are illustrative e-identifiers in the H01 tree, not the province's official registry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

import bpmn
from bpmn import lint as lint_bpmn
from services import accounts, audit, procedures
from services.actors import DEMO
from services.models import OrgUnit, Procedure, Role, RoleAssignment, User
from services.roles import ROLES
from services.uow import transaction

DEMO_PASSWORD = "quytrinh2026"

# (code, name, kind, parent code)
ORG_UNITS: list[tuple[str, str, str, str | None]] = [
    ("H01", "UBND tỉnh An Giang", "province", None),
    ("H01.01", "Văn phòng UBND tỉnh An Giang", "office", "H01"),
    ("H01.02", "Trung tâm Phục vụ hành chính công tỉnh An Giang", "one_stop", "H01"),
    ("H01.10", "Sở Tài chính", "department", "H01"),
    ("H01.15", "Sở Xây dựng", "department", "H01"),
    ("H01.18", "Sở Nông nghiệp và Môi trường", "department", "H01"),
    ("H01.19", "Công an tỉnh An Giang", "department", "H01"),
    ("H01.20", "Sở Tư pháp", "department", "H01"),
    ("H01.21", "Sở Nội vụ", "department", "H01"),
    ("H01.60", "UBND phường Long Xuyên", "commune", "H01"),
    ("H01.60.01", "Trung tâm Phục vụ hành chính công phường Long Xuyên", "one_stop", "H01.60"),
    ("H01.61", "UBND xã Mỹ Hòa Hưng", "commune", "H01"),
    ("H01.61.01", "Trung tâm Phục vụ hành chính công xã Mỹ Hòa Hưng", "one_stop", "H01.61"),
]

# (username, full name, [(role, org unit code)])
ACCOUNTS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("admin", "Quản trị hệ thống", [("admin", "H01")]),
    ("thanhtra", "Trần Thị Kiểm Soát", [("auditor", "H01")]),
    ("thietke", "Lê Văn Thiết Kế", [("designer", "H01.15"), ("designer", "H01.21"), ("designer", "H01.10"),
                                    ("designer", "H01.60")]),
    ("motcua", "Nguyễn Thị Một Cửa", [("mot_cua", "H01.02")]),
    ("vanthu.so", "Phạm Văn Thư", [("van_thu", "H01.15")]),
    ("chuyenvien", "Võ Minh Chuyên", [("chuyen_vien", "H01.15")]),
    ("lanhdaophong", "Đặng Văn Phòng", [("lanh_dao_phong", "H01.15")]),
    ("lanhdaoso", "Huỳnh Thanh Sở", [("lanh_dao_so", "H01.15")]),
    ("vanthu.noivu", "Kiều Thị Văn Thư", [("van_thu", "H01.21")]),
    ("chuyenvien.noivu", "Tạ Minh Nội Vụ", [("chuyen_vien", "H01.21")]),
    ("lanhdaophong.noivu", "Lâm Văn Phòng", [("lanh_dao_phong", "H01.21")]),
    ("lanhdaoso.noivu", "Quách Thị Giám Đốc", [("lanh_dao_so", "H01.21")]),
    ("chuyenvien.taichinh", "Lý Thị Tài Chính", [("chuyen_vien", "H01.10")]),
    ("chuyenvien.nnmt", "Trương Văn Môi Trường", [("chuyen_vien", "H01.18")]),
    ("canbo.pccc", "Sơn Văn Phòng Cháy", [("chuyen_vien", "H01.19")]),
    ("vp.chuyenvien", "Bùi Thị Thẩm Tra", [("vp_chuyen_vien", "H01.01")]),
    ("vp.lanhdao", "Hồ Văn Chánh", [("vp_lanh_dao", "H01.01")]),
    ("vanthu.ubnd", "Mai Thị Phát Hành", [("van_thu", "H01.01")]),
    ("chutich", "Nguyễn Văn Chủ Tịch", [("chu_tich", "H01")]),
    ("phochutich", "Trần Văn Phó", [("pho_chu_tich", "H01")]),
    ("motcua.longxuyen", "Lê Thị Tiếp Nhận", [("mot_cua", "H01.60.01")]),
    ("tuphap.longxuyen", "Phan Văn Hộ Tịch", [("chuyen_vien", "H01.60")]),
    ("chutich.longxuyen", "Châu Văn Xã", [("chu_tich", "H01.60")]),
    ("vanthu.longxuyen", "Ngô Thị Văn Thư", [("van_thu", "H01.60")]),  # Văn thư UBND xã (commune_level)
    ("motcua.myhoahung", "Đỗ Thị Một Cửa", [("mot_cua", "H01.61.01")]),
]


@dataclass
class DemoReport:
    created_units: int = 0
    created_users: int = 0
    granted_roles: int = 0
    published: list[str] = field(default_factory=list)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # username, password, roles


def load(session: Session) -> DemoReport:
    report = DemoReport()
    _ensure_roles(session)
    _load_units(session, report)
    _load_accounts(session, report)
    _load_procedures(session, report)
    return report


def _ensure_roles(session: Session) -> None:
    # The migration seeds roles; this only matters for databases created with create_all in tests.
    with transaction(session):
        have = set(session.scalars(select(Role.code)))
        for code, vi, en in ROLES:
            if code not in have:
                session.add(Role(code=code, name_vi=vi, name_en=en))


def _load_units(session: Session, report: DemoReport) -> None:
    with transaction(session):
        by_code = {u.code: u for u in session.scalars(select(OrgUnit))}
        for code, name, kind, parent in ORG_UNITS:
            if code in by_code:
                continue
            unit = OrgUnit(code=code, name=name, kind=kind, parent=by_code.get(parent), active=True)
            session.add(unit)
            session.flush()
            by_code[code] = unit
            report.created_units += 1
            audit.record(session, DEMO.name, "org_unit_created", f"org_unit:{unit.id}",
                         {"code": code, "name": name, "kind": kind, "parent": parent})


def _load_accounts(session: Session, report: DemoReport) -> None:
    units = {u.code: u.id for u in session.scalars(select(OrgUnit))}
    for username, full_name, grants in ACCOUNTS:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = accounts.create_user(session, DEMO, username=username, full_name=full_name,
                                        password=DEMO_PASSWORD)
            report.created_users += 1
        for role, unit_code in grants:
            held = session.scalar(select(RoleAssignment.id).where(
                RoleAssignment.user_id == user.id, RoleAssignment.role_code == role,
                RoleAssignment.org_unit_id == units[unit_code]))
            if not held:
                accounts.grant_role(session, DEMO, user.id, role, units[unit_code])
                report.granted_roles += 1
        report.accounts.append((username, DEMO_PASSWORD, ", ".join(f"{r}@{u}" for r, u in grants)))


# The shipped library and the agency that handles each procedure.
LIBRARY: list[tuple[str, str]] = [
    ("chairman_decision.bpmn", "H01.21"),
    ("department_parallel.bpmn", "H01.15"),
    ("commune_level.bpmn", "H01.60"),
]
LIBRARY_DIR = Path(bpmn.__file__).resolve().parent / "library"


def _load_procedures(session: Session, report: DemoReport) -> None:
    """Publish each library procedure through the real approval path, as the demo's people."""
    people = {u.username: u for u in session.scalars(select(User).where(
        User.username.in_(("thietke", "vp.chuyenvien", "vp.lanhdao", "chutich"))))}
    designer, chairman = people["thietke"], people["chutich"]
    for filename, agency_code in LIBRARY:
        data = (LIBRARY_DIR / filename).read_bytes()
        lint_report = lint_bpmn(data)
        agency = session.scalar(select(OrgUnit).where(OrgUnit.code == agency_code))
        procedure = session.scalar(select(Procedure).where(
            Procedure.code == lint_report.code, Procedure.agency_id == agency.id))
        if procedure is None:
            procedure = procedures.create_procedure(
                session, designer, code=lint_report.code, name=lint_report.process_name,
                authority=lint_report.authority, agency_id=agency.id)
        if procedures.published_version(session, procedure.id) is not None:
            continue
        version = procedures.upload_version(session, designer, procedure.id, filename=filename, data=data)
        procedures.submit_version(session, designer, version.id)
        if version.requires_vp_review:
            procedures.give_vp_opinion(session, people["vp.chuyenvien"], version.id, agree=True,
                                       opinion="Quy trình phù hợp quy định, đủ thời gian cắt giảm 30 %.")
            procedures.give_vp_opinion(session, people["vp.lanhdao"], version.id, agree=True,
                                       opinion="Văn phòng UBND tỉnh thống nhất nội dung quy trình nội bộ.")
        procedures.decide_version(session, chairman, version.id, decision="approve",
                                  note="Phê duyệt quy trình nội bộ.")
        procedures.publish_version(session, designer, version.id)
        report.published.append(f"{procedure.code} {procedure.name}")


def format_report(report: DemoReport) -> str:
    lines = [
        f"Demo: {report.created_units} org units, {report.created_users} accounts, "
        f"{report.granted_roles} role grants, {len(report.published)} procedures published "
        "(0 means it was already loaded).",
        *[f"  published: {p}" for p in report.published],
        "",
        f"{'username':<22}{'password':<16}roles",
    ]
    lines += [f"{u:<22}{p:<16}{r}" for u, p, r in report.accounts]
    return "\n".join(lines)
