"""Who performs a step: the org unit in which a role holder may take it (phân công xử lý).

A step's org unit comes from its optional `tthc.org_unit` property — `agency` (the competent
agency, the default), `desk` (the receiving one-stop desk), `office` (the Văn phòng UBND tỉnh),
`province` (the UBND tỉnh), or an org unit code such as H01.18 for a consulted agency — or else
from its role: the one-stop roles work at the receiving desk, the Văn phòng roles at the office,
the Chairman's roles at the UBND tỉnh (at the commune itself for a commune procedure).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.errors import N_, ValidationError
from services.models import Dossier, OrgUnit, User

_BY_ROLE = {"mot_cua": "desk", "vp_chuyen_vien": "office", "vp_lanh_dao": "office",
            "chu_tich": "province", "pho_chu_tich": "province"}


def _province_of(session: Session, unit: OrgUnit) -> OrgUnit:
    current = unit
    while current.parent_id is not None and current.kind != "province":
        current = session.get(OrgUnit, current.parent_id)
    return current


def _office_of(session: Session, province: OrgUnit) -> OrgUnit:
    office = session.scalar(select(OrgUnit).where(OrgUnit.parent_id == province.id, OrgUnit.kind == "office"))
    if office is None:
        raise ValidationError(N_("No Văn phòng UBND (org unit of kind 'office') under %(code)s."),
                              "org_unit", code=province.code)
    return office


def step_org_unit(session: Session, dossier: Dossier, role: str | None, properties: dict) -> OrgUnit:
    target = (properties.get("tthc.org_unit") or "").strip() or _BY_ROLE.get(role or "", "agency")
    agency = session.get(OrgUnit, dossier.agency_id)
    if target == "agency":
        return agency
    if target == "desk":
        return session.get(OrgUnit, dossier.desk_id)
    if target == "province":
        # A commune decides its own procedures: its Chairman holds chu_tich in the commune unit.
        return agency if agency.kind == "commune" else _province_of(session, agency)
    if target == "office":
        return _office_of(session, _province_of(session, agency))
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == target))
    if unit is None:
        raise ValidationError(N_("The step's org unit '%(code)s' (tthc.org_unit) does not exist."),
                              "tthc.org_unit", code=target)
    return unit


def may_perform(user: User, role: str | None, org_unit_id: int) -> bool:
    """The rule for who may claim or complete a step: the step's role, held in the step's org unit."""
    return role is not None and user.active and user.has_role(role, org_unit_id)
