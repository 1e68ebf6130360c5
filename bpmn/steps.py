"""Reading the profile off the model (đọc thuộc tính): process properties and human steps.

Every problem found while reading becomes an issue in the report, named by element id:
ALLOCATION_MISSING / ALLOCATION_INVALID and ROLE_UNKNOWN (a warning) per step,
LEGAL_TIME_MISSING for the process, BPMN_INVALID for a value outside its domain (tthc.step,
tthc.reduction) since the file then says something the engine cannot act on.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from lxml import etree

from bpmn.i18n import N_, message
from bpmn.procedure import HUMAN_TASKS, FormField, ProcessProfile, TaskProfile
from bpmn.profile import (
    CAMUNDA_NS, DEFAULT_REDUCTION, ProfileValueError, describe_fraction, legal_minutes,
    parse_allocation, parse_authority, parse_legal_days, parse_reduction, parse_step,
    read_properties, target_minutes,
)
from bpmn.report import (
    ALLOCATION_INVALID, ALLOCATION_MISSING, BPMN_INVALID, LEGAL_TIME_MISSING, ROLE_UNKNOWN, Override,
    Report,
)
from bpmn.roles import role_from_lane
from bpmn.structure import Model

_C = f"{{{CAMUNDA_NS}}}"


class InvalidOption(ValueError):
    """An override given by the caller (upload form, CLI option) is not usable."""

    def __init__(self, option: str, value: Any, error: ProfileValueError) -> None:
        self.option, self.value, self.reason = option, value, error.reason
        super().__init__(f"{option}={value!r}: {error.reason.render('en')}")


@dataclass(frozen=True)
class Overrides:
    """Process-level values supplied outside the file; they win over the file's properties."""

    legal_days: Fraction | None = None
    authority: str | None = None
    reduction: Fraction | None = None

    @classmethod
    def parse(cls, legal_days: Any = None, authority: Any = None, reduction: Any = None) -> Overrides:
        """Validate raw values (strings, numbers); InvalidOption names the bad one."""
        values: dict[str, Any] = {}
        for option, raw, parse in (("legal_days", legal_days, parse_legal_days),
                                   ("authority", authority, parse_authority),
                                   ("reduction", reduction, parse_reduction)):
            if raw is None:
                values[option] = None
                continue
            try:
                values[option] = parse(raw)
            except ProfileValueError as exc:
                raise InvalidOption(option, raw, exc) from None
        return cls(**values)


def read_process(model: Model, report: Report, overrides: Overrides) -> ProcessProfile:
    properties, _ = read_properties(model.process)
    if model.participant is not None:
        for name, value in read_properties(model.participant)[0].items():
            properties.setdefault(name, value)
    pid = model.process_id

    authority = overrides.authority
    raw_authority = (properties.get("tthc.authority") or "").strip()
    if authority is None and raw_authority:
        try:
            authority = parse_authority(raw_authority)
        except ProfileValueError as exc:
            report.error(BPMN_INVALID, pid, _bad_value("tthc.authority", raw_authority, pid, exc))

    legal_days = overrides.legal_days
    raw_days = (properties.get("tthc.legal_days") or "").strip()
    if legal_days is None and raw_days:
        try:
            legal_days = parse_legal_days(raw_days)
        except ProfileValueError as exc:
            report.error(LEGAL_TIME_MISSING, pid, message(
                N_("Process '%(id)s': tthc.legal_days '%(value)s' cannot be used (%(reason)s)."),
                id=pid, value=raw_days[:64], reason=exc.reason))
    elif legal_days is None:
        report.error(LEGAL_TIME_MISSING, pid, message(
            N_("Process '%(id)s' has no legal processing time: set tthc.legal_days on the process "
               "or give it with the upload (--legal-days)."), id=pid))

    reduction = overrides.reduction
    raw_reduction = (properties.get("tthc.reduction") or "").strip()
    reduction_ok = True
    if reduction is None and raw_reduction:
        try:
            reduction = parse_reduction(raw_reduction)
        except ProfileValueError as exc:
            reduction_ok = False
            report.error(BPMN_INVALID, pid, _bad_value("tthc.reduction", raw_reduction, pid, exc))
    reduction = DEFAULT_REDUCTION if reduction is None else reduction

    legal = legal_minutes(legal_days) if legal_days is not None else None
    target = target_minutes(legal, reduction) if legal is not None and reduction_ok else None
    code = (properties.get("tthc.code") or "").strip() or None
    report.overrides = overridden(overrides, raw_days, raw_authority, raw_reduction)
    return ProcessProfile(pid, model.process_name, code, authority, legal_days, reduction,
                          legal, target, properties)


def overridden(overrides: Overrides, raw_days: str, raw_authority: str,
               raw_reduction: str) -> list[Override]:
    """The values given outside the file that differ from the file's (or that the file lacks),
    so that whoever reviews the version sees which numbers did not come from the file."""
    found = []
    for prop, given, raw, parse, show in (
            ("tthc.legal_days", overrides.legal_days, raw_days, parse_legal_days, describe_fraction),
            ("tthc.authority", overrides.authority, raw_authority, parse_authority, str),
            ("tthc.reduction", overrides.reduction, raw_reduction, parse_reduction, describe_fraction)):
        if given is None:
            continue
        try:
            same = bool(raw) and parse(raw) == given
        except ProfileValueError:
            same = False
        if not same:
            found.append(Override(prop, raw[:64] or None, show(given)))
    return found


def _bad_value(prop: str, value: str, element_id: str, exc: ProfileValueError):
    return message(N_("'%(id)s': %(property)s '%(value)s' cannot be used (%(reason)s)."),
                   id=element_id, property=prop, value=value[:64], reason=exc.reason)


def read_tasks(model: Model, report: Report, known_roles: Collection[str]) -> dict[str, TaskProfile]:
    tasks: dict[str, TaskProfile] = {}
    for node in model.nodes.values():
        if node.kind in HUMAN_TASKS:
            tasks[node.id] = _read_task(node, report, known_roles)
    return tasks


def _read_task(node, report: Report, known_roles: Collection[str]) -> TaskProfile:
    properties, conflicts = read_properties(node.element)
    label = node.name or node.id
    minutes = _read_allocation(node.id, label, properties, conflicts, report)

    step = None
    raw_step = (properties.get("tthc.step") or "").strip()
    if raw_step:
        try:
            step = parse_step(raw_step)
        except ProfileValueError as exc:
            report.error(BPMN_INVALID, node.id, message(
                N_("Step '%(name)s' (%(id)s): tthc.step '%(value)s' cannot be used (%(reason)s)."),
                name=label, id=node.id, value=raw_step[:64], reason=exc.reason))

    role = _read_role(node, label, properties, report, known_roles)
    return TaskProfile(node.id, node.name, node.kind, node.lane, role, step, minutes,
                       properties, read_form_fields(node.element))


def _read_allocation(task_id, label, properties, conflicts, report: Report) -> int | None:
    raw = properties.get("tthc.allocation")
    if "tthc.allocation" in conflicts:
        report.error(ALLOCATION_INVALID, task_id, message(
            N_("Step '%(name)s' (%(id)s): tthc.allocation is given several times with different "
               "values (%(values)s)."), name=label, id=task_id,
            values=", ".join(v[:32] for v in conflicts["tthc.allocation"])))
        return None
    if raw is None or not raw.strip():
        report.error(ALLOCATION_MISSING, task_id, message(
            N_("Step '%(name)s' (%(id)s) has no working time allotted (tthc.allocation)."),
            name=label, id=task_id))
        return None
    try:
        return parse_allocation(raw)
    except ProfileValueError as exc:
        report.error(ALLOCATION_INVALID, task_id, message(
            N_("Step '%(name)s' (%(id)s): the allocation '%(value)s' cannot be read (%(reason)s); "
               "write it like 4h, 0.5d, 1d4h, 30m or PT4H."),
            name=label, id=task_id, value=raw.strip()[:64], reason=exc.reason))
        return None


def _read_role(node, label, properties, report: Report, known_roles: Collection[str]) -> str | None:
    raw_role = (properties.get("tthc.role") or "").strip()
    if raw_role:
        role = role_from_lane(raw_role, known_roles)
        if role is None:
            report.warn(ROLE_UNKNOWN, node.id, message(
                N_("Step '%(name)s' (%(id)s): tthc.role '%(role)s' is not a known role."),
                name=label, id=node.id, role=raw_role[:64]))
        return role
    if node.lane is None or not node.lane.strip():
        report.warn(ROLE_UNKNOWN, node.id, message(
            N_("Step '%(name)s' (%(id)s) has no role: set tthc.role or put the step in a lane "
               "named after a role."), name=label, id=node.id))
        return None
    role = role_from_lane(node.lane, known_roles)
    if role is None:
        report.warn(ROLE_UNKNOWN, node.id, message(
            N_("Step '%(name)s' (%(id)s): the lane '%(lane)s' does not name a known role; "
               "set tthc.role."), name=label, id=node.id, lane=node.lane[:80]))
    return role


def read_form_fields(element: etree._Element) -> tuple[FormField, ...]:
    """Fields of a Camunda 7 generated form (camunda:formData), if any."""
    fields = []
    for xml_field in element.iterfind(
            f"{{http://www.omg.org/spec/BPMN/20100524/MODEL}}extensionElements/{_C}formData/{_C}formField"):
        required = any(c.get("name") == "required"
                       for c in xml_field.iterfind(f"{_C}validation/{_C}constraint"))
        options = tuple((v.get("id") or "", v.get("name") or "") for v in xml_field.iterfind(f"{_C}value"))
        fields.append(FormField(xml_field.get("id") or "", xml_field.get("label"), xml_field.get("type"),
                                xml_field.get("defaultValue"), required, options))
    return tuple(fields)
