"""Saved states carry no spec, and a save/restore round trip loses nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from app.engine import runner, serializer
from app.engine.definitions import SourceFile, parse_files
from app.engine.serializer import spec_from_json
from tests.conftest import FIXTURES, PROCESSES


def demo_spec():
    files = [SourceFile(p.name, p.read_bytes())
             for p in (PROCESSES / "demo_triage.bpmn", PROCESSES / "demo_grading.dmn")]
    [process] = parse_files(files)
    return process, spec_from_json(process.spec_json)


def test_state_has_no_spec_and_round_trips() -> None:
    process, (spec, subprocess_specs) = demo_spec()
    workflow = runner.create(spec, subprocess_specs, {"child_died": True})
    runner.run_engine(workflow)
    state = runner.dump(workflow)
    saved = json.loads(state)
    assert "spec" not in saved and "subprocess_specs" not in saved
    assert saved["serializer_version"]
    assert len(state) < len(process.spec_json)

    restored = runner.load(state, spec, subprocess_specs)
    assert runner.dump(restored) == state
    assert runner.ready_tasks(restored) == runner.ready_tasks(workflow)
    task = runner.ready_tasks(restored)[0]
    runner.complete_task(restored, task.id, {"review_needed": False, "reason": "none"})
    again = runner.load(runner.dump(restored), spec, subprocess_specs)
    assert runner.status(again) == "completed"
    assert runner.data(again)["grade"] == "catastrophic"


def test_spec_json_round_trips() -> None:
    files = [SourceFile("parallel_review.bpmn", (FIXTURES / "parallel_review.bpmn").read_bytes())]
    [process] = parse_files(files)
    spec, subprocess_specs = spec_from_json(process.spec_json)
    assert sorted(spec.task_specs) == process.element_ids
    workflow = runner.create(spec, subprocess_specs, {})
    runner.run_engine(workflow)
    assert sorted(t.bpmn_id for t in runner.ready_tasks(workflow)) == ["chair_view",
                                                                        "panel_view"]


def test_saving_a_state_never_switches_the_spec_registry_to_encoder_mode(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """SpiffWorkflow keeps its encoder mode as a flag on the registry: were states saved with
    the registry that converts and compares specs, a deployment or a migration running beside
    a step could convert a spec in the wrong mode."""
    switches: list[bool] = []

    class Watched(type(serializer.REGISTRY)):  # type: ignore[misc]
        @property
        def _encoder_mode(self) -> bool:
            return bool(self.__dict__.get("watched_mode", False))

        @_encoder_mode.setter
        def _encoder_mode(self, value: bool) -> None:
            switches.append(value)
            self.__dict__["watched_mode"] = value

    monkeypatch.setattr(serializer.REGISTRY, "__class__", Watched)
    _process, (spec, subprocess_specs) = demo_spec()
    workflow = runner.create(spec, subprocess_specs, {"child_died": True})
    runner.run_engine(workflow)
    workflow.get_tasks()[0].data["when"] = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    state: dict[str, Any] = json.loads(runner.dump(workflow))
    assert switches == []
    restored = runner.load(json.dumps(state), spec, subprocess_specs)
    assert restored.get_tasks()[0].data["when"] == dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
