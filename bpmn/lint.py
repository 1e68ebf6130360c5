"""The linter (kiểm tra quy trình): one entry point for the CLI, the services and the runtime.

::

    report = lint(data)                         # never raises on the file's account
    procedure = parse_procedure(data)           # ProcedureError when it cannot be run

Order: size → hardened XML → structure (supported elements, references, ids the engine
reserves) → profile (process and step properties) → scripts and conditions → time budget and VP
review on the flow graph → SpiffWorkflow specs → a trial start. The graph checks need a sound
structure and are skipped when it is not; SpiffWorkflow is only run when nothing would make it
fail or run uploaded code.

The trial start is the runtime's own start path (:func:`bpmn.workflow.start.trial_start`): the
workflow is started as a desk's receipt starts it, run to its first human steps, stored and
loaded back. Whatever stops it is a BPMN_INVALID naming the element, so a file that passes lint
is a file whose dossiers can be received.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from fractions import Fraction
from typing import Any, BinaryIO

from bpmn.checks import check_budget, check_conditions, check_reduction, check_scripts, check_vp_review
from bpmn.flatten import flow_graph
from bpmn.i18n import N_, Message, message
from bpmn.loader import DEFAULT_MAX_BYTES, IntakeError, load_xml, read_limited
from bpmn.procedure import Procedure
from bpmn.profile import POLICY_MIN_REDUCTION, ProfileValueError, describe_fraction, parse_reduction
from bpmn.report import (
    BPMN_INVALID, BPMN_UNSUPPORTED, CONDITION_INVALID, ID_RESERVED, SCRIPT_FORBIDDEN, XML_UNSAFE, Budget,
    Report, TaskSummary,
)
from bpmn.roles import KNOWN_ROLES
from bpmn.spiff import SpecError, build_specs
from bpmn.steps import InvalidOption, Overrides, read_process, read_tasks
from bpmn.structure import read_model
from bpmn.workflow.start import StartFailed, trial_start

Source = bytes | bytearray | memoryview | BinaryIO
# A BPMN_INVALID found after the structure (a tthc.step or tthc.reduction value) does not stop
# SpiffWorkflow; these do.
_BLOCKS_SPECS = frozenset({XML_UNSAFE, BPMN_UNSUPPORTED, SCRIPT_FORBIDDEN, CONDITION_INVALID, ID_RESERVED})


class ProcedureError(Exception):
    """The procedure cannot be built or run; ``report`` says why."""

    def __init__(self, report: Report) -> None:
        super().__init__(", ".join(report.codes()) or "procedure could not be built")
        self.report = report


def lint(source: Source, *, legal_days: Any = None, authority: Any = None, reduction: Any = None,
         max_bytes: int = DEFAULT_MAX_BYTES, known_roles: Collection[str] = KNOWN_ROLES,
         min_reduction: Any = POLICY_MIN_REDUCTION) -> Report:
    """Check a BPMN file against the TTHC profile and policy; return the :class:`Report`.

    *source* is the file's bytes or a binary file object (read at most ``max_bytes + 1``).
    *legal_days*, *authority* and *reduction* override the process properties (strings or
    numbers, as typed in a form); an unusable override raises
    :class:`~bpmn.steps.InvalidOption` before the file is looked at. *min_reduction* is the
    province's minimum cut in force (the caller reads it from the policy; 0.30 by default): a
    smaller cut is REDUCTION_BELOW_POLICY. Anything wrong with the file itself, including an
    unexpected failure, is reported, never raised.
    """
    if isinstance(source, str):
        raise TypeError("lint() takes the file's bytes or a binary file object, not str")
    overrides = Overrides.parse(legal_days, authority, reduction)
    try:
        minimum = parse_reduction(min_reduction)
    except ProfileValueError as exc:
        raise InvalidOption("min_reduction", min_reduction, exc) from None
    report = Report(min_reduction=describe_fraction(minimum))
    try:
        _lint(source, overrides, minimum, max_bytes, frozenset(known_roles), report)
    except IntakeError as exc:
        report.error(exc.code, exc.element, exc.message)
    except Exception as exc:  # noqa: BLE001 - a report, never a traceback
        report.error(BPMN_INVALID, report.process_id, message(
            N_("The linter stopped on an unexpected problem (%(kind)s); the file could not be checked."),
            kind=type(exc).__name__))
    return report


def parse_procedure(source: Source, *, legal_days: Any = None, authority: Any = None,
                    reduction: Any = None, max_bytes: int = DEFAULT_MAX_BYTES,
                    known_roles: Collection[str] = KNOWN_ROLES) -> Procedure:
    """The :class:`Procedure` of a BPMN file, parsed once per version for the runtime.

    Raises :class:`ProcedureError` (with the report) when the file cannot be run: unreadable,
    unsupported, or containing code. Policy findings (budget, VP review, allocations) do not
    stop it — publishing is gated on :func:`lint` by the services.
    """
    report = lint(source, legal_days=legal_days, authority=authority, reduction=reduction,
                  max_bytes=max_bytes, known_roles=known_roles)
    if report.procedure is None or report.exit_code == 2:
        raise ProcedureError(report)
    return report.procedure


def _lint(source: Source, overrides: Overrides, minimum: Fraction, max_bytes: int,
          known_roles: frozenset[str], report: Report) -> None:
    root = load_xml(read_limited(source, max_bytes))
    model = read_model(root, report)
    if model is None:
        return
    structural = bool(report.errors)
    # Whole-document findings are drawn on the process when there is one.
    report.errors = [replace(issue, element=model.process_id) if issue.element is None else issue
                     for issue in report.errors]
    report.names = {node_id: node.name for node_id, node in model.nodes.items() if node.name}

    process = read_process(model, report, overrides)
    report.authority, report.code = process.authority, process.code
    report.reduction = describe_fraction(process.reduction)
    check_reduction(model, process, minimum, report, given=overrides.reduction is not None)
    tasks = read_tasks(model, report, known_roles)
    report.tasks = {t.id: TaskSummary(t.id, t.name, t.kind, t.lane, t.role, t.step, t.allocation_minutes)
                    for t in tasks.values()}
    check_scripts(model, report)
    conditions = check_conditions(model, report)
    if structural:
        report.budget = Budget(process.legal_minutes, process.target_minutes)
        return

    graph = flow_graph(model, {t.id: t.allocation_minutes or 0 for t in tasks.values()})
    report.budget = check_budget(model, graph, process, report)
    check_vp_review(model, graph, process, tasks, report)

    if any(issue.code in _BLOCKS_SPECS for issue in report.errors):
        return
    try:
        spec, subprocess_specs = build_specs(root, model.process_id, tasks)
    except SpecError as exc:
        if exc.too_deep:
            report.error(BPMN_UNSUPPORTED, model.process_id, message(
                N_("Process '%(id)s' is too long a chain of steps for the engine to build; "
                   "shorten it or split it into sub-processes."), id=model.process_id))
        else:
            element = exc.element if exc.element in model.nodes else model.process_id
            report.error(BPMN_INVALID, element, message(
                N_("SpiffWorkflow could not build the process at '%(id)s'; check that element's "
                   "type, flows and settings."), id=element))
        return
    try:
        trial_start(spec, subprocess_specs, tasks.keys(), model.process_id)
    except StartFailed as exc:
        element = exc.element if exc.element in model.nodes else model.process_id
        report.error(BPMN_INVALID, element, message(
            N_("The engine could not start the procedure at '%(id)s': %(reason)s. No dossier could be "
               "received on this file."), id=element, reason=_start_reason(exc)))
        return
    report.procedure = Procedure(process, tasks, spec, subprocess_specs, conditions,
                                 report.budget.allocated_minutes or 0, report.budget.critical_path, graph)



def _start_reason(exc: StartFailed) -> Message:
    if exc.kind == StartFailed.TOO_DEEP:
        return message(N_("the process is nested or chained too deeply for the engine"))
    if exc.kind == StartFailed.STUCK:
        return message(N_("the workflow waits there with no step for anyone to do; check the "
                          "gateways and joins before the first step"))
    if exc.kind == StartFailed.NOT_A_STEP:
        return message(N_("the engine made it ready but it is not a step of the procedure"))
    if exc.kind == StartFailed.STATE:
        return message(N_("the started workflow could not be stored and loaded back (%(detail)s)"),
                       detail=exc.detail)
    return message(N_("the workflow engine stopped there (%(detail)s); check that element's type, "
                      "flows and conditions"), detail=exc.detail)
