"""Errors of the runtime (lỗi bộ máy thực thi): clear text naming the field or BPMN element.

The base class and the errors of the workflow itself (invalid data, a state that cannot be
loaded) are defined with the workflow in :mod:`bpmn.workflow.errors`, which the linter's trial
start shares; the runtime's public names are all here. Every error is raised before the instance
changes, or after it has been put back exactly as it was, so a caller can report it and carry on
with the same :class:`~engine.runtime.Instance`.
"""
from __future__ import annotations

from bpmn.workflow.errors import EngineError, InvalidTaskData, StateError

__all__ = ["EngineError", "InvalidTaskData", "StateError", "TaskNotReady", "ReviewNotFresh"]


class TaskNotReady(EngineError):
    """The task id is not a READY human task: completed, cancelled, waiting or unknown."""


class ReviewNotFresh(EngineError):
    """A chairman_approval task cannot be completed: no vp_review completed after the last
    submission (the runtime guard, DESIGN.md "Dossier lifecycle")."""
