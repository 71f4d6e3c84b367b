"""The sandbox as SpiffWorkflow sees it: the script environment and the script engine.

The only module of the sandbox that imports SpiffWorkflow.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task

from app.engine import memory_guard
from app.engine.sandbox.compiling import FILENAME, Mode, _Compiled, _compiled, _label
from app.engine.sandbox.errors import (
    SandboxError,
    ScriptMemoryExceeded,
    ScriptNotAllowed,
    ScriptTimeout,
)
from app.engine.sandbox.limits import _GUARD, _STATE, _monotonic
from app.engine.sandbox.namespaces import _expose
from app.engine.sandbox.runtime import _RUNTIME

DEFAULT_TIME_LIMIT = 2.0
DEFAULT_MEMORY_LIMIT = memory_guard.DEFAULT_LIMIT


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs expressions and scripts under RestrictedPython with TaskDataEnvironment's data rules.

    * evaluate: globals are the environment globals, then `external_context`, then the task
      data (data wins), and nothing is written back;
    * execute: fails fast if task data would hide an environment global, runs the script in
      the task data dict itself, then removes `__builtins__`, every callable, every environment
      global and external-context name (as TaskDataEnvironment does) and every name the
      sandbox itself added.

    `environment_globals` become available to process code by name. Modules are offered as a
    read-only `Namespace` of their public classes and functions.
    """

    def __init__(self, environment_globals: Mapping[str, Any] | None = None,
                 time_limit: float = DEFAULT_TIME_LIMIT,
                 service_caller: Callable[..., Any] | None = None,
                 memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        exposed: dict[str, Any] = {}
        for name, value in (environment_globals or {}).items():
            if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
                raise ValueError(f"{name!r} cannot be offered to process code")
            exposed[name] = _expose(value)
        super().__init__(exposed)
        if not time_limit > 0:
            raise ValueError("time_limit must be a positive number of seconds")
        self.time_limit = float(time_limit)
        if not memory_limit > 0:
            raise ValueError("memory_limit must be a positive number of bytes")
        self.memory_limit = int(memory_limit)
        self._service_caller = service_caller

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: dict[str, Any] | None = None) -> Any:
        compiled = _compiled(expression, "eval")
        my_globals = dict(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context or {})
        my_globals.update(context)
        my_globals.update(_RUNTIME)
        try:
            return self._run(compiled, my_globals, "eval")
        except ScriptMemoryExceeded:
            my_globals.clear()  # what `(x := ...)` kept
            memory_guard.release()
            raise

    def execute(self, script: str, context: dict[str, Any],
                external_context: dict[str, Any] | None = None) -> bool:
        compiled = _compiled(script, "exec")  # a refused script leaves the data untouched
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        my_globals = dict(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context)
        private = {k: v for k, v in context.items() if isinstance(k, str) and k.startswith("_")}
        before = dict(context)
        context.update(my_globals)
        context.update(_RUNTIME)
        try:
            self._run(compiled, context, "exec")
        except ScriptMemoryExceeded:
            context.clear()  # drop what the script built: the data is as it was before
            context.update(before)
            del before
            memory_guard.release()
            raise
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
            for key in [k for k in context
                        if isinstance(k, str) and k.startswith("_") and k not in private]:
                del context[key]
            context.update(private)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        if self._service_caller is None:
            raise NotImplementedError("service tasks are not supported by this engine")
        return self._service_caller(context, **kwargs)

    def _prepare_context(self, context: dict[str, Any]) -> None:
        """Hook kept from TaskDataEnvironment; does nothing."""

    def _remove_globals_and_functions_from_context(
            self, context: dict[str, Any],
            external_context: Mapping[str, Any] | None = None) -> None:
        for key in list(context):
            if (key == "__builtins__" or callable(context[key]) or key in self.globals
                    or (external_context and key in external_context)):
                context.pop(key)

    def check_for_overwrite(self, context: Mapping[str, Any],
                            external_context: Mapping[str, Any]) -> None:
        overwrites = set(self.globals).intersection(context)
        overwrites.update(set(external_context).intersection(context))
        if overwrites:
            raise ValueError(
                "You have task data that overwrites a predefined function(s). Please change "
                f"the following variable or field name(s) to something else: {overwrites}")

    def _run(self, compiled: _Compiled, my_globals: dict[str, Any], mode: Mode) -> Any:
        if compiled.code is None:
            raise ScriptNotAllowed(f"{_label(mode)} not allowed: " + "; ".join(compiled.problems),
                                   compiled.problems, compiled.lineno)
        state = _STATE
        saved = (state.deadline, state.wake, state.exceeded, state.globals)
        state.deadline = _monotonic() + self.time_limit
        state.exceeded = False
        state.globals = my_globals
        guarded = memory_guard.start(self.memory_limit)
        state.wake = min(state.deadline, _GUARD.next_check)
        out_of_memory = False
        result: Any = None
        stopped_at: int | None = None
        try:
            try:
                if mode == "eval":
                    result = eval(compiled.code, my_globals)
                else:
                    exec(compiled.code, my_globals)
            except BaseException as exc:
                if not state.exceeded and not _GUARD.exceeded:
                    raise
                stopped_at = _script_line(exc)
                traceback.clear_frames(exc.__traceback__)  # the script's locals go now
            timed_out = state.exceeded
        finally:
            state.deadline, state.wake, state.exceeded, state.globals = saved
            out_of_memory = memory_guard.stop(guarded)
        where = f" (stopped at line {stopped_at})" if stopped_at else ""
        if out_of_memory and not timed_out:
            stopped = ScriptMemoryExceeded(
                f"{_label(mode)} stopped: it used more than the memory limit of "
                f"{memory_guard.describe(self.memory_limit)}{where}; look for a value that "
                "grows in a loop")
            stopped.lineno = stopped_at
            raise stopped
        if timed_out:
            timeout = ScriptTimeout(
                f"{_label(mode)} stopped: it ran for longer than the time limit of "
                f"{self.time_limit:g} seconds{where}; look for a loop that never ends")
            timeout.lineno = stopped_at
            raise timeout
        return result


def _script_line(exc: BaseException) -> int | None:
    """The last line of sandboxed code the exception passed through."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class SandboxedScriptEngine(PythonScriptEngine):
    """PythonScriptEngine for a SandboxedEnvironment: clear messages for sandbox errors and a
    working `call_service` (SpiffWorkflow 3.2.0's refers to an undefined `script`)."""

    environment: SandboxedEnvironment

    def __init__(self, environment: SandboxedEnvironment | None = None) -> None:
        super().__init__(environment=environment or SandboxedEnvironment())

    def evaluate(self, task: Task, expression: str,
                 external_context: dict[str, Any] | None = None) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as exc:
            exc.add_note(f"Error evaluating expression '{expression}'")
            raise
        except SandboxError as exc:
            raise WorkflowTaskException(f"Error evaluating expression '{expression}': {exc}",
                                        task=task, exception=exc) from exc
        except Exception as exc:
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}': {exc.__class__.__name__}: {exc}",
                task=task, exception=exc) from exc

    def call_service(self, task: Task, **kwargs: Any) -> Any:
        try:
            return self.environment.call_service(task.data, **kwargs)
        except SpiffWorkflowException:
            raise
        except Exception as exc:
            operation = kwargs.get("operation_name") or "service"
            raise WorkflowTaskException(f"Service call {operation} failed: {exc}", task=task,
                                        exception=exc) from exc

    def create_task_exec_exception(self, task: Task, script: str,
                                   err: Exception) -> Exception:
        if not isinstance(err, SandboxError):
            plain: Exception = super().create_task_exec_exception(task, script, err)
            return plain
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        lineno = getattr(err, "lineno", None)
        if isinstance(lineno, int) and lineno > 0:
            line_number = lineno
            lines = script.splitlines()
            error_line = lines[lineno - 1] if lineno <= len(lines) else ""
        located: Exception = WorkflowTaskException(str(err), task=task, exception=err,
                                                   line_number=line_number,
                                                   error_line=error_line)
        return located


def build_sandboxed_engine(extra_globals: dict[str, Any] | None = None,
                           time_limit: float = DEFAULT_TIME_LIMIT,
                           memory_limit: int = DEFAULT_MEMORY_LIMIT) -> PythonScriptEngine:
    """A script engine whose scripts, conditions and DMN expressions run in the sandbox.

    `extra_globals` are offered to process code by name (helper functions, or modules, which
    are offered as read-only namespaces of their public classes and functions).
    """
    return SandboxedScriptEngine(SandboxedEnvironment(extra_globals, time_limit=time_limit,
                                                      memory_limit=memory_limit))
