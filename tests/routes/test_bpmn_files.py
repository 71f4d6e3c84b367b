"""Every route opens in a standard modeler: diagram interchange, lanes, labels, forms."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from app.engine.definitions import SourceFile
from app.services.forms import parse_form_files
from tests.conftest import PROCESSES

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
FLOW_NODES = ("startEvent", "endEvent", "userTask", "serviceTask", "scriptTask",
              "businessRuleTask", "callActivity", "exclusiveGateway", "intermediateCatchEvent",
              "boundaryEvent")
ROLES = {"board_manager", "chair", "panel_member", "reviewer", "agency_lead"}
BPMN_FILES = sorted(PROCESSES.glob("*.bpmn"))


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_diagram_interchange_covers_every_element(path) -> None:
    root = etree.parse(str(path)).getroot()
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    nodes = [n for tag in FLOW_NODES for n in root.iterfind(f".//bpmn:{tag}", NS)]
    assert nodes
    assert {n.get("id") for n in nodes} <= shapes
    assert {f.get("id") for f in root.iterfind(".//bpmn:sequenceFlow", NS)} <= edges
    assert {lane.get("id") for lane in root.iterfind(".//bpmn:lane", NS)} <= shapes
    for node in nodes:
        is_merge = node.tag.endswith("Gateway") and len(node.findall("bpmn:outgoing", NS)) == 1
        assert is_merge or node.get("name"), f"{node.get('id')} has no label"


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_user_tasks_have_lane_instructions_and_a_valid_form(path) -> None:
    root = etree.parse(str(path)).getroot()
    lane_of = {ref.text: lane.get("name") for lane in root.iterfind(".//bpmn:lane", NS)
               for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    for task in root.iterfind(".//bpmn:userTask", NS):
        task_id = task.get("id")
        assert lane_of.get(task_id) in ROLES, f"{task_id} is in no role's lane"
        instructions = task.find(".//spiffworkflow:instructionsForEndUser", NS)
        assert instructions is not None and len(instructions.text or "") > 20, task_id
        form = task.find(".//spiffworkflow:property[@name='formJsonSchemaFilename']", NS)
        assert form is not None, f"{task_id} has no form"
        form_path = PROCESSES / "forms" / form.get("value")
        forms, problems = parse_form_files([SourceFile(form_path.name, form_path.read_bytes())])
        assert problems == [] and forms, f"{form_path.name} is not a valid JSON Schema"
        schema = json.loads(form_path.read_text())
        for name, prop in schema["properties"].items():
            assert prop.get("title"), f"{form_path.name}: {name} has no title (its label)"
