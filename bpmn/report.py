"""The lint report (báo cáo kiểm tra quy trình): errors, warnings, budget and per-task allocations.

One object serves the CLI (text or ``--json``), the services (can this version be submitted?)
and the web UI (draw each issue on the diagram by its element id).

Exit codes (``quytrinh lint``): 0 compliant (warnings allowed); 1 policy violations; 2 the input
could not be read or run — any error whose code is in :data:`INPUT_CODES`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bpmn.i18n import DEFAULT_LANGUAGE, Message

if TYPE_CHECKING:  # pragma: no cover
    from bpmn.procedure import Procedure

# Stable codes (DESIGN.md, "Policy checks").
XML_UNSAFE = "XML_UNSAFE"
BPMN_INVALID = "BPMN_INVALID"
BPMN_UNSUPPORTED = "BPMN_UNSUPPORTED"
SCRIPT_FORBIDDEN = "SCRIPT_FORBIDDEN"
CONDITION_INVALID = "CONDITION_INVALID"
ALLOCATION_MISSING = "ALLOCATION_MISSING"
ALLOCATION_INVALID = "ALLOCATION_INVALID"
LEGAL_TIME_MISSING = "LEGAL_TIME_MISSING"
ROLE_UNKNOWN = "ROLE_UNKNOWN"
TIME_BUDGET_EXCEEDED = "TIME_BUDGET_EXCEEDED"
VP_REVIEW_MISSING = "VP_REVIEW_MISSING"
VP_REVIEW_BYPASSED = "VP_REVIEW_BYPASSED"
#: The cut in force (upload option, tthc.reduction or the default) is below the province's minimum.
REDUCTION_BELOW_POLICY = "REDUCTION_BELOW_POLICY"
#: An element's id is one the workflow engine gives its own tasks (Start, End, <id>.EndJoin …):
#: the element would silently replace the engine's task (issue 11). An input code: it cannot run.
ID_RESERVED = "ID_RESERVED"

ALL_CODES = frozenset({
    XML_UNSAFE, BPMN_INVALID, BPMN_UNSUPPORTED, SCRIPT_FORBIDDEN, CONDITION_INVALID,
    ALLOCATION_MISSING, ALLOCATION_INVALID, LEGAL_TIME_MISSING, ROLE_UNKNOWN,
    TIME_BUDGET_EXCEEDED, VP_REVIEW_MISSING, VP_REVIEW_BYPASSED, ID_RESERVED,
    REDUCTION_BELOW_POLICY,
})
#: Errors that mean "unreadable or invalid input" (exit 2) rather than a policy violation.
INPUT_CODES = frozenset({XML_UNSAFE, BPMN_INVALID, BPMN_UNSUPPORTED, ID_RESERVED})

EXIT_OK, EXIT_POLICY, EXIT_INPUT = 0, 1, 2


@dataclass(frozen=True)
class Issue:
    """One finding; ``element`` is the BPMN id to highlight (the process id for whole-process
    findings, ``None`` only when the file could not be read far enough to have one)."""

    code: str
    element: str | None
    message: Message

    def to_dict(self, lang: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
        return {"code": self.code, "element": self.element, "message": self.message.render(lang)}


@dataclass(frozen=True)
class Budget:
    """Working minutes: legal time, the cut target, the longest allocated path and that path."""

    legal_minutes: int | None = None
    target_minutes: int | None = None
    allocated_minutes: int | None = None
    critical_path: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"legal_minutes": self.legal_minutes, "target_minutes": self.target_minutes,
                "allocated_minutes": self.allocated_minutes,
                "critical_path": list(self.critical_path)}


@dataclass(frozen=True)
class TaskSummary:
    """A human step as the linter understood it (the web UI labels the diagram with these)."""

    id: str
    name: str | None
    kind: str
    lane: str | None
    role: str | None
    step: str | None
    allocation_minutes: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.kind, "lane": self.lane, "role": self.role,
                "step": self.step, "allocation_minutes": self.allocation_minutes}


@dataclass(frozen=True)
class Override:
    """A process value given outside the file (upload form, CLI option, the procedure's record)
    that differs from what the file says; ``file`` is None when the file says nothing."""

    property: str
    file: str | None
    given: str

    def to_dict(self) -> dict[str, Any]:
        return {"property": self.property, "file": self.file, "given": self.given}


@dataclass
class Report:
    """What ``lint`` found. ``procedure`` is the parsed procedure when the file could be built."""

    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    budget: Budget = field(default_factory=Budget)
    tasks: dict[str, TaskSummary] = field(default_factory=dict)
    process_id: str | None = None
    process_name: str | None = None
    code: str | None = None
    authority: str | None = None
    reduction: str | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    procedure: Procedure | None = None
    #: The province's minimum cut the reduction was checked against, and the year it is the
    #: minimum of (a label the caller sets: lint itself knows no date).
    min_reduction: str | None = None
    policy_year: int | None = None
    overrides: list[Override] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        if any(issue.code in INPUT_CODES for issue in self.errors):
            return EXIT_INPUT
        return EXIT_POLICY if self.errors else EXIT_OK

    def codes(self) -> list[str]:
        """Error codes in report order (handy for callers and tests)."""
        return [issue.code for issue in self.errors]

    def warning_codes(self) -> list[str]:
        return [issue.code for issue in self.warnings]

    def error(self, code: str, element: str | None, msg: Message) -> None:
        self.errors.append(Issue(code, element, msg))

    def warn(self, code: str, element: str | None, msg: Message) -> None:
        self.warnings.append(Issue(code, element, msg))

    def to_dict(self, lang: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
        """The ``--json`` contract plus extra keys (process, tasks, the policy minimum applied,
        the overrides of the file's values)."""
        return {
            "ok": self.ok,
            "errors": [issue.to_dict(lang) for issue in self.errors],
            "warnings": [issue.to_dict(lang) for issue in self.warnings],
            "budget": self.budget.to_dict(),
            "exit_code": self.exit_code,
            "process": {"id": self.process_id, "name": self.process_name, "code": self.code,
                        "authority": self.authority, "reduction": self.reduction},
            "tasks": {task_id: task.to_dict() for task_id, task in self.tasks.items()},
            "policy": {"min_reduction": self.min_reduction, "year": self.policy_year},
            "overrides": [override.to_dict() for override in self.overrides],
        }
