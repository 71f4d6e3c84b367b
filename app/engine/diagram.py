"""Read a BPMN document's diagram interchange (BPMN DI): which plane to draw, the bounds of its
shapes, the semantic element each shape or edge shows, and the title to give the drawing.

Only lxml is needed (no SpiffWorkflow); `app.rendering.diagram` draws what this reads.

    root = parse_document(content, "review.bpmn")
    diagram = read_diagram(root, active={"screen_referral"}, counts={"screen_referral": 3})
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field

from lxml import etree

MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
MAX_COORD = 1e7


class NoDiagram(ValueError):
    """The document has no (usable) diagram interchange to draw."""


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in diagram coordinates."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def inset(self, d: float) -> Box:
        """The box shrunk by d on every side (never below zero size)."""
        w = max(self.w - 2 * d, 0.0)
        h = max(self.h - 2 * d, 0.0)
        return Box(self.cx - w / 2, self.cy - h / 2, w, h)


# ---- reading elements and DI geometry ----------------------------------------------------


def local_name(node: etree._Element) -> str:
    """An element's tag without its namespace ("" for comments and processing instructions)."""
    return node.tag.rpartition("}")[2] if isinstance(node.tag, str) else ""


def children(node: etree._Element, local: str) -> list[etree._Element]:
    """Direct child elements with this local name, in any namespace."""
    return [child for child in node if local_name(child) == local]


def in_namespace(node: etree._Element, namespace: str) -> bool:
    return isinstance(node.tag, str) and node.tag.startswith(f"{{{namespace}}}")


def flag(node: etree._Element, name: str) -> bool | None:
    """A boolean attribute (true/false/1/0), or None when absent or unreadable."""
    value = (node.get(name) or "").strip().lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(value)


def number(value: str | None) -> float | None:
    """A finite coordinate from an attribute (clamped to +-MAX_COORD), or None."""
    try:
        parsed = float(value) if value is not None else None
    except ValueError:
        return None
    if parsed is None or not math.isfinite(parsed):
        return None
    return max(-MAX_COORD, min(MAX_COORD, parsed))


def bounds(node: etree._Element) -> Box | None:
    """The dc:Bounds child of a DI element, normalised; None when absent or unreadable."""
    for child in children(node, "Bounds"):
        values = [number(child.get(name)) for name in ("x", "y", "width", "height")]
        if all(value is None for value in values):
            continue
        x, y, w, h = (value or 0.0 for value in values)
        return Box(min(x, x + w), min(y, y + h), abs(w), abs(h))
    return None


def label_bounds(node: etree._Element) -> Box | None:
    """The bounds of a DI element's BPMNLabel, when it has usable ones."""
    for label in children(node, "BPMNLabel"):
        box = bounds(label)
        if box is not None and box.w > 0 and box.h > 0:
            return box
    return None


def waypoints(edge: etree._Element) -> list[tuple[float, float]]:
    """An edge's readable waypoints, in order."""
    route: list[tuple[float, float]] = []
    for point in children(edge, "waypoint"):
        x, y = number(point.get("x")), number(point.get("y"))
        if x is not None and y is not None:
            route.append((x, y))
    return route


# ---- the diagram -------------------------------------------------------------------------


@dataclass
class Shape:
    """A BPMNShape with the semantic element it shows (None: missing) and its bounds."""

    di: etree._Element
    ref: str
    sem: etree._Element | None
    kind: str
    box: Box | None
    label: Box | None


@dataclass(frozen=True)
class Diagram:
    """The plane to draw, with an instance's state to overlay: ids of completed, active and
    waiting elements, and per-element counts for a heat view."""

    root: etree._Element
    plane: etree._Element
    title: str
    elements: Mapping[str, etree._Element]
    completed: Set[str] = frozenset()
    active: Set[str] = frozenset()
    waiting: Set[str] = frozenset()
    counts: Mapping[str, int] = field(default_factory=dict)

    def lookup(self, ref: str | None) -> etree._Element | None:
        """The semantic element with this id (a prefixed reference matches by its local id)."""
        if not ref:
            return None
        ref = ref.strip()
        found = self.elements.get(ref)
        return found if found is not None else self.elements.get(ref.rpartition(":")[2])

    def shapes(self) -> list[Shape]:
        """The plane's shapes, in document order."""
        found = []
        for di in self.plane.iter(f"{{{BPMNDI_NS}}}BPMNShape"):
            ref = (di.get("bpmnElement") or "").strip()
            sem = self.lookup(ref)
            kind = local_name(sem) if sem is not None else "missing"
            found.append(Shape(di, ref, sem, kind, bounds(di), label_bounds(di)))
        return found

    def edges(self) -> list[etree._Element]:
        """The plane's BPMNEdge elements, in document order."""
        return list(self.plane.iter(f"{{{BPMNDI_NS}}}BPMNEdge"))


def select_plane(root: etree._Element, diagram_id: str | None = None) -> etree._Element:
    """The first BPMNPlane with any shape or edge (of the diagram ``diagram_id``, if given)."""
    diagrams = [d for d in root.iter(f"{{{BPMNDI_NS}}}BPMNDiagram")]
    if not diagrams:
        raise NoDiagram("the document has no diagram interchange (bpmndi:BPMNDiagram)")
    if diagram_id is not None:
        diagrams = [d for d in diagrams if d.get("id") == diagram_id]
        if not diagrams:
            raise NoDiagram(f"the document has no diagram with id {diagram_id!r}")
    planes = [p for d in diagrams for p in children(d, "BPMNPlane")
              if in_namespace(p, BPMNDI_NS)]
    for plane in planes:
        if next(plane.iter(f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge"), None) \
                is not None:
            return plane
    raise NoDiagram("the document's diagram interchange has no shapes or edges to draw")


def _title(root: etree._Element, plane: etree._Element, title: str | None) -> str:
    if title:
        return title
    diagram = plane.getparent()
    candidates: Iterable[str | None] = (
        diagram.get("name") if diagram is not None else None,
        *(p.get("name") for p in root.iter(f"{{{MODEL_NS}}}process")),
        root.get("name") if in_namespace(root, MODEL_NS) else None,
    )
    return next((c.strip() for c in candidates if c and c.strip()), "BPMN diagram")


def read_diagram(root: etree._Element, *, completed: Set[str] = frozenset(),
                 active: Set[str] = frozenset(), waiting: Set[str] = frozenset(),
                 counts: Mapping[str, int] | None = None, diagram_id: str | None = None,
                 title: str | None = None) -> Diagram:
    """The diagram of a parsed bpmn:definitions: its first BPMNDiagram with any shapes or
    edges (or the one whose id is ``diagram_id``); the title defaults to the diagram's or the
    process's name.

    Raises NoDiagram when the document has no BPMNDiagram, no diagram with ``diagram_id``, or
    no shape or edge in its diagrams.
    """
    if hasattr(root, "getroot"):
        root = root.getroot()
    plane = select_plane(root, diagram_id)
    elements: dict[str, etree._Element] = {}
    for node in root.iter():
        if in_namespace(node, MODEL_NS) and node.get("id"):
            elements.setdefault(node.get("id", ""), node)
    return Diagram(root, plane, _title(root, plane, title), elements, completed, active,
                   waiting, counts or {})
