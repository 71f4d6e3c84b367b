"""Hostile XML never reaches SpiffWorkflow: entities, DTDs, size."""

from __future__ import annotations

import pytest

from app.engine.errors import InvalidDefinition
from app.engine.xml import parse_document

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</definitions>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol3;</definitions>"""


@pytest.mark.parametrize("content", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_doctype_is_rejected(content: bytes) -> None:
    with pytest.raises(InvalidDefinition) as info:
        parse_document(content, "evil.bpmn")
    assert "DOCTYPE" in info.value.problems[0].reason
    assert info.value.problems[0].file == "evil.bpmn"


def test_oversize_is_rejected_before_parsing() -> None:
    with pytest.raises(InvalidDefinition) as info:
        parse_document(b"<a>" + b" " * 200 + b"</a>", "big.bpmn", max_bytes=100)
    assert "limit" in info.value.problems[0].reason


def test_empty_is_rejected() -> None:
    with pytest.raises(InvalidDefinition):
        parse_document(b"  ", "empty.bpmn")
