"""A ceiling on the memory one sandbox run (a script, a condition, a DMN expression) may add.

The sandbox calls `check` from the places where a run can grow: its `_tick_()` (every loop
step, comprehension step and function call), every attribute read (`l.extend(l)` needs one) and
every size-guarded operation (`+`, `*`, `join`, ...). A check costs a clock read and a compare;
at most every `CHECK_INTERVAL` seconds it also reads the process's resident set size from
/proc/self/statm (a few microseconds) and stops the run, with `MemoryLimitExceeded`, once it is
more than `limit` bytes above where the run began. Growth by doubling is caught within about
one doubling of the limit; one C-level operation cannot be interrupted, which is why the
sandbox also refuses single operations that would build huge values (`app.engine.sandbox.sizes`).

Measured on the Board's routes rather than assumed: tracemalloc would be exact but slows every
allocation of every thread while it is on; `sys.getallocatedblocks()` misses the large buffers
(a list's item array) that a doubling script builds. The RSS is the process's: a concurrent
request's allocations count too, so the limit is a ceiling with room, not an exact budget.

After a stopped run the sandbox drops what the run built and calls `release`, which collects
garbage and asks glibc to hand free memory back to the operating system (`malloc_trim`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import math
import os
import threading
import time

DEFAULT_LIMIT = 64 * 1024 * 1024
"""Bytes a run may add (the `script_memory_bytes` setting)."""
CHECK_INTERVAL = 0.001
"""Seconds between two reads of the RSS during a run."""
_STATM = "/proc/self/statm"
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class MemoryLimitExceeded(BaseException):
    """Raised inside a run that went past its limit; a BaseException, like the sandbox's time
    limit, so that `except Exception:` in a script cannot swallow it (and a bare `except:`
    only delays it: every later check raises it again)."""


class _Guard(threading.local):
    ceiling: float = math.inf
    next_check: float = math.inf
    exceeded: bool = False
    limit: int = 0


GUARD = _Guard()
"""This thread's run: `next_check` is infinite when no run is guarded."""


@functools.cache
def _statm() -> int | None:
    try:
        return os.open(_STATM, os.O_RDONLY)
    except OSError:
        return None


def rss_bytes() -> int | None:
    """The process's resident set size, or None where /proc is not available."""
    descriptor = _statm()
    if descriptor is None:
        return None
    try:
        fields = os.pread(descriptor, 128, 0).split()
        return int(fields[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


_sample: tuple[float, int | None] = (-math.inf, None)
"""The last RSS read and when (process-wide, like the RSS itself)."""


def _recent_rss(now: float) -> int | None:
    """The RSS, reusing a read younger than `CHECK_INTERVAL`: a step evaluates its gateway
    conditions in a burst, and each would otherwise read /proc for its baseline."""
    global _sample
    taken, rss = _sample
    if now - taken < CHECK_INTERVAL:
        return rss
    rss = rss_bytes()
    _sample = (now, rss)
    return rss


Saved = tuple[float, float, bool, int]


def start(limit: int) -> Saved:
    """Guard this thread's next run; returns what to `stop` with (runs can nest)."""
    guard = GUARD
    saved = (guard.ceiling, guard.next_check, guard.exceeded, guard.limit)
    now = time.monotonic()
    rss = _recent_rss(now)
    guard.limit = limit
    guard.exceeded = False
    if rss is None or limit <= 0:
        guard.ceiling, guard.next_check = math.inf, math.inf
    else:
        guard.ceiling, guard.next_check = rss + limit, now + CHECK_INTERVAL
    return saved


def stop(saved: Saved) -> bool:
    """End the guarded run; whether it went past its limit."""
    guard = GUARD
    exceeded = guard.exceeded
    guard.ceiling, guard.next_check, guard.exceeded, guard.limit = saved
    return exceeded


def check(now: float | None = None) -> None:
    """Stop the run if it went past its limit; cheap unless `CHECK_INTERVAL` has passed."""
    guard = GUARD
    if now is None:
        if guard.next_check == math.inf:
            return
        now = time.monotonic()
    if now < guard.next_check:
        return
    if guard.exceeded:
        raise MemoryLimitExceeded
    guard.next_check = now + CHECK_INTERVAL
    rss = rss_bytes()
    if rss is not None and rss > guard.ceiling:
        guard.exceeded = True
        guard.next_check = -math.inf  # from now on every check raises
        raise MemoryLimitExceeded


@functools.cache
def _malloc_trim() -> object | None:
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def release() -> None:
    """Free what a stopped run left unreachable and hand it back to the operating system."""
    gc.collect()
    trim = _malloc_trim()
    if callable(trim):
        trim(0)


def describe(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit:,} bytes"
