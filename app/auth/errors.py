"""Authentication (401) and authorization (403) failures."""

from __future__ import annotations


class NotAuthenticated(Exception):
    def __init__(self, message: str = "a valid bearer token is required") -> None:
        self.message = message
        super().__init__(message)


class Forbidden(Exception):
    """The caller is known but may not do this; `message` says why."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)
