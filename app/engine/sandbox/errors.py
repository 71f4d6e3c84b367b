"""The errors the script sandbox raises (`app.engine.sandbox` re-exports them)."""

from __future__ import annotations

from collections.abc import Iterable


class SandboxError(Exception):
    """Base class of the errors the sandbox raises; `lineno` is the script line when known."""

    lineno: int | None = None


class ScriptNotAllowed(SandboxError):
    """The code uses something the sandbox does not allow; nothing of it was run.

    `problems` lists each reason ("import statements are not allowed (line 1)"); `lineno` is the
    line of the first one when known.
    """

    def __init__(self, message: str, problems: Iterable[str] = (),
                 lineno: int | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems) or [message]
        self.lineno = lineno


class ScriptLimitExceeded(SandboxError):
    """The code tried to build a value larger than the sandbox allows."""


class ScriptTimeout(ScriptLimitExceeded):
    """The code ran for longer than the time limit."""


class ScriptMemoryExceeded(ScriptLimitExceeded):
    """The code used more memory than its limit; what it built was dropped."""
