"""Who performs a step: the org unit in which a role holder may take it (phân công xử lý).

A step's org unit comes from its optional `tthc.org_unit` property — `agency` (the competent
agency, the default), `desk` (the receiving one-stop desk), `office` (the Văn phòng UBND tỉnh),
`province` (the UBND tỉnh), or an org unit code such as H01.18 for a consulted agency — or else
from its role: the one-stop roles work at the receiving desk, the Văn phòng roles at the office,
the Chairman's roles at the UBND tỉnh (at the commune itself for a commune procedure).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from services.errors import N_, ValidationError
from services.models import OrgUnit, User

_BY_ROLE = {"mot_cua": "desk", "vp_chuyen_vien": "office", "vp_lanh_dao": "office",
            "chu_tich": "province", "pho_chu_tich": "province"}


@dataclass(frozen=True)
class Unit:
    """The part of an org unit that routing reads."""

    id: int
    code: str
    kind: str
    parent_id: int | None


_t = OrgUnit.__table__
_COLUMNS = (_t.c.id, _t.c.code, _t.c.kind, _t.c.parent_id)


class Units:
    """Org units looked up for one transaction.

    Routing a step away from its agency (to the Văn phòng, the UBND tỉnh) needs the agency, its
    parent and the parent's office: with *near* (an agency id), the first lookup reads those in
    one statement, and the steps that stay at the agency or the desk read nothing.
    """

    def __init__(self, session: Session, near: int | None = None):
        self.session = session
        self._near = near
        self._by_id: dict[int, Unit] = {}

    def _keep(self, row) -> Unit | None:
        if row is None:
            return None
        unit = Unit(row[0], row[1], row[2], row[3])
        self._by_id[unit.id] = unit
        return unit

    def _known(self) -> Iterable[Unit]:
        if self._near is not None:
            near, self._near = self._near, None
            for row in self.session.execute(_NEIGHBOURHOOD, {"agency_id": near}):
                self._keep(row)
        return self._by_id.values()

    def _one(self, *where) -> Unit | None:
        return self._keep(self.session.execute(select(*_COLUMNS).where(*where)).first())

    def get(self, unit_id: int) -> Unit | None:
        for unit in self._known():
            if unit.id == unit_id:
                return unit
        return self._one(_t.c.id == unit_id)

    def child(self, parent_id: int, kind: str) -> Unit | None:
        for unit in self._known():
            if unit.parent_id == parent_id and unit.kind == kind:
                return unit
        return self._one(_t.c.parent_id == parent_id, _t.c.kind == kind)

    def by_code(self, code: str) -> Unit | None:
        for unit in self._known():
            if unit.code == code:
                return unit
        return self._one(_t.c.code == code)

    def province_of(self, unit: Unit) -> Unit:
        current = unit
        while current.parent_id is not None and current.kind != "province":
            current = self.get(current.parent_id)
        return current


def _neighbourhood(agency_id):
    parent = select(_t.c.parent_id).where(_t.c.id == agency_id).scalar_subquery()
    return select(*_COLUMNS).where(or_(_t.c.id == agency_id, _t.c.id == parent,
                                       and_(_t.c.parent_id == parent, _t.c.kind == "office")))


_NEIGHBOURHOOD = _neighbourhood(bindparam("agency_id"))


def step_org_unit_id(units: Units, agency_id: int, desk_id: int, role: str | None, properties) -> int:
    """The org unit of a step of a dossier of *agency_id* received at *desk_id*."""
    target = (properties.get("tthc.org_unit") or "").strip() or _BY_ROLE.get(role or "", "agency")
    if target == "agency":
        return agency_id
    if target == "desk":
        return desk_id
    agency = units.get(agency_id)
    if target == "province":
        # A commune decides its own procedures: its Chairman holds chu_tich in the commune unit.
        return agency.id if agency.kind == "commune" else units.province_of(agency).id
    if target == "office":
        province = units.province_of(agency)
        office = units.child(province.id, "office")
        if office is None:
            raise ValidationError(N_("No Văn phòng UBND (org unit of kind 'office') under %(code)s."),
                                  "org_unit", code=province.code)
        return office.id
    unit = units.by_code(target)
    if unit is None:
        raise ValidationError(N_("The step's org unit '%(code)s' (tthc.org_unit) does not exist."),
                              "tthc.org_unit", code=target)
    return unit.id


def holds(active: bool, assignments: Iterable[tuple[str, int]], role: str | None, org_unit_id: int) -> bool:
    """The rule for who may claim or complete a step: an active official holding the step's role
    in the step's org unit. *assignments* are (role code, org unit id) pairs."""
    return role is not None and active and (role, org_unit_id) in set(assignments)


def may_perform(user: User, role: str | None, org_unit_id: int) -> bool:
    return holds(user.active, ((a.role_code, a.org_unit_id) for a in user.assignments), role, org_unit_id)
