"""BPMN intake: hardened loading, the TTHC profile and the policy linter (no Flask, no database).

Public API (services, CLI, engine runtime)::

    from bpmn import lint, parse_procedure
    report = lint(data, legal_days=None, authority=None, reduction=None,
                  max_bytes=DEFAULT_MAX_BYTES, known_roles=KNOWN_ROLES)
    report.ok, report.exit_code, report.errors, report.warnings, report.budget, report.tasks
    report.to_dict(lang="vi")          # the `quytrinh lint --json` object
    procedure = parse_procedure(data)  # Procedure: SpiffWorkflow specs + TTHC profile
"""
from bpmn.i18n import CatalogMissing, Message, format_minutes
from bpmn.lint import ProcedureError, lint, parse_procedure
from bpmn.loader import DEFAULT_MAX_BYTES
from bpmn.procedure import FormField, ProcessProfile, Procedure, TaskProfile
from bpmn.profile import ProfileValueError, parse_allocation, parse_legal_days, parse_reduction
from bpmn.render import render_text
from bpmn.report import ALL_CODES, INPUT_CODES, Budget, Issue, Report, TaskSummary
from bpmn.roles import KNOWN_ROLES, role_from_lane
from bpmn.steps import InvalidOption
from bpmn.structure import MAX_ID_LENGTH, MAX_NAME_LENGTH

__all__ = [
    "lint", "parse_procedure", "render_text", "ProcedureError", "InvalidOption", "CatalogMissing",
    "Report", "Issue", "Budget", "TaskSummary", "Message", "Procedure", "ProcessProfile",
    "TaskProfile", "FormField", "ProfileValueError", "parse_allocation", "parse_legal_days",
    "parse_reduction", "role_from_lane", "format_minutes", "ALL_CODES", "INPUT_CODES", "KNOWN_ROLES",
    "DEFAULT_MAX_BYTES", "MAX_ID_LENGTH", "MAX_NAME_LENGTH",
]
