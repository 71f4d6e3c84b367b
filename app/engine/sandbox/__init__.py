"""A RestrictedPython sandbox for BPMN scripts, gateway conditions and DMN expressions.

SpiffWorkflow's `TaskDataEnvironment` runs process code with plain `eval`/`exec` and every
builtin, so an uploaded diagram could run anything on the server. `SandboxedEnvironment` keeps
its data semantics (what a script reads and what is written back to the task data) but:

* compiles with RestrictedPython under a stricter policy (`_SandboxPolicy`): no imports, no
  classes, no names or attributes starting with "_", every attribute read goes through a guard;
* runs with a small set of builtins; the dangerous ones are replaced by stubs that raise
  `ScriptNotAllowed` with a message a process designer can act on;
* bounds run time: the policy inserts a cheap deadline check (`_tick_()`) at the top of every
  loop body, every comprehension step and every function/lambda call, so code without loops
  or functions (almost every condition) pays nothing. This works in worker threads (no
  signals) and cannot be switched off by the script: a `sys.settrace` hook is removed by
  CPython as soon as it raises, after which an `except:` or `finally:` loop would run forever,
  while `_tick_()` keeps raising at every step. Trusted Python helpers offered as environment
  globals have no ticks, so they alone run under a deadline-checking `sys.settrace` hook;
* refuses single operations that would build huge values from small inputs (`'a' * 10**10`,
  `10**10**10`, `1 << 10**10`, `range(10**12)`, `'{:>9999999999}'`, `s.replace('a', s)`, ...;
  see `sizes`);
* bounds memory: the same ticks, every attribute read and every size-guarded operation let
  `app.engine.memory_guard` stop a run that has added more than its limit to the process
  (`x = x + x` in a loop, `l.extend(l)` line after line); what the run built is dropped and
  the memory handed back (`ScriptMemoryExceeded`).

Known limits: one call of a C builtin on large data (`sorted`, `sum`, `in` on a big list)
cannot be interrupted, and the memory ceiling reads the process's RSS, so it overshoots by up
to about one doubling and counts concurrent requests' allocations too. A hard per-script
ceiling needs a process-level limit (container memory limit, or scripts in a subprocess).

Modules, one job each: `sizes` (value guards), `policy` (the AST policy: what source is
allowed, and the checks compiled in), `compiling` (the compile cache and its messages),
`limits` (per-thread deadline and memory checks), `runtime` (guards and builtins running code
can reach), `namespaces` (how environment globals are offered), `environment` (SpiffWorkflow's
script environment and engine) and `errors`. This package re-exports the public names.
"""

from app.engine.sandbox.compiling import Mode, check_expression
from app.engine.sandbox.environment import (
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_TIME_LIMIT,
    SandboxedEnvironment,
    SandboxedScriptEngine,
    build_sandboxed_engine,
)
from app.engine.sandbox.errors import (
    SandboxError,
    ScriptLimitExceeded,
    ScriptMemoryExceeded,
    ScriptNotAllowed,
    ScriptTimeout,
)
from app.engine.sandbox.namespaces import Namespace, module_namespace
from app.engine.sandbox.runtime import SAFE_BUILTINS
from app.engine.sandbox.sizes import MAX_FORMAT_WIDTH, MAX_INT_BITS, MAX_SEQUENCE_LENGTH

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_TIME_LIMIT",
    "MAX_FORMAT_WIDTH",
    "MAX_INT_BITS",
    "MAX_SEQUENCE_LENGTH",
    "SAFE_BUILTINS",
    "Mode",
    "Namespace",
    "SandboxError",
    "SandboxedEnvironment",
    "SandboxedScriptEngine",
    "ScriptLimitExceeded",
    "ScriptMemoryExceeded",
    "ScriptNotAllowed",
    "ScriptTimeout",
    "build_sandboxed_engine",
    "check_expression",
    "module_namespace",
]
