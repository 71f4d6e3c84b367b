"""The script engine that evaluates BPMN scripts, conditions and DMN expressions.

Kept in one place so that the sandbox (RestrictedPython) and the helper functions the routes may
call are added here without touching the runner.
"""

from __future__ import annotations

import datetime
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

SAFE_GLOBALS: dict[str, Any] = {
    "datetime": datetime,
}


def build_script_engine() -> PythonScriptEngine:
    return PythonScriptEngine(environment=TaskDataEnvironment(dict(SAFE_GLOBALS)))
