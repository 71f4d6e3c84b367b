"""The diagram drawn for people: state by shape and word as well as colour, lanes named in
words, and no label drawn over another (issue 19, point 7)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from lxml import etree

from app.engine.diagram import Box, read_diagram
from app.engine.xml import parse_document
from app.rendering.diagram import draw, in_words, label_boxes

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
FILES = sorted(PROCESSES.glob("*.bpmn"))
SVG = "{http://www.w3.org/2000/svg}"
ROLE_IDS = ("board_manager", "panel_member", "agency_lead")


def _root(path: Path) -> etree._Element:
    return parse_document(path.read_bytes(), path.name)


def _intersect(a: Box, b: Box) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def _tasks(root: etree._Element) -> list[str]:
    return [e.get("id") or "" for e in root.iter()
            if isinstance(e.tag, str) and etree.QName(e).localname in ("userTask", "callActivity")]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_no_label_overlaps_another(path: Path) -> None:
    root = _root(path)
    ids = _tasks(root)
    # plain, and with every user task and call activity in a state (the state words are
    # labels too)
    for diagram in (read_diagram(root),
                    read_diagram(root, completed=set(ids[::3]), active=set(ids[1::3]),
                                 waiting=set(ids[2::3]))):
        labels = label_boxes(diagram)
        assert labels
        clashes = [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(labels, 2)
                   if _intersect(box_a, box_b)]
        assert clashes == []


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_lanes_are_named_in_words(path: Path) -> None:
    svg = draw(read_diagram(_root(path)))
    texts = " ".join(etree.fromstring(svg.encode()).itertext())
    for role in ROLE_IDS:
        assert role not in texts
    lanes = [g for g in etree.fromstring(svg.encode()).iter(f"{SVG}g")
             if "lane" in (g.get("class") or "").split()]
    for lane in lanes:
        name = " ".join("".join(t.itertext()) for t in lane.iter(f"{SVG}text"))
        assert name and "_" not in name and name[0].isupper()
        assert "_" not in (lane.find(f"{SVG}title").text or "")


def test_in_words() -> None:
    assert in_words("board_manager") == "Board manager"
    assert in_words("chair") == "Chair"
    assert in_words("Police and health") == "Police and health"


def test_state_is_shown_by_shape_and_word_not_only_colour() -> None:
    root = _root(PROCESSES / "concise_review.bpmn")
    ids = _tasks(root)
    done, doing, waiting = ids[0], ids[1], ids[2]
    svg = etree.fromstring(draw(read_diagram(root, completed={done}, active={doing},
                                             waiting={waiting})).encode())

    def group(element_id: str) -> etree._Element:
        [g] = [g for g in svg.iter(f"{SVG}g") if g.get("data-element-id") == element_id
               and "shape" in (g.get("class") or "")]
        return g

    for element_id, state, word in ((done, "completed", "Done"), (doing, "active", "In progress"),
                                    (waiting, "waiting", "Waiting")):
        g = group(element_id)
        assert g.get("data-state") == state
        marks = [m for m in g.iter(f"{SVG}g") if "state-mark" in (m.get("class") or "")]
        assert len(marks) == 1 and state in (marks[0].get("class") or "")
        assert marks[0].find(f"{SVG}path") is not None  # a tick, a play sign or clock hands
        words = [t for t in g.iter(f"{SVG}text") if "state-word" in (t.get("class") or "")]
        assert ["".join(w.itertext()) for w in words] == [word]
        assert f"({word.lower()})" in (g.find(f"{SVG}title").text or "")
    style = svg.find(f"{SVG}style").text or ""
    # in progress: a thicker dashed border; waiting: a dotted one; not colour alone
    assert re.search(r"\.active \.outline \{[^}]*stroke-dasharray: 9 4", style)
    assert re.search(r"\.waiting \.outline \{[^}]*stroke-dasharray: 2 3", style)
    # an element with no state has no mark
    other = group(ids[3])
    assert other.get("data-state") is None
    assert not [m for m in other.iter(f"{SVG}g") if "state-mark" in (m.get("class") or "")]
