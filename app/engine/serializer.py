"""Serialize workflows without their specs, and specs on their own.

SpiffWorkflow's default serialization embeds the whole spec in every saved workflow. Specs here
are stored once per process version and cached; saved instances carry only their state.
"""

from __future__ import annotations

import json
import threading
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from app.engine.timers import CLOCKED

SERIALIZER_VERSION = VERSION


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow's state only; restores it around specs given by the caller."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)  # untyped SpiffWorkflow
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: BpmnProcessSpec | None = None,
                  subprocess_specs: dict[str, BpmnProcessSpec] | None = None) -> BpmnWorkflow:
        if spec is None:
            raise ValueError("a workflow state restores only with its spec")
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_CONFIG = dict(SPIFF_CONFIG)
_CONFIG[BpmnWorkflow] = SpeclessWorkflowConverter
for _clocked in CLOCKED.values():
    _CONFIG[_clocked] = TimerConditionalEventDefinitionConverter
_REGISTRY = BpmnWorkflowSerializer.configure(_CONFIG)
REGISTRY = _REGISTRY
"""The registry for specs; SpiffWorkflow's spec diff needs it to compare specs."""
_STATE_REGISTRY = BpmnWorkflowSerializer.configure(_CONFIG)
"""The registry for workflow states. `serialize_json` puts its registry in encoder mode (the
JSON encoder converts the values in task data) for the call and back: on a registry shared with
spec conversions, one thread serializing a state would switch the mode under another converting
or comparing specs, so states have a registry of their own, serialized under `_SERIALIZING`."""
_SERIALIZING = threading.Lock()
_SERIALIZER = BpmnWorkflowSerializer(_STATE_REGISTRY)


def spec_to_json(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    dct = {
        "spec": _REGISTRY.convert(spec),
        "subprocess_specs": {name: _REGISTRY.convert(sub)
                             for name, sub in subprocess_specs.items()},
    }
    return json.dumps(dct, sort_keys=True, separators=(",", ":"))


def spec_from_json(text: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    dct = json.loads(text)
    spec = _REGISTRY.restore(dct["spec"])
    subprocess_specs = {name: _REGISTRY.restore(sub)
                        for name, sub in dct["subprocess_specs"].items()}
    return spec, subprocess_specs


def workflow_to_json(workflow: BpmnWorkflow) -> str:
    # `serialize_json` switches its registry into encoder mode for the call: states are
    # serialized one at a time on a registry of their own, so no other thread sees the switch.
    with _SERIALIZING:
        text: str = _SERIALIZER.serialize_json(workflow)
    return text


def workflow_from_json(text: str, spec: BpmnProcessSpec,
                       subprocess_specs: dict[str, BpmnProcessSpec]) -> BpmnWorkflow:
    dct = json.loads(text, cls=_SERIALIZER.json_decoder_cls)
    version = dct.pop(BpmnWorkflowSerializer.VERSION_KEY, SERIALIZER_VERSION)
    if version != SERIALIZER_VERSION and version in MIGRATIONS:
        MIGRATIONS[version](dct)
    return _SERIALIZER.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
