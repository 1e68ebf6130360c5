"""Errors of the runtime (lỗi bộ máy thực thi): clear text naming the field or BPMN element.

Every error is raised before the instance changes, or after it has been put back exactly as it
was, so a caller can report it and carry on with the same :class:`~engine.runtime.Instance`.
"""
from __future__ import annotations


class EngineError(Exception):
    """Base class. ``message`` is English text for people; ``field`` names the form field and
    ``element`` the BPMN element (task, gateway, flow) concerned, when there is one."""

    def __init__(self, message: str, *, field: str | None = None, element: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.element = element


class TaskNotReady(EngineError):
    """The task id is not a READY human task: completed, cancelled, waiting or unknown."""


class InvalidTaskData(EngineError):
    """Submitted data refused: a required field missing, a value of the wrong type or not among
    the form's options, a value that is not plain JSON, or a gateway that cannot choose a flow."""


class StateError(EngineError):
    """A dumped state cannot be loaded: corrupt, another format, or another procedure version."""


class ReviewNotFresh(EngineError):
    """A chairman_approval task cannot be completed: no vp_review completed after the last
    submission (the runtime guard, DESIGN.md "Dossier lifecycle")."""
