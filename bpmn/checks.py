"""The policy checks (kiểm tra chính sách) of DESIGN.md, each adding issues to the report.

* :func:`check_scripts` — SCRIPT_FORBIDDEN: script tasks and every way modellers attach code
  (spiffworkflow:preScript/postScript, camunda:script, Camunda execution/task listeners, Zeebe
  scripts and listeners).
* :func:`check_conditions` — CONDITION_INVALID naming the flow: conditions outside the
  restricted grammar, scripted conditions, a split flow with neither condition nor default.
* :func:`check_budget` — TIME_BUDGET_EXCEEDED with the critical path.
* :func:`check_vp_review` — VP_REVIEW_MISSING / VP_REVIEW_BYPASSED.
* :func:`check_reduction` — REDUCTION_BELOW_POLICY: the cut in force, wherever it comes from
  (upload option, tthc.reduction, the default), is below the province's minimum.
"""
from __future__ import annotations

from fractions import Fraction

from bpmn.graph import FlowGraph, longest_path, vp_bypasses
from bpmn.i18n import N_, Minutes, message
from bpmn.procedure import CHAIRMAN_APPROVAL, VP_REVIEW, ProcessProfile, TaskProfile
from bpmn.profile import (
    CAMUNDA_NS, SPIFF_NS, ZEEBE_NS, ProfileValueError, describe_fraction, format_fraction,
    parse_reduction,
)
from bpmn.report import (
    BPMN_UNSUPPORTED, CONDITION_INVALID, REDUCTION_BELOW_POLICY, SCRIPT_FORBIDDEN,
    TIME_BUDGET_EXCEEDED, VP_REVIEW_BYPASSED, VP_REVIEW_MISSING, Budget, Report,
)
from bpmn.structure import CONDITIONAL_GATEWAYS, Model, local
from bpmn.expressions import Condition, ExpressionError, compile_condition

#: Authorities whose procedures need the Văn phòng UBND review before the Chairman.
VP_AUTHORITIES = frozenset({"ubnd_tinh", "chu_tich_ubnd_tinh"})
#: conditionExpression languages that mean our grammar (absent is the usual case).
CONDITION_LANGUAGES = frozenset({"", "python", "feel", "juel", "text/x-python"})

_CODE_HOOKS = {
    f"{{{SPIFF_NS}}}preScript": "spiffworkflow:preScript",
    f"{{{SPIFF_NS}}}postScript": "spiffworkflow:postScript",
    f"{{{CAMUNDA_NS}}}script": "camunda:script",
    f"{{{CAMUNDA_NS}}}executionListener": "camunda:executionListener",
    f"{{{CAMUNDA_NS}}}taskListener": "camunda:taskListener",
    f"{{{ZEEBE_NS}}}script": "zeebe:script",
    f"{{{ZEEBE_NS}}}executionListeners": "zeebe:executionListeners",
    f"{{{ZEEBE_NS}}}taskListeners": "zeebe:taskListeners",
}
_BLANK_ALLOWED = {"spiffworkflow:preScript", "spiffworkflow:postScript"}  # empty = no script


def _owner(element, model: Model) -> str:
    """The id of the nearest BPMN element around *element* (the process at worst)."""
    current = element.getparent()
    while current is not None:
        if local(current) is not None and current.get("id"):
            return current.get("id")
        current = current.getparent()
    return model.process_id


def check_scripts(model: Model, report: Report) -> None:
    for node in model.nodes.values():
        if node.kind == "scriptTask":
            report.error(SCRIPT_FORBIDDEN, node.id, message(
                N_("Script task '%(name)s' (%(id)s): uploaded procedures may not run scripts; "
                   "model the step as a user task or a gateway condition."),
                name=node.name or node.id, id=node.id))
    seen: set[tuple[str, str]] = set()
    for element in model.process.iter(*_CODE_HOOKS):
        hook = _CODE_HOOKS[element.tag]
        if hook in _BLANK_ALLOWED and not "".join(element.itertext()).strip():
            continue
        owner = _owner(element, model)
        if (owner, hook) in seen:
            continue
        seen.add((owner, hook))
        report.error(SCRIPT_FORBIDDEN, owner, message(
            N_("'%(name)s' (%(id)s) has a %(hook)s; uploaded procedures may not contain code."),
            name=model.name_of(owner), id=owner, hook=hook))


def check_conditions(model: Model, report: Report) -> dict[str, Condition]:
    """Check every condition; return the usable ones by flow id."""
    conditions: dict[str, Condition] = {}
    for flow in model.flows.values():
        source = model.nodes[flow.source]
        text = flow.condition if flow.condition is not None and flow.condition.strip() else None
        if text is None:
            continue
        if source.kind == "parallelGateway":
            report.error(CONDITION_INVALID, flow.id, message(
                N_("Flow '%(flow)s' leaves the parallel gateway '%(source)s' with a condition, "
                   "which is never evaluated; remove it or use an exclusive/inclusive gateway."),
                flow=flow.id, source=source.id))
            continue
        if source.kind not in CONDITIONAL_GATEWAYS:
            report.error(BPMN_UNSUPPORTED, flow.id, message(
                N_("Flow '%(flow)s' has a condition but leaves '%(source)s' (%(type)s); only flows "
                   "leaving an exclusive or inclusive gateway may have conditions."),
                flow=flow.id, source=source.id, type=source.kind))
            continue
        language = (flow.language or "").strip().lower()
        if language not in CONDITION_LANGUAGES or flow.resource:
            report.error(CONDITION_INVALID, flow.id, message(
                N_("The condition on flow '%(flow)s' is a script (language '%(language)s'); "
                   "write it as a simple comparison such as decision == 'approve'."),
                flow=flow.id, language=(flow.language or "resource")[:40]))
            continue
        try:
            conditions[flow.id] = compile_condition(text)
        except ExpressionError as exc:
            report.error(CONDITION_INVALID, flow.id, message(
                N_("The condition on flow '%(flow)s' (from '%(source)s') is outside the allowed "
                   "grammar: %(reason)s."), flow=flow.id, source=source.id, reason=exc))
    for node in model.nodes.values():
        out = model.outgoing.get(node.id, [])
        if node.kind not in CONDITIONAL_GATEWAYS or len(out) < 2:
            continue
        default = node.element.get("default")
        for flow_id in out:
            flow = model.flows[flow_id]
            if flow_id != default and (flow.condition is None or not flow.condition.strip()):
                report.error(CONDITION_INVALID, flow_id, message(
                    N_("Flow '%(flow)s' leaves the gateway '%(source)s' without a condition and is "
                       "not its default flow."), flow=flow_id, source=node.id))
    return conditions


def _path_text(model: Model, path: list[str]) -> str:
    return " → ".join(model.name_of(node_id) for node_id in path)


def check_budget(model: Model, graph: FlowGraph, process: ProcessProfile, report: Report) -> Budget:
    allocated, path = longest_path(graph)
    budget = Budget(process.legal_minutes, process.target_minutes, allocated, tuple(path))
    if process.target_minutes is not None and allocated > process.target_minutes:
        report.error(TIME_BUDGET_EXCEEDED, model.process_id, message(
            N_("The longest path allots %(allocated)s, more than the target of %(target)s "
               "(legal time %(legal)s cut by %(percent)s%%): %(path)s."),
            allocated=Minutes(allocated), target=Minutes(process.target_minutes),
            legal=Minutes(process.legal_minutes), percent=format_fraction(process.reduction * 100),
            path=_path_text(model, path)))
    return budget


def check_vp_review(model: Model, graph: FlowGraph, process: ProcessProfile,
                    tasks: dict[str, TaskProfile], report: Report) -> None:
    if process.authority not in VP_AUTHORITIES:
        return
    reviews = [t.id for t in tasks.values() if t.step == VP_REVIEW]
    chairmen = [t.id for t in tasks.values() if t.step == CHAIRMAN_APPROVAL]
    if not reviews:
        report.error(VP_REVIEW_MISSING, model.process_id, message(
            N_("The procedure is decided by %(authority)s but has no Văn phòng UBND review step "
               "(a task with tthc.step = vp_review)."), authority=process.authority))
        return
    for chairman, path in vp_bypasses(graph, set(reviews), chairmen):
        report.error(VP_REVIEW_BYPASSED, chairman, message(
            N_("The Chairman's step '%(name)s' (%(id)s) can be reached without the Văn phòng UBND "
               "review: %(path)s."), name=model.name_of(chairman), id=chairman,
            path=_path_text(model, path)))


_REDUCTION_SOURCES = {
    "option": N_("given with the upload (or --reduction)"),
    "file": N_("tthc.reduction in the file"),
    "default": N_("the default: the file sets no tthc.reduction"),
}


def check_reduction(model: Model, process: ProcessProfile, minimum: Fraction, report: Report, *,
                    given: bool) -> None:
    """The cut may not be smaller than the province's minimum (0.30 unless raised): a cut of 0,
    0 % or 1e-300 would make the target the whole legal time and switch the rule off.

    *given*: the cut came from outside the file (upload form, ``--reduction``).
    """
    if process.reduction >= minimum:
        return
    raw = (process.properties.get("tthc.reduction") or "").strip()
    if given:
        source = "option"
    elif not raw:
        source = "default"
    else:
        try:
            parse_reduction(raw)
        except ProfileValueError:
            return  # unreadable: already refused as BPMN_INVALID, the default stands in for it
        source = "file"
    report.error(REDUCTION_BELOW_POLICY, model.process_id, message(
        N_("Process '%(id)s': the reduction %(given)s (%(source)s) is below the province's minimum "
           "of %(minimum)s (%(percent)s%%); cut the legal time by at least %(percent)s%%."),
        id=model.process_id, given=describe_fraction(process.reduction),
        source=message(_REDUCTION_SOURCES[source]), minimum=describe_fraction(minimum),
        percent=describe_fraction(minimum * 100)))
