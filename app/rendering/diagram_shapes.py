"""SVG drawing primitives for app.rendering.diagram: extent, text layout, glyphs and markers.

Everything here builds lxml SVG elements, so text and attribute values are escaped by lxml.
The glyphs are deliberately simple approximations of the BPMN 2.0 notation.
"""

from __future__ import annotations

import itertools
import math
import re

from lxml import etree

from app.engine.diagram import Box

SVG_NS = "http://www.w3.org/2000/svg"
FONT_SIZE = 12.0
LABEL_FONT_SIZE = 11.0
STATE_FONT_SIZE = 10.0
CHAR_WIDTH = 0.52  # average glyph width of a sans-serif font, in ems
LINE_HEIGHT = 1.2
MARGIN = 20.0
INK = "#22242a"
PAPER = "#ffffff"

STYLE = """
.rf-bpmn text { fill: #22242a; }
.rf-bpmn .label { pointer-events: none; }
.rf-bpmn .outer { paint-order: stroke; stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; }
.rf-bpmn .completed .outline { fill: #e3f4e6; stroke: #2e7d32; stroke-width: 2.5px; }
.rf-bpmn .edge.completed .line { stroke: #2e9d48; stroke-width: 2.5px; }
.rf-bpmn .waiting .outline { fill: #fff4d6; stroke: #8a5a00; stroke-width: 3px;
  stroke-dasharray: 2 3; }
.rf-bpmn .edge.waiting .line { stroke: #d48806; stroke-width: 2.5px; }
.rf-bpmn .active .outline { fill: #dbe8ff; stroke: #1a56db; stroke-width: 4.5px;
  stroke-dasharray: 9 4; }
.rf-bpmn .state-word { font-weight: bold; }
.rf-bpmn .state-mark circle { stroke: #ffffff; stroke-width: 1.5px; }
.rf-bpmn .state-mark.completed circle { fill: #2e7d32; }
.rf-bpmn .state-mark.active circle { fill: #1a56db; }
.rf-bpmn .state-mark.waiting circle { fill: #8a5a00; }
.rf-bpmn .edge.active .line { stroke: #1a56db; stroke-width: 3px; }
.rf-bpmn .missing .outline { stroke: #9aa0a6; }
.rf-bpmn .badge circle { fill: #d32f2f; stroke: #ffffff; stroke-width: 1.5px; }
.rf-bpmn .badge text { fill: #ffffff; font-weight: bold; }
"""

_NOT_XML_CHARS = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Extent:
    """The running bounding box of everything drawn; view() adds the margin."""

    def __init__(self) -> None:
        self.lo_x = self.lo_y = math.inf
        self.hi_x = self.hi_y = -math.inf

    def add(self, box: Box | None) -> None:
        if box is not None:
            self.lo_x, self.lo_y = min(self.lo_x, box.x), min(self.lo_y, box.y)
            self.hi_x, self.hi_y = max(self.hi_x, box.right), max(self.hi_y, box.bottom)

    def view(self) -> Box:
        if self.lo_x > self.hi_x:
            return Box(0.0, 0.0, 100.0, 100.0)
        return Box(self.lo_x - MARGIN, self.lo_y - MARGIN, self.hi_x - self.lo_x + 2 * MARGIN,
                   self.hi_y - self.lo_y + 2 * MARGIN)


def midpoint(route: list[tuple[float, float]]) -> tuple[float, float]:
    """The point halfway along a polyline."""
    half = sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(route)) / 2
    for a, b in itertools.pairwise(route):
        length = math.hypot(b[0] - a[0], b[1] - a[1])
        if half <= length and length > 0:
            t = half / length
            return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
        half -= length
    return route[0]


def default_slash(parent: etree._Element, route: list[tuple[float, float]]) -> None:
    """The slash across a default flow, near its start."""
    (x0, y0), (x1, y1) = route[0], route[1]
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    px, py = x0 + ux * min(12.0, length / 2), y0 + uy * min(12.0, length / 2)
    dx, dy = 3 * ux - 5 * uy, 3 * uy + 5 * ux
    add(parent, "path", {"class": "line default-marker", "d": f"M{fmt(px - dx)},{fmt(py - dy)} "
                         f"L{fmt(px + dx)},{fmt(py + dy)}", "stroke": INK, "stroke-width": 1.5})


def clean(text: object) -> str:
    """Text made safe for an XML document (characters XML cannot hold are dropped)."""
    return _NOT_XML_CHARS.sub("", str(text))


def fmt(value: float) -> str:
    """A coordinate written compactly (at most two decimals)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def add(parent: etree._Element, tag: str, attrs: dict[str, object] | None = None,
        text: str | None = None) -> etree._Element:
    """Append an SVG element; floats are formatted, None values are left out."""
    node = etree.SubElement(parent, f"{{{SVG_NS}}}{tag}")
    for key, value in (attrs or {}).items():
        if value is None:
            continue
        node.set(key, fmt(value) if isinstance(value, float) else clean(value))
    if text is not None:
        node.text = clean(text)
    return node


def points(coords: list[tuple[float, float]]) -> str:
    """An SVG points attribute."""
    return " ".join(f"{fmt(x)},{fmt(y)}" for x, y in coords)


def wrap_text(text: str, width: float, font_size: float) -> list[str]:
    """Break text into lines that fit width, by words; words too long are split."""
    max_chars = max(int(width / (font_size * CHAR_WIDTH)), 1)
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        current = ""
        for word in paragraph.split():
            while len(word) > max_chars:
                if current:
                    lines.append(current)
                    current = ""
                lines.append(word[:max_chars])
                word = word[max_chars:]
            candidate = f"{current} {word}" if current else word
            if len(candidate) <= max_chars:
                current = candidate
            else:
                lines.append(current)
                current = word
        if current:
            lines.append(current)
    return lines


def fits(text: str, box: Box, font_size: float = FONT_SIZE) -> bool:
    """Whether text wrapped to box's width fits its height."""
    lines = wrap_text(text, max(box.w, font_size), font_size)
    return len(lines) * font_size * LINE_HEIGHT <= box.h


def text_block(parent: etree._Element, text: str, box: Box, *, font_size: float = FONT_SIZE,
               align: str = "middle", valign: str = "middle", clip: bool = True,
               css: str = "label") -> Box | None:
    """Write text wrapped to box's width; returns the box the lines occupy (None if no text).

    With clip, lines that do not fit the box's height are dropped and the last kept line ends
    with an ellipsis; without it the text may run past the box's bottom.
    """
    width = max(box.w, font_size)
    lines = wrap_text(text, width, font_size)
    if not lines:
        return None
    line_h = font_size * LINE_HEIGHT
    if clip:
        room = max(int(box.h // line_h), 1)
        if len(lines) > room:
            lines = lines[:room]
            max_chars = max(int(width / (font_size * CHAR_WIDTH)), 1)
            lines[-1] = lines[-1][:max_chars - 1].rstrip() + "…"
    total = line_h * len(lines)
    top = box.y + (box.h - total) / 2 if valign == "middle" else box.y
    x = {"start": box.x, "end": box.right}.get(align, box.cx)
    node = add(parent, "text", {"class": css, "x": x, "font-size": font_size,
                                "text-anchor": align})
    for number, line in enumerate(lines):
        baseline = top + line_h * number + font_size * 0.95
        add(node, "tspan", {"x": x, "y": baseline}, line)
    used_w = min(max(len(line) for line in lines) * font_size * CHAR_WIDTH, max(box.w, 1.0))
    left = {"start": box.x, "end": box.right - used_w}.get(align, box.cx - used_w / 2)
    return Box(left, top, used_w, total)


def text_extent(text: str, box: Box, *, font_size: float = FONT_SIZE, align: str = "middle",
                valign: str = "middle") -> Box | None:
    """The box `text_block` (without clip) would fill, without writing anything."""
    width = max(box.w, font_size)
    lines = wrap_text(text, width, font_size)
    if not lines:
        return None
    total = font_size * LINE_HEIGHT * len(lines)
    top = box.y + (box.h - total) / 2 if valign == "middle" else box.y
    used_w = min(max(len(line) for line in lines) * font_size * CHAR_WIDTH, max(box.w, 1.0))
    left = {"start": box.x, "end": box.right - used_w}.get(align, box.cx - used_w / 2)
    return Box(left, top, used_w, total)


def defs(svg: etree._Element, prefix: str) -> None:
    """Arrowheads and edge markers, referenced by id as url(#<prefix>-<name>)."""
    node = add(svg, "defs")

    def marker(name: str, w: float, h: float, rx: float, ry: float) -> etree._Element:
        return add(node, "marker", {"id": f"{prefix}-{name}", "viewBox": f"0 0 {fmt(w)} {fmt(h)}",
                                    "refX": rx, "refY": ry, "markerWidth": w, "markerHeight": h,
                                    "markerUnits": "userSpaceOnUse", "orient": "auto"})

    add(marker("arrow", 11.0, 10.0, 10.5, 5.0), "path",
        {"d": "M0.5,0.5 L10.5,5 L0.5,9.5 Z", "fill": INK, "stroke": INK})
    add(marker("open-arrow", 11.0, 10.0, 10.5, 5.0), "path",
        {"d": "M0.5,0.5 L10.5,5 L0.5,9.5 Z", "fill": PAPER, "stroke": INK})
    add(marker("line-arrow", 11.0, 10.0, 10.0, 5.0), "path",
        {"d": "M0.5,0.5 L10,5 L0.5,9.5", "fill": "none", "stroke": INK})
    add(marker("line-arrow-start", 11.0, 10.0, 1.0, 5.0), "path",
        {"d": "M10.5,0.5 L1,5 L10.5,9.5", "fill": "none", "stroke": INK})
    add(marker("circle", 10.0, 10.0, 5.0, 5.0), "circle",
        {"cx": 5.0, "cy": 5.0, "r": 3.5, "fill": PAPER, "stroke": INK})
    add(marker("diamond", 16.0, 10.0, 1.0, 5.0), "path",
        {"d": "M1,5 L8,1 L15,5 L8,9 Z", "fill": PAPER, "stroke": INK})


def _glyph(parent: etree._Element, x: float, y: float, scale: float = 1.0) -> etree._Element:
    return add(parent, "g", {"class": "marker",
                             "transform": f"translate({fmt(x)} {fmt(y)}) scale({fmt(scale)})"})


def envelope(parent: etree._Element, x: float, y: float, filled: bool,
             scale: float = 1.0) -> None:
    """A message envelope 16 by 11 at (x, y)."""
    g = _glyph(parent, x, y, scale)
    add(g, "rect", {"width": 16.0, "height": 11.0, "fill": INK if filled else PAPER,
                    "stroke": INK, "stroke-width": 1.0})
    add(g, "polyline", {"points": "0,0 8,6 16,0", "fill": "none",
                        "stroke": PAPER if filled else INK, "stroke-width": 1.0})


def task_marker(parent: etree._Element, kind: str, x: float, y: float) -> None:
    """The small icon drawn at a task's top-left corner (x, y)."""
    if kind in ("sendTask", "receiveTask"):
        envelope(parent, x, y + 2, filled=kind == "sendTask")
        return
    g = _glyph(parent, x, y)
    line = {"fill": "none", "stroke": INK, "stroke-width": 1.0}
    if kind == "userTask":
        add(g, "circle", {"cx": 8.0, "cy": 4.5, "r": 3.5, **line})
        add(g, "path", {"d": "M1,16 Q1,9 8,9 Q15,9 15,16 Z", **line})
    elif kind == "serviceTask":
        add(g, "circle", {"cx": 8.0, "cy": 8.0, "r": 5.5, "fill": "none", "stroke": INK,
                          "stroke-width": 3.0, "stroke-dasharray": "2.2 2.12"})
        add(g, "circle", {"cx": 8.0, "cy": 8.0, "r": 4.0, "fill": PAPER, "stroke": INK})
        add(g, "circle", {"cx": 8.0, "cy": 8.0, "r": 1.8, **line})
    elif kind == "scriptTask":
        add(g, "path", {"d": "M4,1 H15 Q11,4.5 13,8.5 Q15,12.5 12,16 H1 Q5,12.5 3,8.5 "
                             "Q1,4.5 4,1 Z", **line})
        add(g, "path", {"d": "M5,5 H11 M5.5,8.5 H11.5 M6,12 H11", **line})
    elif kind == "businessRuleTask":
        add(g, "rect", {"y": 1.0, "width": 17.0, "height": 13.0, **line})
        add(g, "rect", {"y": 1.0, "width": 17.0, "height": 4.0, "fill": INK})
        add(g, "path", {"d": "M0,9.5 H17 M5,5 V14", **line})
    elif kind == "manualTask":
        add(g, "path", {"d": "M1,7 Q1,5 3,5 H12 Q13.5,5 13.5,6.25 Q13.5,7.5 12,7.5 H8 H14 "
                             "Q15.5,7.5 15.5,8.75 Q15.5,10 14,10 H8 H13.5 Q15,10 15,11.25 "
                             "Q15,12.5 13.5,12.5 H8 H12 Q13.3,12.5 13.3,13.7 Q13.3,15 12,15 "
                             "H4 Q1,15 1,12 Z", **line})


def activity_markers(parent: etree._Element, box: Box, kinds: list[str]) -> None:
    """Loop, multi-instance, ad hoc, compensation and collapsed markers, bottom centre."""
    size, gap = 14.0, 3.0
    x = box.cx - (len(kinds) * size + (len(kinds) - 1) * gap) / 2
    y = box.bottom - size - 4
    line = {"fill": "none", "stroke": INK, "stroke-width": 1.5}
    for kind in kinds:
        g = _glyph(parent, x, y)
        if kind == "collapsed":
            add(g, "rect", {"width": size, "height": size, "fill": PAPER, "stroke": INK})
            add(g, "path", {"d": "M3,7 H11 M7,3 V11", **line})
        elif kind == "loop":
            add(g, "path", {"d": "M4,12 A5.5,5.5 0 1 1 10,12", **line})
            add(g, "path", {"d": "M10,8.5 V12 H13.5", **line})
        elif kind == "parallel":
            add(g, "path", {"d": "M3,1 V13 M7,1 V13 M11,1 V13", **line, "stroke-width": 2.0})
        elif kind == "sequential":
            add(g, "path", {"d": "M1,3 H13 M1,7 H13 M1,11 H13", **line, "stroke-width": 2.0})
        elif kind == "adhoc":
            add(g, "path", {"d": "M1,8 Q4,3 7,7 Q10,11 13,6", **line})
        elif kind == "compensation":
            add(g, "path", {"d": "M1,7 L7,3 V11 Z M7,7 L13,3 V11 Z", **line, "stroke-width": 1.0})
        x += size + gap


def event_marker(parent: etree._Element, kind: str, cx: float, cy: float, r: float,
                 filled: bool) -> None:
    """The event-definition glyph inside an event circle of radius r (drawn on a 20x20 grid)."""
    s = r / 18.0
    g = _glyph(parent, cx - 10 * s, cy - 10 * s, s)
    paint = {"fill": INK if filled else PAPER, "stroke": INK, "stroke-width": 1.2,
             "stroke-linejoin": "round"}
    if kind == "message":
        add(g, "rect", {"x": 3.5, "y": 5.5, "width": 13.0, "height": 9.0, **paint})
        add(g, "polyline", {"points": "3.5,5.5 10,10.5 16.5,5.5", "fill": "none",
                            "stroke": PAPER if filled else INK, "stroke-width": 1.2})
    elif kind == "timer":
        add(g, "circle", {"cx": 10.0, "cy": 10.0, "r": 7.5, "fill": PAPER, "stroke": INK,
                          "stroke-width": 1.5})
        ticks = " ".join(f"M{fmt(10 + 6 * math.cos(a))},{fmt(10 + 6 * math.sin(a))} "
                         f"L{fmt(10 + 7.5 * math.cos(a))},{fmt(10 + 7.5 * math.sin(a))}"
                         for a in (i * math.pi / 6 for i in range(12)))
        add(g, "path", {"d": ticks + " M10,10 L10.5,4.5 M10,10 L14,11", "fill": "none",
                        "stroke": INK, "stroke-width": 1.0})
    elif kind == "signal":
        add(g, "polygon", {"points": "10,3 17,15.5 3,15.5", **paint})
    elif kind == "error":
        add(g, "polygon", {"points": "3,16.5 7,5 11.5,11.5 17,3.5 13,15 8.5,8.5", **paint})
    elif kind == "escalation":
        add(g, "polygon", {"points": "10,3 15.5,16.5 10,11 4.5,16.5", **paint})
    elif kind == "conditional":
        add(g, "rect", {"x": 5.0, "y": 3.0, "width": 10.0, "height": 14.0, "fill": PAPER,
                        "stroke": INK})
        add(g, "path", {"d": "M6.5,6 H13.5 M6.5,9 H13.5 M6.5,12 H13.5 M6.5,15 H13.5",
                        "stroke": INK, "stroke-width": 1.0})
    elif kind == "terminate":
        add(g, "circle", {"cx": 10.0, "cy": 10.0, "r": 7.0, "fill": INK})
    elif kind == "compensate":
        add(g, "path", {"d": "M3,10 L9.5,5.5 V14.5 Z M9.5,10 L16,5.5 V14.5 Z", **paint})
    elif kind == "link":
        add(g, "polygon", {"points": "3,7.5 11,7.5 11,4 17,10 11,16 11,12.5 3,12.5", **paint})
    elif kind == "cancel":
        add(g, "path", {"d": "M5,5 L15,15 M15,5 L5,15", "stroke": INK, "stroke-width": 3.0})
    elif kind == "multiple":
        corners = [(10 + 7 * math.sin(a), 10.5 - 7 * math.cos(a))
                   for a in (i * 2 * math.pi / 5 for i in range(5))]
        add(g, "polygon", {"points": points(corners), **paint})
    elif kind == "parallelMultiple":
        add(g, "polygon", {"points": "8,3 12,3 12,8 17,8 17,12 12,12 12,17 8,17 8,12 3,12 "
                                     "3,8 8,8", "fill": PAPER, "stroke": INK})


def gateway_marker(parent: etree._Element, kind: str, box: Box, *, marker_visible: bool,
                   instantiate: bool, parallel_events: bool) -> None:
    """The symbol inside a gateway diamond (drawn on a 50x50 grid centred at the origin)."""
    s = min(box.w, box.h) / 50.0
    if s <= 0:
        return
    g = add(parent, "g", {"class": "marker",
                          "transform": f"translate({fmt(box.cx)} {fmt(box.cy)}) scale({fmt(s)})"})
    heavy = {"fill": "none", "stroke": INK, "stroke-width": 3.5, "stroke-linecap": "round"}
    if kind == "exclusiveGateway" and marker_visible:
        add(g, "path", {"d": "M-7,-7 L7,7 M7,-7 L-7,7", **heavy})
    elif kind == "parallelGateway":
        add(g, "path", {"d": "M0,-10 V10 M-10,0 H10", **heavy})
    elif kind == "inclusiveGateway":
        add(g, "circle", {"r": 9.0, **heavy, "stroke-width": 2.5})
    elif kind == "complexGateway":
        add(g, "path", {"d": "M0,-10 V10 M-10,0 H10 M-7,-7 L7,7 M7,-7 L-7,7", **heavy,
                        "stroke-width": 2.5})
    elif kind == "eventBasedGateway":
        thin = {"fill": "none", "stroke": INK, "stroke-width": 1.0}
        add(g, "circle", {"r": 11.0, **thin})
        if not instantiate:
            add(g, "circle", {"r": 9.0, **thin})
        if parallel_events:
            add(g, "path", {"d": "M0,-6 V6 M-6,0 H6", **thin, "stroke-width": 2.0})
        else:
            corners = [(5.5 * math.sin(a), 0.5 - 5.5 * math.cos(a))
                       for a in (i * 2 * math.pi / 5 for i in range(5))]
            add(g, "polygon", {"points": points(corners), **thin})


def data_object(parent: etree._Element, box: Box, *, kind: str, collection: bool,
                css: str) -> None:
    """A page with a folded corner; inputs and outputs carry an arrow."""
    fold = min(10.0, box.w / 3, box.h / 3)
    x, y, r, b = box.x, box.y, box.right, box.bottom
    add(parent, "path", {"class": css, "d": f"M{fmt(x)},{fmt(y)} H{fmt(r - fold)} "
                         f"L{fmt(r)},{fmt(y + fold)} V{fmt(b)} H{fmt(x)} Z",
                         "fill": PAPER, "stroke": INK, "stroke-width": 1.5})
    add(parent, "path", {"d": f"M{fmt(r - fold)},{fmt(y)} V{fmt(y + fold)} H{fmt(r)}",
                         "fill": "none", "stroke": INK})
    if kind in ("dataInput", "dataOutput"):
        g = _glyph(parent, x + 3, y + 3)
        add(g, "polygon", {"points": "0,3 6,3 6,0 11,5 6,10 6,7 0,7",
                           "fill": INK if kind == "dataOutput" else PAPER, "stroke": INK})
    if collection:
        activity_markers(parent, Box(box.x, box.y, box.w, box.h - 1), ["parallel"])


def data_store(parent: etree._Element, box: Box, css: str) -> None:
    """A cylinder."""
    e = min(box.h * 0.12, 10.0)
    rx = box.w / 2
    x, y, r, b = box.x, box.y, box.right, box.bottom
    add(parent, "path", {"class": css, "d": f"M{fmt(x)},{fmt(y + e)} V{fmt(b - e)} "
                         f"A{fmt(rx)},{fmt(e)} 0 0 0 {fmt(r)},{fmt(b - e)} V{fmt(y + e)} "
                         f"A{fmt(rx)},{fmt(e)} 0 0 0 {fmt(x)},{fmt(y + e)} Z",
                         "fill": PAPER, "stroke": INK, "stroke-width": 1.5})
    add(parent, "path", {"d": f"M{fmt(x)},{fmt(y + e)} A{fmt(rx)},{fmt(e)} 0 0 0 "
                         f"{fmt(r)},{fmt(y + e)} M{fmt(x)},{fmt(y + 2 * e)} "
                         f"A{fmt(rx)},{fmt(e)} 0 0 0 {fmt(r)},{fmt(y + 2 * e)} "
                         f"M{fmt(x)},{fmt(y + 3 * e)} A{fmt(rx)},{fmt(e)} 0 0 0 "
                         f"{fmt(r)},{fmt(y + 3 * e)}", "fill": "none", "stroke": INK})


def state_glyph(parent: etree._Element, state: str, cx: float, cy: float) -> None:
    """A round mark centred on (cx, cy): a tick (done), a play sign (in progress) or clock
    hands (waiting), white on the state's colour, so state never rests on colour alone."""
    g = add(parent, "g", {"class": f"state-mark {state}"})
    add(g, "circle", {"cx": cx, "cy": cy, "r": 9.0})
    line = {"fill": "none", "stroke": PAPER, "stroke-width": 2.2, "stroke-linecap": "round",
            "stroke-linejoin": "round"}
    if state == "completed":
        add(g, "path", {"d": f"M{fmt(cx - 4.5)},{fmt(cy)} L{fmt(cx - 1.5)},{fmt(cy + 3.5)} "
                             f"L{fmt(cx + 4.5)},{fmt(cy - 3.5)}", **line})
    elif state == "active":
        add(g, "path", {"d": f"M{fmt(cx - 3)},{fmt(cy - 4.5)} L{fmt(cx + 4.5)},{fmt(cy)} "
                             f"L{fmt(cx - 3)},{fmt(cy + 4.5)} Z", "fill": PAPER})
    else:
        add(g, "path", {"d": f"M{fmt(cx)},{fmt(cy - 5)} V{fmt(cy)} H{fmt(cx + 4)}", **line})


def diamond(box: Box) -> str:
    """The points of a diamond inscribed in box."""
    return points([(box.cx, box.y), (box.right, box.cy), (box.cx, box.bottom), (box.x, box.cy)])
