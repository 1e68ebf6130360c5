"""Errors the service layer raises; the web layer turns them into clear messages and status codes.

Messages are English msgid templates marked with `N_` so Babel extracts them; the web layer
translates them with their parameters (Vietnamese by default), the CLI prints `message`.
"""
from __future__ import annotations


def N_(template: str) -> str:
    """Marks a msgid for extraction without translating it here (services know no locale)."""
    return template


class ServiceError(Exception):
    """Base: `template % params` is the message, `field` names the input that was wrong (if any)."""

    status = 400

    def __init__(self, template: str, field: str | None = None, **params):
        self.template = template
        self.params = params
        self.field = field
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template


class ValidationError(ServiceError):
    status = 400


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


def found(obj, template: str, field: str, **params):
    """`obj`, or NotFound naming the field when a lookup came back empty."""
    if obj is None:
        raise NotFound(template, field, **params)
    return obj
