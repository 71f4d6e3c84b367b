"""BPMN DI to SVG: our routes, the OMG MIWG reference corpus, highlighting, odd input."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from lxml import etree

from app.engine.diagram import NoDiagram
from app.engine.xml import parse_document
from app.rendering.diagram import render_svg

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
MIWG = ROOT / ".." / "shared" / "bpmn-miwg"
SVG = "http://www.w3.org/2000/svg"
NS = {"s": SVG}
MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
TASK_KINDS = {"task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask",
              "receiveTask", "manualTask"}

PROCESS_FILES = sorted(PROCESSES.glob("*.bpmn"))
MIWG_FILES = sorted(p.relative_to(MIWG).as_posix() for p in MIWG.rglob("*.bpmn")) \
    if MIWG.is_dir() else []
# Files of the corpus without any diagram interchange. As of the corpus in ../shared (reference
# models and Camunda Modeler 18.6.1 exports) every file has DI, so none is expected to raise.
MIWG_WITHOUT_DI: frozenset[str] = frozenset()
needs_miwg = pytest.mark.skipif(not MIWG_FILES, reason=f"MIWG corpus not found at {MIWG}")


def load(path: Path) -> etree._Element:
    return parse_document(path.read_bytes(), path.name)


def svg_of(text: str) -> etree._Element:
    svg = etree.fromstring(text.encode())
    assert svg.tag == f"{{{SVG}}}svg"
    return svg


def shape_refs(root: etree._Element) -> list[str]:
    """The bpmnElement of every shape of the first diagram that has shapes."""
    for diagram in root.iter(f"{{{BPMNDI}}}BPMNDiagram"):
        refs = [s.get("bpmnElement") for s in diagram.iter(f"{{{BPMNDI}}}BPMNShape")]
        if refs:
            return refs
    return []


def group(svg: etree._Element, element_id: str) -> etree._Element:
    found = svg.xpath("//s:g[@id=$id]", namespaces=NS, id=f"el-{element_id}")
    assert found, f"no group el-{element_id}"
    return found[0]


def classes(node: etree._Element) -> set[str]:
    return set((node.get("class") or "").split())


def shown_text(node: etree._Element) -> str:
    """The text a group draws (not its tooltip), whitespace normalised."""
    words = [t.text or "" for t in node.iter(f"{{{SVG}}}tspan")]
    return " ".join(" ".join(words).split())


def view_box(svg: etree._Element) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in svg.get("viewBox").split())
    return x, y, w, h


def has_di(root: etree._Element) -> bool:
    return next(root.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge"), None) is not None


# ---- our routes ----------------------------------------------------------------------------


def test_there_are_processes_to_render() -> None:
    assert len(PROCESS_FILES) >= 5


@pytest.mark.parametrize("path", PROCESS_FILES, ids=lambda p: p.name)
def test_every_route_renders(path: Path) -> None:
    root = load(path)
    svg = svg_of(render_svg(root))
    assert svg.get("role") == "img"
    assert svg.get("aria-label")
    assert svg.find("s:title", NS) is not None
    x, y, w, h = view_box(svg)
    assert w > 0 and h > 0
    for ref in shape_refs(root):
        group(svg, ref)
    for bounds in root.iter("{http://www.omg.org/spec/DD/20100524/DC}Bounds"):
        bx, by = float(bounds.get("x")), float(bounds.get("y"))
        bw, bh = float(bounds.get("width")), float(bounds.get("height"))
        assert x <= bx and y <= by and bx + bw <= x + w and by + bh <= y + h
    tasks = [e for e in root.iter() if isinstance(e.tag, str) and e.tag.startswith(f"{{{MODEL}}}")
             and etree.QName(e).localname in TASK_KINDS and e.get("id") in shape_refs(root)]
    assert tasks
    for task in tasks:
        g = group(svg, task.get("id"))
        name = " ".join((task.get("name") or "").split())
        assert shown_text(g) == name, f"{task.get('id')}: {shown_text(g)!r} != {name!r}"
        assert {"shape", "task", etree.QName(task).localname} <= classes(g)
        assert g.findtext("s:title", namespaces=NS) == name


def test_highlighting_and_badges_land_on_the_right_elements() -> None:
    root = load(PROCESSES / "demo_triage.bpmn")
    svg = svg_of(render_svg(root, completed={"start", "grade_referral", "flow_start_grade"},
                            active={"screen_referral"}, waiting={"endorse_review"},
                            counts={"screen_referral": 3, "endorse_review": 1200,
                                    "record_decision": 0, "no_such_element": 5}))
    assert {"shape", "task", "userTask", "active"} <= classes(group(svg, "screen_referral"))
    assert {"shape", "task", "businessRuleTask", "completed"} <= classes(
        group(svg, "grade_referral"))
    assert {"shape", "event", "startEvent", "completed"} <= classes(group(svg, "start"))
    assert {"edge", "sequenceFlow", "completed"} <= classes(group(svg, "flow_start_grade"))
    assert "waiting" in classes(group(svg, "endorse_review"))
    plain = classes(group(svg, "record_decision"))
    assert not plain & {"completed", "active", "waiting"}
    badges = {g.get("data-element-id"): g for g in svg.iterfind(".//s:g[@class='badge']", NS)}
    assert set(badges) == {"screen_referral", "endorse_review"}
    assert badges["screen_referral"].findtext("s:text", namespaces=NS) == "3"
    assert badges["endorse_review"].findtext("s:text", namespaces=NS) == "999+"
    assert badges["endorse_review"].get("data-count") == "1200"
    assert badges["screen_referral"].get("id") == "badge-screen_referral"


def test_gateway_default_flow_and_names_are_drawn() -> None:
    svg = svg_of(render_svg(load(PROCESSES / "demo_triage.bpmn"), title="Triage <draft>"))
    assert svg.findtext("s:title", namespaces=NS) == "Triage <draft>"
    assert svg.get("aria-label") == "Triage <draft>"
    gateway = group(svg, "review_needed_gateway")
    assert {"gateway", "exclusiveGateway"} <= classes(gateway)
    assert shown_text(gateway) == "Review needed?"
    assert group(svg, "flow_no_review").find(".//s:path[@class='line default-marker']", NS) \
        is not None
    assert group(svg, "flow_review").find(".//s:path[@class='line default-marker']", NS) is None
    assert shown_text(group(svg, "flow_review")) == "yes"
    assert {"pool", "participant"} <= classes(group(svg, "demo_triage_pool"))
    assert shown_text(group(svg, "lane_chair")) == "Chair"  # in words, not the role id


# ---- inline documents ----------------------------------------------------------------------

HEAD = ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="d" targetNamespace="x">')

NO_DI = HEAD + """
  <process id="p"><startEvent id="s"/><task id="t" name="T"/>
    <sequenceFlow id="f" sourceRef="s" targetRef="t"/></process>
</definitions>"""

EMPTY_PLANE = HEAD + """
  <process id="p"><task id="t"/></process>
  <bpmndi:BPMNDiagram id="dia"><bpmndi:BPMNPlane id="pl" bpmnElement="p"/></bpmndi:BPMNDiagram>
</definitions>"""

ODD = """<semantic:definitions xmlns:semantic="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns="http://example.com/not-bpmn"
    xmlns:bpmn2="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:di="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:ddi="http://www.omg.org/spec/DD/20100524/DI"
    xmlns:x="http://example.com/ext" id="d">
  <semantic:process id="p">
    <semantic:startEvent id="s" name="Start &amp; &lt;go&gt; &quot;now&quot;">
      <semantic:timerEventDefinition/></semantic:startEvent>
    <bpmn2:userTask id="t" name="Check the  very-long-name-without-any-break-at-all, twice"/>
    <semantic:boundaryEvent id="b" attachedToRef="t" cancelActivity="false">
      <semantic:messageEventDefinition/><semantic:timerEventDefinition/></semantic:boundaryEvent>
    <semantic:exclusiveGateway id="g" default="f2"/>
    <semantic:subProcess id="sp" name="Collapsed"/>
    <semantic:intermediateThrowEvent id="i">
      <semantic:eventDefinitionRef>sig</semantic:eventDefinitionRef>
    </semantic:intermediateThrowEvent>
    <semantic:futureThing id="w" name="Unknown kind"/>
    <x:widget id="xw"/>
    <semantic:dataObjectReference id="dor" dataObjectRef="do" name="Doc"/>
    <semantic:dataObject id="do" isCollection="true"/>
    <semantic:textAnnotation id="ta">
      <semantic:text>Note &lt;b&gt;</semantic:text></semantic:textAnnotation>
    <semantic:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <semantic:sequenceFlow id="f2" sourceRef="g" targetRef="sp" name="otherwise"/>
    <semantic:sequenceFlow id="f3" sourceRef="t" targetRef="g"/>
    <semantic:sequenceFlow id="f4" sourceRef="xw" targetRef="nowhere"/>
  </semantic:process>
  <semantic:signalEventDefinition id="sig"/>
  <di:BPMNDiagram id="first">
    <di:BPMNPlane id="pl" bpmnElement="p">
      <di:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="-40.5" y="-12.25" width="36"
        height="36"/><di:BPMNLabel/></di:BPMNShape>
      <di:BPMNShape id="t_di" bpmnElement="semantic:t"><dc:Bounds x="12.5" y="0" width="100"
        height="80"/></di:BPMNShape>
      <di:BPMNShape id="b_di" bpmnElement="b"><dc:Bounds x="80" y="62" width="36" height="36"/>
        <di:BPMNLabel><dc:Bounds x="nan" y="1e999"/></di:BPMNLabel></di:BPMNShape>
      <di:BPMNShape id="g_di" bpmnElement="g" isMarkerVisible="true"><dc:Bounds x="160" y="15"
        width="50" height="50"/><di:BPMNLabel><dc:Bounds x="150" y="70" width="70" height="14"/>
        </di:BPMNLabel></di:BPMNShape>
      <di:BPMNShape id="sp_di" bpmnElement="sp" isExpanded="false"><dc:Bounds x="260" y="0"
        width="100" height="80"/></di:BPMNShape>
      <di:BPMNShape id="i_di" bpmnElement="i"><dc:Bounds x="400" y="20" width="abc"
        height="-36"/></di:BPMNShape>
      <di:BPMNShape id="w_di" bpmnElement="w"><dc:Bounds x="400" y="100" width="80"
        height="40"/></di:BPMNShape>
      <di:BPMNShape id="dor_di" bpmnElement="dor"><dc:Bounds x="500" y="100" width="36"
        height="50"/></di:BPMNShape>
      <di:BPMNShape id="ta_di" bpmnElement="ta"><dc:Bounds x="500" y="0" width="100"
        height="30"/></di:BPMNShape>
      <di:BPMNShape id="ghost_di" bpmnElement="ghost"><dc:Bounds x="600" y="100" width="50"
        height="50"/></di:BPMNShape>
      <di:BPMNShape id="nobounds_di" bpmnElement="t"/>
      <di:BPMNShape id="noref_di"><dc:Bounds x="700" y="100" width="10" height="10"/>
      </di:BPMNShape>
      <di:BPMNEdge id="f1_di" bpmnElement="f1"/>
      <di:BPMNEdge id="f2_di" bpmnElement="f2"><ddi:waypoint x="210" y="40"/>
        <ddi:waypoint x="260.75" y="40.25"/></di:BPMNEdge>
      <di:BPMNEdge id="f3_di" bpmnElement="f3"><ddi:waypoint x="112" y="40"/></di:BPMNEdge>
      <di:BPMNEdge id="f4_di" bpmnElement="f4"/>
      <di:BPMNEdge id="gone_di" bpmnElement="gone"><ddi:waypoint x="0" y="300"/>
        <ddi:waypoint x="10" y="300"/></di:BPMNEdge>
    </di:BPMNPlane>
  </di:BPMNDiagram>
  <di:BPMNDiagram id="second">
    <di:BPMNPlane id="pl2" bpmnElement="p">
      <di:BPMNShape id="t_di2" bpmnElement="t"><dc:Bounds x="0" y="0" width="100"
        height="80"/></di:BPMNShape>
    </di:BPMNPlane>
  </di:BPMNDiagram>
</semantic:definitions>"""


def test_no_diagram_interchange_raises_no_diagram() -> None:
    root = parse_document(NO_DI.encode(), "no_di.bpmn")
    with pytest.raises(NoDiagram, match="no diagram interchange"):
        render_svg(root)
    assert issubclass(NoDiagram, ValueError)


def test_empty_plane_and_unknown_diagram_id_raise_no_diagram() -> None:
    with pytest.raises(NoDiagram):
        render_svg(parse_document(EMPTY_PLANE.encode(), "empty.bpmn"))
    with pytest.raises(NoDiagram, match="nope"):
        render_svg(parse_document(ODD.encode(), "odd.bpmn"), diagram_id="nope")


def test_odd_document_renders_by_namespace_not_prefix() -> None:
    text = render_svg(parse_document(ODD.encode(), "odd.bpmn"))
    svg = svg_of(text)
    x, y, _, _ = view_box(svg)
    assert x < -40.5 and y < -12.25
    assert {"event", "startEvent"} <= classes(group(svg, "s"))
    assert shown_text(group(svg, "s")) == 'Start & <go> "now"'
    assert group(svg, "s").findtext("s:title", namespaces=NS) == 'Start & <go> "now"'
    assert "&lt;go&gt;" in text
    assert {"task", "userTask"} <= classes(group(svg, "semantic:t"))
    assert {"event", "boundaryEvent"} <= classes(group(svg, "b"))
    assert {"gateway", "exclusiveGateway"} <= classes(group(svg, "g"))
    assert {"activity", "subProcess"} <= classes(group(svg, "sp"))
    assert {"event", "intermediateThrowEvent"} <= classes(group(svg, "i"))
    assert {"shape", "missing"} <= classes(group(svg, "ghost"))
    assert group(svg, "ghost").find("s:rect[@stroke-dasharray]", NS) is not None
    assert {"shape", "other", "futureThing"} <= classes(group(svg, "w"))
    assert shown_text(group(svg, "w")) == "Unknown kind"
    assert shown_text(group(svg, "ta")) == "Note <b>"
    assert shown_text(group(svg, "dor")) == "Doc"
    assert group(svg, "t").get("class").split()[:2] == ["shape", "task"]
    assert svg.find(".//s:g[@id='el-noref_di']", NS) is not None
    # f1 has no waypoints and f3 one: both drawn centre to centre between their ends' shapes.
    assert group(svg, "f1").find("s:polyline", NS) is not None
    assert group(svg, "f3").find("s:polyline", NS) is not None
    # f4's ends have no shape, so there is nothing to draw it along.
    assert group(svg, "f4").find("s:polyline", NS) is None
    assert shown_text(group(svg, "f2")) == "otherwise"
    assert group(svg, "f2").find(".//s:path[@class='line default-marker']", NS) is not None
    assert "missing" in classes(group(svg, "gone"))


def test_states_and_counts_match_prefixed_references_by_element_id() -> None:
    root = parse_document(ODD.encode(), "odd.bpmn")
    svg = svg_of(render_svg(root, active={"t"}, counts={"t": 2, "s": True}))
    assert "active" in classes(group(svg, "semantic:t"))
    assert group(svg, "semantic:t").get("data-element-id") == "t"
    assert [b.get("id") for b in svg.iterfind(".//s:g[@class='badge']", NS)] == ["badge-t"]


def test_the_named_diagram_is_rendered() -> None:
    root = parse_document(ODD.encode(), "odd.bpmn")
    second = svg_of(render_svg(root, diagram_id="second"))
    assert [g.get("id") for g in second.iterfind(".//s:g[@data-element-id]", NS)] == ["el-t"]
    assert second.find(".//s:g[@id='el-s']", NS) is None


def test_damaged_routes_still_render() -> None:
    """Attributes and elements of our routes dropped at random: a drawing or NoDiagram."""
    source = (PROCESSES / "demo_triage.bpmn").read_bytes()
    rng = random.Random(20240601)
    for _ in range(40):
        root = parse_document(source, "demo_triage.bpmn")
        nodes = [n for n in root.iter() if isinstance(n.tag, str)]
        for node in rng.sample(nodes, len(nodes) // 4):
            if node.attrib and rng.random() < 0.7:
                del node.attrib[rng.choice(list(node.attrib))]
            elif node.getparent() is not None and rng.random() < 0.3:
                node.getparent().remove(node)
        try:
            svg_of(render_svg(root, active={"screen_referral"}, counts={"start": 2}))
        except NoDiagram:
            assert not has_di(root)


# ---- OMG BPMN MIWG reference models and their Camunda Modeler exports ----------------------


@needs_miwg
def test_miwg_corpus_has_both_collections() -> None:
    assert any(name.startswith("reference/") for name in MIWG_FILES)
    assert any(name.startswith("camunda-modeler-") for name in MIWG_FILES)
    without = {name for name in MIWG_FILES if not has_di(load(MIWG / name))}
    assert without == MIWG_WITHOUT_DI


@needs_miwg
@pytest.mark.parametrize("name", MIWG_FILES or ["(absent)"])
def test_miwg_file_renders(name: str) -> None:
    root = load(MIWG / name)
    if name in MIWG_WITHOUT_DI:
        with pytest.raises(NoDiagram):
            render_svg(root)
        return
    svg = svg_of(render_svg(root))
    assert re.fullmatch(r"-?[\d.]+ -?[\d.]+ [\d.]+ [\d.]+", svg.get("viewBox"))
    shapes = svg.findall(".//s:g[@class]", NS)
    assert any("shape" in classes(g) for g in shapes)
    for ref in shape_refs(root):
        group(svg, ref)
