"""The runtime guard (kiểm soát thẩm tra trước khi trình Chủ tịch): pure rule, no state.

DESIGN.md: "a chairman_approval task of a dossier whose procedure requires the review cannot be
completed unless a vp_review was completed after the last submission."

Definitions, on the procedure's flow graph (``bpmn.flatten.flow_graph``, the same graph the
linter checks) with its loop-back edges (``bpmn.graph.back_edges``) removed:

* A **submission** is the completion of a human task that lies *upstream* of a vp_review task —
  one from which a vp_review task can be reached, i.e. the department's work that produces what
  the Văn phòng reviews (receipt, appraisal, the head's signature) — or of a chairman_approval
  task (the Chairman returning the file makes the next arrival a resubmission). vp_review tasks
  are never submissions.
* The review is **fresh** when some vp_review task has been completed and no submission has been
  completed after the last vp_review completion.

Tasks between the review and the Chairman (a clerk forwarding the file) are downstream of every
review, so they are not submissions and do not make the review stale. Removing loop-back edges
is what keeps a return loop from making *every* task upstream of the review.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from bpmn.graph import back_edges
from bpmn.procedure import CHAIRMAN_APPROVAL, VP_REVIEW, Procedure
from engine.runtime.errors import EngineError


@dataclass(frozen=True)
class ReviewRule:
    """The guard's view of one procedure: which task ids review and which submit."""

    reviews: frozenset[str]
    chairmen: frozenset[str]
    submissions: frozenset[str]

    def is_fresh(self, history: Sequence[str]) -> bool:
        """*history*: spec ids of the completed human tasks, in completion order."""
        last_review = -1
        for index, spec_id in enumerate(history):
            if spec_id in self.reviews:
                last_review = index
        if last_review < 0:
            return False
        return not any(spec_id in self.submissions for spec_id in history[last_review + 1:])


def build_rule(procedure: Procedure) -> ReviewRule:
    graph = procedure.graph
    if graph is None:
        raise EngineError("The procedure has no flow graph; build it with bpmn.parse_procedure.",
                          element=procedure.process_id)
    back = back_edges(graph)
    predecessors: dict[str, list[str]] = {}
    for source, edges in graph.out.items():
        for index, edge in enumerate(edges):
            if (source, index) not in back:
                predecessors.setdefault(edge.target, []).append(source)
    reviews = frozenset(t.id for t in procedure.tasks.values() if t.step == VP_REVIEW)
    chairmen = frozenset(t.id for t in procedure.tasks.values() if t.step == CHAIRMAN_APPROVAL)
    upstream: set[str] = set()
    pending = list(reviews)
    while pending:
        for source in predecessors.get(pending.pop(), ()):
            if source not in upstream:
                upstream.add(source)
                pending.append(source)
    submissions = (upstream & procedure.tasks.keys()) - reviews | chairmen
    return ReviewRule(reviews, chairmen, frozenset(submissions))


# Procedure objects are unhashable dataclasses, so rules are cached by identity and dropped when
# the procedure is collected.
_rules: dict[int, ReviewRule] = {}
_rules_lock = threading.Lock()


def rule_for(procedure: Procedure) -> ReviewRule:
    """The procedure's rule, computed once per Procedure object (ProcedureRuntime builds it)."""
    rule = _rules.get(id(procedure))
    if rule is None:
        rule = build_rule(procedure)
        with _rules_lock:
            if id(procedure) not in _rules:
                _rules[id(procedure)] = rule
                weakref.finalize(procedure, _rules.pop, id(procedure), None)
    return rule


def review_is_fresh(procedure, history: Sequence[str]) -> bool:
    """True when a vp_review was completed after the last submission (see the module docstring).

    *procedure* is a ``bpmn.Procedure`` or a ``ProcedureRuntime``; *history* the spec ids of the
    completed human tasks in completion order (``[s.spec_id for s in instance.history()]``).
    Whether the procedure *requires* the review is the caller's policy (authority ubnd_tinh /
    chu_tich_ubnd_tinh, or ``requires_vp_review`` for the approval flow); this only says whether
    the review is fresh.
    """
    procedure = getattr(procedure, "procedure", procedure)
    return rule_for(procedure).is_fresh(list(history))
