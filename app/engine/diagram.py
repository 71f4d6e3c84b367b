"""Render a BPMN document's diagram interchange (BPMN DI) to a standalone SVG string.

Only lxml is needed. Shapes are drawn by the kind of the semantic element they show (looked up
by id among elements of the BPMN model namespace, whatever its prefix); an instance's state can
be overlaid (completed / active / waiting elements, and count badges for a heat view).

    root = parse_document(content, "review.bpmn")
    svg = render_svg(root, active={"screen_referral"}, counts={"screen_referral": 3})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass

from lxml import etree

from app.engine import diagram_shapes as draw
from app.engine.diagram_shapes import (
    INK,
    PAPER,
    Box,
    Extent,
    add,
    bounds,
    children,
    fmt,
    label_bounds,
    local_name,
    midpoint,
    number,
    text_block,
)

MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
MARKERS = "rf-m"

TASKS = {"task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask",
         "receiveTask", "manualTask"}
SUB_PROCESSES = {"subProcess", "transaction", "adHocSubProcess"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
          "boundaryEvent", "implicitThrowEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
            "complexGateway", "gateway"}
DATA = {"dataObject", "dataObjectReference", "dataInput", "dataOutput", "dataStore",
        "dataStoreReference"}
THROWING = {"endEvent", "intermediateThrowEvent", "implicitThrowEvent"}


class NoDiagram(ValueError):
    """The document has no (usable) diagram interchange to draw."""


@dataclass
class _Shape:
    di: etree._Element
    ref: str
    sem: etree._Element | None
    kind: str
    box: Box | None
    label: Box | None


def _in(node: etree._Element, namespace: str) -> bool:
    return isinstance(node.tag, str) and node.tag.startswith(f"{{{namespace}}}")


def _flag(node: etree._Element, name: str) -> bool | None:
    value = (node.get(name) or "").strip().lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(value)


def _select_plane(root: etree._Element, diagram_id: str | None) -> etree._Element:
    diagrams = [d for d in root.iter(f"{{{BPMNDI_NS}}}BPMNDiagram")]
    if not diagrams:
        raise NoDiagram("the document has no diagram interchange (bpmndi:BPMNDiagram)")
    if diagram_id is not None:
        diagrams = [d for d in diagrams if d.get("id") == diagram_id]
        if not diagrams:
            raise NoDiagram(f"the document has no diagram with id {diagram_id!r}")
    planes = [p for d in diagrams for p in children(d, "BPMNPlane") if _in(p, BPMNDI_NS)]
    for plane in planes:
        if next(plane.iter(f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge"), None) \
                is not None:
            return plane
    raise NoDiagram("the document's diagram interchange has no shapes or edges to draw")


class _Renderer:
    def __init__(self, root: etree._Element, completed: Set[str], active: Set[str],
                 waiting: Set[str]) -> None:
        self.index: dict[str, etree._Element] = {}
        for node in root.iter():
            if _in(node, MODEL_NS) and node.get("id"):
                self.index.setdefault(node.get("id", ""), node)
        self.states = {"completed": completed, "waiting": waiting, "active": active}
        self.extent = Extent()
        self.used_ids: set[str] = set()
        self.boxes: dict[str, Box] = {}

    def lookup(self, ref: str | None) -> etree._Element | None:
        if not ref:
            return None
        ref = ref.strip()
        found = self.index.get(ref)
        return found if found is not None else self.index.get(ref.rpartition(":")[2])

    def name(self, sem: etree._Element | None) -> str:
        if sem is None:
            return ""
        kind = local_name(sem)
        if kind == "textAnnotation":
            return " ".join("".join(t.itertext()) for t in children(sem, "text")).strip()
        if kind == "group":
            value = self.lookup(sem.get("categoryValueRef"))
            return (value.get("value") or "").strip() if value is not None else ""
        name = (sem.get("name") or "").strip()
        states = [s.get("name", "") for s in children(sem, "dataState") if s.get("name")]
        if states and f"[{states[0]}]" not in name:
            return f"{name}\n[{states[0]}]"
        return name

    def group(self, layer: etree._Element, css: str, ref: str, kind: str,
              sem: etree._Element | None, fallback_id: str) -> etree._Element:
        base = f"el-{ref or fallback_id}"
        node_id, n = base, 1
        while node_id in self.used_ids:
            n += 1
            node_id = f"{base}-{n}"
        self.used_ids.add(node_id)
        element_id = sem.get("id") if sem is not None else ref
        states = [state for state, ids in self.states.items()
                  if (ref and ref in ids) or (element_id and element_id in ids)]
        g = add(layer, "g", {"id": node_id, "class": " ".join([css, kind, *states]),
                             "data-element-id": element_id or None})
        add(g, "title", None, self.name(sem) or f"{kind} {ref}".strip())
        return g

    # ---- shapes --------------------------------------------------------------------------

    def shape(self, g: etree._Element, s: _Shape) -> None:
        box, kind, sem = s.box, s.kind, s.sem
        if box is None:
            return
        self.extent.add(box)
        for key in (s.ref, sem.get("id") if sem is not None else None):
            if key:
                self.boxes.setdefault(key, box)
        self.boxes.setdefault(f"di:{s.di.get('id', '')}", box)
        if sem is None:
            add(g, "rect", {"class": "outline", "x": box.x, "y": box.y, "width": box.w,
                            "height": box.h, "fill": "none", "stroke": INK,
                            "stroke-dasharray": "5 4"})
        elif kind in ("participant", "lane"):
            self.pool(g, s, box, sem)
        elif kind in TASKS or kind == "callActivity" or kind in SUB_PROCESSES:
            self.activity(g, s, box, sem)
        elif kind in EVENTS:
            self.event(g, s, box, sem)
        elif kind in GATEWAYS:
            add(g, "polygon", {"class": "outline", "points": draw.diamond(box), "fill": PAPER,
                               "stroke": INK, "stroke-width": 1.5})
            draw.gateway_marker(g, kind, box, marker_visible=_flag(s.di, "isMarkerVisible")
                                is True, instantiate=_flag(sem, "instantiate") is True,
                                parallel_events=sem.get("eventGatewayType") == "Parallel")
            self.outer_label(g, s)
        elif kind in ("dataStore", "dataStoreReference"):
            draw.data_store(g, box, "outline")
            self.outer_label(g, s)
        elif kind in DATA:
            target = self.lookup(sem.get("dataObjectRef")) if kind == "dataObjectReference" \
                else sem
            collection = target is not None and _flag(target, "isCollection") is True
            draw.data_object(g, box, kind=kind, collection=collection, css="outline")
            self.outer_label(g, s)
        elif kind == "textAnnotation":
            add(g, "rect", {"x": box.x, "y": box.y, "width": box.w, "height": box.h,
                            "fill": "none", "stroke": "none"})
            add(g, "path", {"class": "outline", "d": f"M{fmt(box.x + 10)},{fmt(box.y)} "
                            f"H{fmt(box.x)} V{fmt(box.bottom)} H{fmt(box.x + 10)}",
                            "fill": "none", "stroke": INK})
            self.extent.add(text_block(g, self.name(sem), Box(box.x + 5, box.y + 3,
                                       max(box.w - 8, 20.0), max(box.h - 6, 0.0)),
                                       align="start", clip=False))
        elif kind == "group":
            add(g, "rect", {"class": "outline", "x": box.x, "y": box.y, "width": box.w,
                            "height": box.h, "rx": 10.0, "fill": "none", "stroke": INK,
                            "stroke-width": 1.5, "stroke-dasharray": "10 4 2 4"})
            place = s.label or Box(box.x, box.y + 4, box.w, 0.0)
            self.extent.add(text_block(g, self.name(sem), place, valign="top", clip=False,
                                       font_size=draw.LABEL_FONT_SIZE))
        else:
            add(g, "rect", {"class": "outline", "x": box.x, "y": box.y, "width": box.w,
                            "height": box.h, "rx": 4.0, "fill": PAPER, "stroke": INK})
            text_block(g, self.name(sem), box.inset(4))

    def pool(self, g: etree._Element, s: _Shape, box: Box, sem: etree._Element) -> None:
        add(g, "rect", {"class": "outline", "x": box.x, "y": box.y, "width": box.w,
                        "height": box.h, "fill": PAPER if s.kind == "participant" else "none",
                        "stroke": INK, "stroke-width": 1.5})
        name = self.name(sem)
        if s.kind == "participant" and not sem.get("processRef"):
            text_block(g, name, box.inset(6))
            return
        horizontal = _flag(s.di, "isHorizontal") is not False
        strip = 30.0
        if s.kind == "participant":
            d = (f"M{fmt(box.x + strip)},{fmt(box.y)} V{fmt(box.bottom)}" if horizontal
                 else f"M{fmt(box.x)},{fmt(box.y + strip)} H{fmt(box.right)}")
            add(g, "path", {"d": d, "stroke": INK, "stroke-width": 1.5})
            if children(sem, "participantMultiplicity"):
                draw.activity_markers(g, box, ["parallel"])
        if horizontal:
            turned = add(g, "g", {"transform": f"translate({fmt(box.x + strip / 2)} "
                                               f"{fmt(box.cy)}) rotate(-90)"})
            text_block(turned, name, Box(-box.h / 2 + 4, -strip / 2, max(box.h - 8, 0.0), strip))
        else:
            text_block(g, name, Box(box.x + 4, box.y, max(box.w - 8, 0.0), strip))

    def activity(self, g: etree._Element, s: _Shape, box: Box, sem: etree._Element) -> None:
        kind = s.kind
        expanded = kind in SUB_PROCESSES or kind == "callActivity"
        flag = _flag(s.di, "isExpanded")
        expanded = expanded and (flag if flag is not None else (box.w > 140 or box.h > 100))
        dash = "2 3" if _flag(sem, "triggeredByEvent") else None
        add(g, "rect", {"class": "outline", "x": box.x, "y": box.y, "width": box.w,
                        "height": box.h, "rx": 10.0, "fill": PAPER, "stroke": INK,
                        "stroke-width": 4.0 if kind == "callActivity" else 1.5,
                        "stroke-dasharray": dash})
        if kind == "transaction":
            inner = box.inset(3)
            add(g, "rect", {"x": inner.x, "y": inner.y, "width": inner.w, "height": inner.h,
                            "rx": 8.0, "fill": "none", "stroke": INK})
        if kind in TASKS:
            draw.task_marker(g, kind, box.x + 6, box.y + 6)
        markers: list[str] = []
        if children(sem, "standardLoopCharacteristics"):
            markers.append("loop")
        for loop in children(sem, "multiInstanceLoopCharacteristics"):
            markers.append("sequential" if _flag(loop, "isSequential") else "parallel")
        if _flag(sem, "isForCompensation"):
            markers.append("compensation")
        if kind in SUB_PROCESSES and not expanded:
            markers.append("collapsed")
        if kind == "adHocSubProcess":
            markers.append("adhoc")
        if markers:
            draw.activity_markers(g, box, markers)
        name = self.name(sem)
        if expanded:
            text_block(g, name, Box(box.x + 8, box.y + 6, max(box.w - 16, 0.0),
                                    min(box.h - 12, 44.0)), align="start", valign="top")
        else:
            # Keep clear of the type icon while the name still fits; never of bottom markers.
            top = 14.0 if kind in TASKS and kind != "task" else 5.0
            bottom = 20.0 if markers else 5.0
            rooms = [Box(box.x + 5, box.y + t, max(box.w - 10, 0.0), max(box.h - t - bottom, 0.0))
                     for t in (top, 5.0)]
            text_block(g, name, rooms[0] if draw.fits(name, rooms[0]) else rooms[1])

    def event(self, g: etree._Element, s: _Shape, box: Box, sem: etree._Element) -> None:
        kind, r = s.kind, min(box.w, box.h) / 2
        if r > 0:
            dash = "4 3" if _flag(sem, "cancelActivity") is False or \
                (kind == "startEvent" and _flag(sem, "isInterrupting") is False) else None
            width = {"startEvent": 2.0, "endEvent": 4.0}.get(kind, 1.5)
            add(g, "circle", {"class": "outline", "cx": box.cx, "cy": box.cy, "r": r,
                              "fill": PAPER, "stroke": INK, "stroke-width": width,
                              "stroke-dasharray": dash})
            if kind not in ("startEvent", "endEvent") and r > 4:
                add(g, "circle", {"cx": box.cx, "cy": box.cy, "r": r - 3, "fill": "none",
                                  "stroke": INK, "stroke-width": 1.5, "stroke-dasharray": dash})
            found = [local_name(d) for d in sem if local_name(d).endswith("EventDefinition")]
            for ref in sem:
                if local_name(ref) == "eventDefinitionRef" and ref.text:
                    target = self.lookup(ref.text)
                    if target is not None:
                        found.append(local_name(target))
            marker = found[0].removesuffix("EventDefinition") if len(found) == 1 else (
                ("parallelMultiple" if _flag(sem, "parallelMultiple") else "multiple")
                if found else "")
            if marker:
                draw.event_marker(g, marker, box.cx, box.cy, r, filled=kind in THROWING)
        self.outer_label(g, s)

    def outer_label(self, g: etree._Element, s: _Shape) -> None:
        """A name below an event, gateway or data shape, or where its BPMNLabel says."""
        name, box = self.name(s.sem), s.box
        if not name or box is None:
            return
        self.outer_text(g, name, s.label or Box(box.cx - 45, box.bottom + 5, 90.0, 0.0))

    def outer_text(self, g: etree._Element, name: str, anchor: Box) -> None:
        """Small haloed text, centred on anchor, at least 90 wide (label bounds are tight)."""
        width = max(anchor.w + 10, 90.0)
        place = Box(anchor.cx - width / 2, anchor.y, width, anchor.h)
        self.extent.add(text_block(g, name, place, font_size=draw.LABEL_FONT_SIZE,
                                   css="label outer", valign="top", clip=False))

    # ---- edges ---------------------------------------------------------------------------

    def ends(self, edge: etree._Element, sem: etree._Element | None) -> list[tuple[float, float]]:
        """Fallback route when an edge has no waypoints: centre to centre of its ends."""
        found: list[Box] = []
        for side in ("source", "target"):
            box = self.boxes.get(f"di:{edge.get(f'{side}Element', '')}")
            if box is None and sem is not None:
                ref = sem.get(f"{side}Ref") or next(
                    (c.text for c in children(sem, f"{side}Ref") if c.text), None)
                box = self.boxes.get((ref or "").strip())
            if box is not None:
                found.append(box)
        return [(b.cx, b.cy) for b in found] if len(found) == 2 else []

    def edge(self, g: etree._Element, edge: etree._Element, ref: str,
             sem: etree._Element | None) -> None:
        route: list[tuple[float, float]] = []
        for point in children(edge, "waypoint"):
            x, y = number(point.get("x")), number(point.get("y"))
            if x is not None and y is not None:
                route.append((x, y))
        if len(route) < 2:
            route = self.ends(edge, sem)
        if len(route) < 2:
            return
        for x, y in route:
            self.extent.add(Box(x, y, 0.0, 0.0))
        kind = local_name(sem) if sem is not None else ""
        style: dict[str, object] = {"class": "line", "points": draw.points(route),
                                    "fill": "none", "stroke": INK, "stroke-width": 1.5,
                                    "stroke-linejoin": "round"}
        source = self.lookup(sem.get("sourceRef")) if sem is not None else None
        if kind == "sequenceFlow":
            style["marker-end"] = f"url(#{MARKERS}-arrow)"
            source_kind = local_name(source) if source is not None else ""
            if children(sem, "conditionExpression") and (
                    source_kind in TASKS or source_kind in SUB_PROCESSES
                    or source_kind == "callActivity"):
                style["marker-start"] = f"url(#{MARKERS}-diamond)"
        elif kind == "messageFlow":
            style.update({"stroke-dasharray": "6 4", "marker-start": f"url(#{MARKERS}-circle)",
                          "marker-end": f"url(#{MARKERS}-open-arrow)"})
        elif kind in ("association", "dataInputAssociation", "dataOutputAssociation"):
            style.update({"stroke-dasharray": "2 3", "stroke-width": 1.2})
            direction = sem.get("associationDirection") if sem is not None else None
            if kind != "association" or direction in ("One", "Both"):
                style["marker-end"] = f"url(#{MARKERS}-line-arrow)"
            if direction == "Both":
                style["marker-start"] = f"url(#{MARKERS}-line-arrow-start)"
        elif sem is None:
            style.update({"stroke-dasharray": "5 4", "stroke": "#9aa0a6"})
        add(g, "polyline", style)
        if kind == "sequenceFlow" and source is not None and ref and source.get("default") == ref:
            draw.default_slash(g, route)
        name = self.name(sem)
        if name:
            place = label_bounds(edge)
            if place is None:
                mx, my = midpoint(route)
                place = Box(mx - 45, my - 18, 90.0, 0.0)
            self.outer_text(g, name, place)

    def badge(self, layer: etree._Element, ref: str, count: int, box: Box) -> None:
        text = str(count) if count < 1000 else "999+"
        r = 9.0 + 3.0 * (len(text) - 1)
        g = add(layer, "g", {"class": "badge", "id": f"badge-{ref}", "data-element-id": ref,
                             "data-count": str(count)})
        add(g, "title", None, f"{self.name(self.lookup(ref)) or ref}: {count}")
        add(g, "circle", {"cx": box.right, "cy": box.y, "r": r})
        add(g, "text", {"x": box.right, "y": box.y + 4.0, "text-anchor": "middle",
                        "font-size": 11.0}, text)
        self.extent.add(Box(box.right - r, box.y - r, 2 * r, 2 * r))


def _rank(s: _Shape) -> tuple[int, float]:
    if s.kind == "participant":
        return 0, 0.0
    if s.kind == "lane":
        return 1, 0.0
    if s.kind in SUB_PROCESSES or s.kind == "callActivity":
        return 2, -(s.box.w * s.box.h if s.box else 0.0)
    return (4 if s.kind == "boundaryEvent" else 3), 0.0


def _title(root: etree._Element, plane: etree._Element, title: str | None) -> str:
    if title:
        return title
    diagram = plane.getparent()
    candidates: Iterable[str | None] = (
        diagram.get("name") if diagram is not None else None,
        *(p.get("name") for p in root.iter(f"{{{MODEL_NS}}}process")),
        root.get("name") if _in(root, MODEL_NS) else None,
    )
    return next((c.strip() for c in candidates if c and c.strip()), "BPMN diagram")


def render_svg(root: etree._Element, *, completed: Set[str] = frozenset(),
               active: Set[str] = frozenset(), waiting: Set[str] = frozenset(),
               counts: Mapping[str, int] | None = None, diagram_id: str | None = None,
               title: str | None = None) -> str:
    """Draw the diagram interchange of a parsed bpmn:definitions as a standalone SVG document.

    The first BPMNDiagram with any shapes or edges is drawn (or the one whose id is
    ``diagram_id``). Each shape or edge becomes ``<g id="el-<bpmnElement>" class="shape task
    userTask active">`` (edges: ``class="edge sequenceFlow ..."``) with a ``<title>``; ids in
    ``completed``, ``active`` and ``waiting`` add those classes and styles; a positive entry in
    ``counts`` adds a badge ``<g id="badge-<id>">`` at the element's top-right corner.

    Raises NoDiagram when the document has no BPMNDiagram, no diagram with ``diagram_id``, or
    no shape or edge in its diagrams. Anything else odd in the DI is drawn as best it can be.
    """
    if hasattr(root, "getroot"):
        root = root.getroot()
    plane = _select_plane(root, diagram_id)
    r = _Renderer(root, completed, active, waiting)
    shapes: list[_Shape] = []
    for di in plane.iter(f"{{{BPMNDI_NS}}}BPMNShape"):
        ref = (di.get("bpmnElement") or "").strip()
        sem = r.lookup(ref)
        kind = local_name(sem) if sem is not None else "missing"
        shapes.append(_Shape(di, ref, sem, kind, bounds(di), label_bounds(di)))
    shapes.sort(key=_rank)

    label = _title(root, plane, title)
    svg = etree.Element(f"{{{draw.SVG_NS}}}svg", nsmap={None: draw.SVG_NS})
    for key, value in {"class": "rf-bpmn", "role": "img", "aria-label": label,
                       "font-family": "Arial, Helvetica, sans-serif",
                       "font-size": fmt(draw.FONT_SIZE)}.items():
        svg.set(key, draw.clean(value))
    add(svg, "title", None, label)
    add(svg, "style", None, draw.STYLE)
    draw.defs(svg, MARKERS)
    layers = {name: add(svg, "g", {"class": f"layer-{name}"})
              for name in ("shapes", "edges", "groups", "badges")}

    for n, s in enumerate(shapes):
        category = {"participant": "pool", "lane": "lane", "missing": "missing"}.get(s.kind) or (
            "task" if s.kind in TASKS else "activity" if s.kind in SUB_PROCESSES
            or s.kind == "callActivity" else "event" if s.kind in EVENTS else "gateway"
            if s.kind in GATEWAYS else "data" if s.kind in DATA else "artifact"
            if s.kind in ("textAnnotation", "group") else "other")
        layer = layers["groups" if s.kind == "group" else "shapes"]
        g = r.group(layer, f"shape {category}", s.ref, s.kind, s.sem, s.di.get("id") or f"s{n}")
        r.shape(g, s)
    for n, edge in enumerate(plane.iter(f"{{{BPMNDI_NS}}}BPMNEdge")):
        ref = (edge.get("bpmnElement") or "").strip()
        sem = r.lookup(ref)
        kind = local_name(sem) if sem is not None else "missing"
        g = r.group(layers["edges"], "edge", ref, kind, sem, edge.get("id") or f"e{n}")
        r.edge(g, edge, ref, sem)
    for ref, count in (counts or {}).items():
        box = r.boxes.get(ref)
        if box is not None and isinstance(count, int) and not isinstance(count, bool) \
                and count > 0:
            r.badge(layers["badges"], ref, count, box)

    view = r.extent.view()
    svg.set("viewBox", " ".join(fmt(v) for v in (view.x, view.y, view.w, view.h)))
    svg.set("width", fmt(view.w))
    svg.set("height", fmt(view.h))
    return etree.tostring(svg, encoding="unicode")
