"""Per-thread run state of the sandbox: the deadline and the memory guard's wake-ups.

The AST policy puts a `_tick_()` call into every loop body, comprehension step, function call
and top-level statement; `_tick` costs one clock read and one compare until something is due.
Trusted Python helpers have no ticks, so they run under `_interruptible`'s trace hook instead.
"""

from __future__ import annotations

import functools
import math
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from app.engine import memory_guard


class _Deadline(BaseException):
    """Raised by `_tick_` once the time limit has passed.

    A BaseException so that `except Exception:` in a script does not catch it; a bare `except:`
    does, but the next `_tick_` raises it again and the run is reported as timed out anyway.
    """


class _RunState(threading.local):
    deadline: float = math.inf
    wake: float = math.inf  # the earlier of the deadline and the memory guard's next check
    exceeded: bool = False
    globals: dict[str, Any] | None = None


_STATE = _RunState()
_monotonic = time.monotonic


_GUARD = memory_guard.GUARD


def _tick() -> bool:
    """Deadline and memory check the policy inserts into loops, comprehensions, functions and
    top-level statements: one clock read and one compare until something is due."""
    now = _monotonic()
    if now > _STATE.wake:
        _wake(now)
    return True


def _wake(now: float) -> None:
    state = _STATE
    if now > state.deadline:
        state.exceeded = True
        raise _Deadline
    memory_guard.check(now)
    state.wake = min(state.deadline, _GUARD.next_check)


def _helper_trace(frame: FrameType, event: str, arg: Any) -> Any:
    if _monotonic() > _STATE.deadline:
        _STATE.exceeded = True
        raise _Deadline
    return _helper_trace


def _interruptible(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run a trusted Python helper under a deadline-checking trace while a sandbox run is on.

    Helpers hold no `_tick_()` calls, so `add_working_days(d, 10**9)` would otherwise run
    unbounded. Only helper calls pay for tracing; outside a sandbox run they run untraced.
    """

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        if _STATE.deadline == math.inf:
            return function(*args, **kwargs)
        previous = sys.gettrace()
        sys.settrace(_helper_trace)
        try:
            return function(*args, **kwargs)
        finally:
            sys.settrace(previous)

    return call
