"""Errors of a workflow run (lỗi khi chạy quy trình): clear text naming the field or BPMN element.

:class:`EngineError` is the base of every error the runtime raises (:mod:`engine.runtime.errors`
adds its own); the two here are the ones this package raises itself. Every error is raised before
the instance changes, or after it has been put back exactly as it was, so a caller can report it
and carry on with the same :class:`~engine.runtime.Instance`.
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


class InvalidTaskData(EngineError):
    """Submitted data refused: a required field missing, a value of the wrong type or not among
    the form's options, a value that is not plain JSON, or a gateway that cannot choose a flow."""


class StateError(EngineError):
    """A dumped state cannot be loaded: corrupt, another format, or another procedure version."""
