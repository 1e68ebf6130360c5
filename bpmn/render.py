"""The human-readable lint summary (bản tóm tắt) printed by ``quytrinh lint`` without ``--json``."""
from __future__ import annotations

from fractions import Fraction

from bpmn.i18n import DEFAULT_LANGUAGE, N_, format_minutes, translation
from bpmn.profile import describe_fraction
from bpmn.report import EXIT_INPUT, EXIT_OK, EXIT_POLICY, Report


_VERDICTS = {
    EXIT_OK: N_("Result: compliant"),
    EXIT_POLICY: N_("Result: policy violations"),
    EXIT_INPUT: N_("Result: the file cannot be used"),
}


def _minutes(value: int | None, lang: str) -> str:
    if value is None:
        return translation(lang).gettext(N_("unknown"))
    return translation(lang).gettext(N_("%(duration)s (%(minutes)s min)")) % {
        "duration": format_minutes(value, lang), "minutes": value}


def _percent(fraction_text: str) -> str:
    try:
        return describe_fraction(Fraction(fraction_text) * 100)
    except ValueError:  # an approximation ("≈0.333333", from a Fraction given in code)
        return f"{fraction_text} × 100"


def render_text(report: Report, lang: str = DEFAULT_LANGUAGE) -> str:
    """Errors, warnings, the budget in days/hours and the critical path, in *lang*."""
    _ = translation(lang).gettext
    lines: list[str] = []
    if report.process_id:
        title = report.process_name or report.process_id
        lines.append(_(N_("Procedure: %(name)s (%(id)s)")) % {"name": title, "id": report.process_id})
        details = []
        if report.code:
            details.append(_(N_("TTHC code %(code)s")) % {"code": report.code})
        if report.authority:
            details.append(_(N_("decided by %(authority)s")) % {"authority": report.authority})
        if report.reduction is not None:
            details.append(_(N_("cut %(percent)s%%")) % {"percent": _percent(report.reduction)})
        if report.min_reduction is not None:
            minimum = {"percent": _percent(report.min_reduction), "year": report.policy_year}
            details.append(_(N_("province's minimum %(percent)s%% (%(year)s)")) % minimum
                           if report.policy_year else _(N_("province's minimum %(percent)s%%")) % minimum)
        if details:
            lines.append("  " + " · ".join(details))
        for override in report.overrides:
            lines.append("  " + _(N_("%(property)s = %(given)s, given outside the file (the file: %(file)s)")) % {
                "property": override.property, "given": override.given,
                "file": override.file if override.file is not None else "—"})
    lines.append(_(_VERDICTS[report.exit_code]))
    for label, issues, mark in ((N_("Errors (%(count)s):"), report.errors, "✗"),
                                (N_("Warnings (%(count)s):"), report.warnings, "!")):
        if issues:
            lines.append(_(label) % {"count": len(issues)})
            for issue in issues:
                where = f" [{issue.element}]" if issue.element else ""
                lines.append(f"  {mark} {issue.code}{where}: {issue.message.render(lang)}")
    budget = report.budget
    if budget.allocated_minutes is not None or budget.legal_minutes is not None:
        lines.append(_(N_("Working time (1 day = 8 working hours):")))
        lines.append("  " + _(N_("Legal time: %(value)s")) % {"value": _minutes(budget.legal_minutes, lang)})
        lines.append("  " + _(N_("Target after the cut: %(value)s")) % {
            "value": _minutes(budget.target_minutes, lang)})
        lines.append("  " + _(N_("Allocated on the longest path: %(value)s")) % {
            "value": _minutes(budget.allocated_minutes, lang)})
        if budget.critical_path:
            path = " → ".join(report.names.get(n, n) for n in budget.critical_path)
            lines.append("  " + _(N_("Critical path: %(path)s")) % {"path": path})
    if report.tasks:
        lines.append(_(N_("Steps:")))
        for task in report.tasks.values():
            allotted = _minutes(task.allocation_minutes, lang)
            role = task.role or "?"
            step = f", {task.step}" if task.step else ""
            lines.append(f"  - {task.name or task.id} ({task.id}): {role}{step}, {allotted}")
    return "\n".join(lines)

