"""Draw a BPMN diagram (as read by `app.engine.diagram`) as a standalone SVG string.

Shapes are drawn by the kind of the semantic element they show; an instance's state can be
overlaid (completed / active / waiting elements, and count badges for a heat view).

    diagram = read_diagram(parse_document(content, "review.bpmn"), active={"screen_referral"})
    svg = draw(diagram)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set

from lxml import etree

from app.engine.diagram import (
    Box,
    Diagram,
    Shape,
    children,
    flag,
    label_bounds,
    local_name,
    read_diagram,
    waypoints,
)
from app.rendering import diagram_shapes as glyphs
from app.rendering.diagram_shapes import INK, PAPER, Extent, add, fmt, midpoint, text_block

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
STATE_WORDS = {"completed": "Done", "active": "In progress", "waiting": "Waiting"}
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$|^[a-z]+$")


def in_words(name: str) -> str:
    """A lane named by a role id (`board_manager`) as people say it: `Board manager`."""
    if _IDENTIFIER.match(name):
        text = name.replace("_", " ")
        return text[:1].upper() + text[1:]
    return name


class _Renderer:
    def __init__(self, diagram: Diagram) -> None:
        self.lookup = diagram.lookup
        self.states = {"completed": diagram.completed, "waiting": diagram.waiting,
                       "active": diagram.active}
        self.extent = Extent()
        self.used_ids: set[str] = set()
        self.boxes: dict[str, Box] = {}
        self.labels: list[tuple[str, Box]] = []
        self.pending: list[tuple[etree._Element, str, Box]] = []
        self.state: str | None = None

    def name(self, sem: etree._Element | None) -> str:
        if sem is None:
            return ""
        kind = local_name(sem)
        if kind == "textAnnotation":
            return " ".join("".join(str(s) for s in t.itertext())
                            for t in children(sem, "text")).strip()
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
                             "data-element-id": element_id or None,
                             "data-state": states[0] if states else None})
        self.state = states[0] if states else None
        title = self.name(sem) or self.unnamed(sem, kind)
        if kind == "lane":
            title = in_words(title)
        if self.state and css != "edge":
            title = f"{title} ({STATE_WORDS[self.state].lower()})"
        add(g, "title", None, title)
        return g

    def unnamed(self, sem: etree._Element | None, kind: str) -> str:
        """Words for an element with no name: a flow by its ends, anything else by its kind
        (`exclusiveGateway` -> `Exclusive gateway`), never by its id."""
        if sem is not None and sem.get("sourceRef") and sem.get("targetRef"):
            ends = [self.name(self.lookup(sem.get(side))) for side in ("sourceRef", "targetRef")]
            if all(ends):
                return f"From {in_words(ends[0])} to {in_words(ends[1])}"
        text = re.sub(r"(?<!^)(?=[A-Z])", " ", kind).lower()
        return text[:1].upper() + text[1:]

    def text(self, parent: etree._Element, text: str, box: Box, **options: object) -> Box | None:
        """`text_block`, remembering the box the label takes (to check none overlap)."""
        used = text_block(parent, text, box, **options)  # type: ignore[arg-type]
        if used is not None:
            self.labels.append((text, used))
        return used

    def state_mark(self, g: etree._Element, box: Box, inside: bool) -> None:
        """State by shape and word as well as colour: a tick (done), a clock (waiting) or a
        play sign (in progress) at the top right corner; inside an activity, the word too."""
        state = self.state
        if state is None:
            return
        glyphs.state_glyph(g, state, box.right, box.y)
        self.extent.add(Box(box.right - 9, box.y - 9, 18.0, 18.0))
        if inside:
            self.text(g, STATE_WORDS[state], Box(box.x + 5, box.bottom - 16, max(box.w - 10, 0),
                                                 13.0), font_size=glyphs.STATE_FONT_SIZE,
                      css="label state-word")

    # ---- shapes --------------------------------------------------------------------------

    def shape(self, g: etree._Element, s: Shape) -> None:
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
            add(g, "polygon", {"class": "outline", "points": glyphs.diamond(box), "fill": PAPER,
                               "stroke": INK, "stroke-width": 1.5})
            glyphs.gateway_marker(g, kind, box, marker_visible=flag(s.di, "isMarkerVisible")
                                is True, instantiate=flag(sem, "instantiate") is True,
                                parallel_events=sem.get("eventGatewayType") == "Parallel")
            self.state_mark(g, box, inside=False)
            self.outer_label(g, s)
        elif kind in ("dataStore", "dataStoreReference"):
            glyphs.data_store(g, box, "outline")
            self.outer_label(g, s)
        elif kind in DATA:
            target = self.lookup(sem.get("dataObjectRef")) if kind == "dataObjectReference" \
                else sem
            collection = target is not None and flag(target, "isCollection") is True
            glyphs.data_object(g, box, kind=kind, collection=collection, css="outline")
            self.outer_label(g, s)
        elif kind == "textAnnotation":
            add(g, "rect", {"x": box.x, "y": box.y, "width": box.w, "height": box.h,
                            "fill": "none", "stroke": "none"})
            add(g, "path", {"class": "outline", "d": f"M{fmt(box.x + 10)},{fmt(box.y)} "
                            f"H{fmt(box.x)} V{fmt(box.bottom)} H{fmt(box.x + 10)}",
                            "fill": "none", "stroke": INK})
            self.extent.add(self.text(g, self.name(sem), Box(box.x + 5, box.y + 3,
                                       max(box.w - 8, 20.0), max(box.h - 6, 0.0)),
                                       align="start", clip=False))
        elif kind == "group":
            add(g, "rect", {"class": "outline", "x": box.x, "y": box.y, "width": box.w,
                            "height": box.h, "rx": 10.0, "fill": "none", "stroke": INK,
                            "stroke-width": 1.5, "stroke-dasharray": "10 4 2 4"})
            place = s.label or Box(box.x, box.y + 4, box.w, 0.0)
            self.extent.add(self.text(g, self.name(sem), place, valign="top", clip=False,
                                       font_size=glyphs.LABEL_FONT_SIZE))
        else:
            add(g, "rect", {"class": "outline", "x": box.x, "y": box.y, "width": box.w,
                            "height": box.h, "rx": 4.0, "fill": PAPER, "stroke": INK})
            self.text(g, self.name(sem), box.inset(4))

    def pool(self, g: etree._Element, s: Shape, box: Box, sem: etree._Element) -> None:
        add(g, "rect", {"class": "outline", "x": box.x, "y": box.y, "width": box.w,
                        "height": box.h, "fill": PAPER if s.kind == "participant" else "none",
                        "stroke": INK, "stroke-width": 1.5})
        name = self.name(sem)
        if s.kind == "lane":
            name = in_words(name)
        if s.kind == "participant" and not sem.get("processRef"):
            self.text(g, name, box.inset(6))
            return
        horizontal = flag(s.di, "isHorizontal") is not False
        strip = 30.0
        if s.kind == "participant":
            d = (f"M{fmt(box.x + strip)},{fmt(box.y)} V{fmt(box.bottom)}" if horizontal
                 else f"M{fmt(box.x)},{fmt(box.y + strip)} H{fmt(box.right)}")
            add(g, "path", {"d": d, "stroke": INK, "stroke-width": 1.5})
            if children(sem, "participantMultiplicity"):
                glyphs.activity_markers(g, box, ["parallel"])
        if horizontal:
            turned = add(g, "g", {"transform": f"translate({fmt(box.x + strip / 2)} "
                                               f"{fmt(box.cy)}) rotate(-90)"})
            used = text_block(turned, name, Box(-box.h / 2 + 4, -strip / 2, max(box.h - 8, 0.0),
                                                strip))
            if used is not None:  # turned a quarter about the strip's centre
                self.labels.append((name, Box(box.x + strip / 2 + used.y, box.cy - used.right,
                                              used.h, used.w)))
        else:
            self.text(g, name, Box(box.x + 4, box.y, max(box.w - 8, 0.0), strip))

    def activity(self, g: etree._Element, s: Shape, box: Box, sem: etree._Element) -> None:
        kind = s.kind
        expanded = kind in SUB_PROCESSES or kind == "callActivity"
        shown = flag(s.di, "isExpanded")
        expanded = expanded and (shown if shown is not None else (box.w > 140 or box.h > 100))
        dash = "2 3" if flag(sem, "triggeredByEvent") else None
        add(g, "rect", {"class": "outline", "x": box.x, "y": box.y, "width": box.w,
                        "height": box.h, "rx": 10.0, "fill": PAPER, "stroke": INK,
                        "stroke-width": 4.0 if kind == "callActivity" else 1.5,
                        "stroke-dasharray": dash})
        if kind == "transaction":
            inner = box.inset(3)
            add(g, "rect", {"x": inner.x, "y": inner.y, "width": inner.w, "height": inner.h,
                            "rx": 8.0, "fill": "none", "stroke": INK})
        if kind in TASKS:
            glyphs.task_marker(g, kind, box.x + 6, box.y + 6)
        markers: list[str] = []
        if children(sem, "standardLoopCharacteristics"):
            markers.append("loop")
        for loop in children(sem, "multiInstanceLoopCharacteristics"):
            markers.append("sequential" if flag(loop, "isSequential") else "parallel")
        if flag(sem, "isForCompensation"):
            markers.append("compensation")
        if kind in SUB_PROCESSES and not expanded:
            markers.append("collapsed")
        if kind == "adHocSubProcess":
            markers.append("adhoc")
        if markers:
            glyphs.activity_markers(g, box, markers)
        name = self.name(sem)
        if expanded:
            self.text(g, name, Box(box.x + 8, box.y + 6, max(box.w - 16, 0.0),
                                   min(box.h - 12, 44.0)), align="start", valign="top")
        else:
            # Keep clear of the type icon while the name still fits; never of bottom markers.
            top = 14.0 if kind in TASKS and kind != "task" else 5.0
            bottom = 20.0 if markers else 17.0 if self.state else 5.0
            rooms = [Box(box.x + 5, box.y + t, max(box.w - 10, 0.0), max(box.h - t - bottom, 0.0))
                     for t in (top, 5.0)]
            self.text(g, name, rooms[0] if glyphs.fits(name, rooms[0]) else rooms[1])
        self.state_mark(g, box, inside=not markers and not expanded)

    def event(self, g: etree._Element, s: Shape, box: Box, sem: etree._Element) -> None:
        kind, r = s.kind, min(box.w, box.h) / 2
        if r > 0:
            dash = "4 3" if flag(sem, "cancelActivity") is False or \
                (kind == "startEvent" and flag(sem, "isInterrupting") is False) else None
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
                ("parallelMultiple" if flag(sem, "parallelMultiple") else "multiple")
                if found else "")
            if marker:
                glyphs.event_marker(g, marker, box.cx, box.cy, r, filled=kind in THROWING)
            self.state_mark(g, box, inside=False)
        self.outer_label(g, s)

    def outer_label(self, g: etree._Element, s: Shape) -> None:
        """A name below an event, gateway or data shape, or where its BPMNLabel says."""
        name, box = self.name(s.sem), s.box
        if not name or box is None:
            return
        self.outer_text(g, name, s.label or Box(box.cx - 45, box.bottom + 5, 90.0, 0.0))

    def outer_text(self, g: etree._Element, name: str, anchor: Box) -> None:
        """Small haloed text, centred on anchor, at least 90 wide (label bounds are tight)."""
        width = max(anchor.w + 10, 90.0)
        place = Box(anchor.cx - width / 2, anchor.y, width, anchor.h)
        self.pending.append((g, name, place))

    def place_outer_labels(self) -> None:
        """Write the outer labels where the DI puts them, or, where one would overlap a text
        already written, at the nearest free place (tried a few points at a time around it)."""
        size = glyphs.LABEL_FONT_SIZE
        for g, name, place in self.pending:
            chosen = place
            for dx, dy in _NUDGES:
                moved = Box(place.x + dx, place.y + dy, place.w, place.h)
                used = glyphs.text_extent(name, moved, font_size=size, valign="top")
                if used is None or not any(_overlap(used, other) for _t, other in self.labels):
                    chosen = moved
                    break
            self.extent.add(self.text(g, name, chosen, font_size=size, css="label outer",
                                      valign="top", clip=False))
        self.pending = []

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
        route = waypoints(edge)
        if len(route) < 2:
            route = self.ends(edge, sem)
        if len(route) < 2:
            return
        for x, y in route:
            self.extent.add(Box(x, y, 0.0, 0.0))
        kind = local_name(sem) if sem is not None else ""
        style: dict[str, object] = {"class": "line", "points": glyphs.points(route),
                                    "fill": "none", "stroke": INK, "stroke-width": 1.5,
                                    "stroke-linejoin": "round"}
        source = self.lookup(sem.get("sourceRef")) if sem is not None else None
        if kind == "sequenceFlow":
            style["marker-end"] = f"url(#{MARKERS}-arrow)"
            source_kind = local_name(source) if source is not None else ""
            if sem is not None and children(sem, "conditionExpression") and (
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
            glyphs.default_slash(g, route)
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


def _overlap(a: Box, b: Box, gap: float = 1.0) -> bool:
    return (a.x < b.right + gap and b.x < a.right + gap and a.y < b.bottom + gap
            and b.y < a.bottom + gap)


_NUDGES = [(0.0, 0.0)] + [(dx * step, dy * step) for step in range(1, 16)
                          for dx, dy in ((0, 7), (0, -7), (9, 0), (-9, 0),
                                         (9, 7), (-9, 7), (9, -7), (-9, -7))]


def _rank(s: Shape) -> tuple[int, float]:
    if s.kind == "participant":
        return 0, 0.0
    if s.kind == "lane":
        return 1, 0.0
    if s.kind in SUB_PROCESSES or s.kind == "callActivity":
        return 2, -(s.box.w * s.box.h if s.box else 0.0)
    return (4 if s.kind == "boundaryEvent" else 3), 0.0


def render_svg(root: etree._Element, *, completed: Set[str] = frozenset(),
               active: Set[str] = frozenset(), waiting: Set[str] = frozenset(),
               counts: Mapping[str, int] | None = None, diagram_id: str | None = None,
               title: str | None = None) -> str:
    """`read_diagram` then `draw`: the diagram of a parsed bpmn:definitions as SVG (raises
    NoDiagram as `read_diagram` does)."""
    return draw(read_diagram(root, completed=completed, active=active, waiting=waiting,
                             counts=counts, diagram_id=diagram_id, title=title))


def draw(diagram: Diagram) -> str:
    """The diagram as a standalone SVG document.

    Each shape or edge becomes ``<g id="el-<bpmnElement>" class="shape task userTask active">``
    (edges: ``class="edge sequenceFlow ..."``) with a ``<title>``; ids in the diagram's
    ``completed``, ``active`` and ``waiting`` add those classes and styles; a positive entry in
    its ``counts`` adds a badge ``<g id="badge-<id>">`` at the element's top-right corner.
    Anything odd in the DI is drawn as best it can be.
    """
    return _render(diagram)[0]


def label_boxes(diagram: Diagram) -> list[tuple[str, Box]]:
    """Each text drawn (names, labels, lane names, state words) with the box it takes."""
    return _render(diagram)[1].labels


def _render(diagram: Diagram) -> tuple[str, _Renderer]:
    r = _Renderer(diagram)
    shapes = diagram.shapes()
    shapes.sort(key=_rank)

    label = diagram.title
    svg = etree.Element(f"{{{glyphs.SVG_NS}}}svg",
                        nsmap={None: glyphs.SVG_NS})  # type: ignore[dict-item]
    for key, value in {"class": "rf-bpmn", "role": "img", "aria-label": label,
                       "font-family": "Arial, Helvetica, sans-serif",
                       "font-size": fmt(glyphs.FONT_SIZE)}.items():
        svg.set(key, glyphs.clean(value))
    add(svg, "title", None, label)
    add(svg, "style", None, glyphs.STYLE)
    glyphs.defs(svg, MARKERS)
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
    for n, edge in enumerate(diagram.edges()):
        ref = (edge.get("bpmnElement") or "").strip()
        sem = r.lookup(ref)
        kind = local_name(sem) if sem is not None else "missing"
        g = r.group(layers["edges"], "edge", ref, kind, sem, edge.get("id") or f"e{n}")
        r.edge(g, edge, ref, sem)
    r.place_outer_labels()
    for ref, count in diagram.counts.items():
        box = r.boxes.get(ref)
        if box is not None and isinstance(count, int) and not isinstance(count, bool) \
                and count > 0:
            r.badge(layers["badges"], ref, count, box)

    view = r.extent.view()
    svg.set("viewBox", " ".join(fmt(v) for v in (view.x, view.y, view.w, view.h)))
    svg.set("width", fmt(view.w))
    svg.set("height", fmt(view.h))
    return etree.tostring(svg, encoding="unicode"), r
