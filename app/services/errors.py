"""Errors of the service layer; the HTTP edge maps each class to one status code."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base class; `detail` is safe to show to the caller."""

    def __init__(self, message: str, /, **detail: Any) -> None:
        self.message = message
        self.detail = detail
        super().__init__(message)


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass


class Invalid(ServiceError):
    """The request is well-formed but its content cannot be accepted (422)."""


class Unreadable(ServiceError):
    """What is stored cannot be read back (an instance's state cut short): the operator's to
    repair, not the caller's to fix; answered 409 with the reason, never as a 500."""


class StepError(ServiceError):
    """The engine failed while running the step the caller asked for (422)."""
