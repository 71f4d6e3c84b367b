"""Hardened XML parsing: no entities, no DTDs, no network, bounded size.

Every BPMN or DMN document passes through here before SpiffWorkflow sees it.
"""

from __future__ import annotations

from typing import cast

from lxml import etree

from app.engine.errors import InvalidDefinition, Problem

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def source_line(node: etree._Element) -> int | None:
    """The node's line in its document, None when unknown (lxml-stubs types `sourceline` as
    `...`; lxml documents it as an int or None)."""
    return cast("int | None", node.sourceline) or None


def parse_document(content: bytes, filename: str,
                   max_bytes: int = MAX_DOCUMENT_BYTES) -> etree._Element:
    """Parse one document's bytes, honouring its XML declaration's encoding."""
    if len(content) > max_bytes:
        raise InvalidDefinition([Problem(filename, f"file is {len(content)} bytes; the limit is "
                                                   f"{max_bytes} bytes")])
    if not content.strip():
        raise InvalidDefinition([Problem(filename, "file is empty")])
    try:
        root = etree.fromstring(content, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise InvalidDefinition([Problem(filename, f"not well-formed XML: {exc.msg}",
                                         line=line)]) from None
    tree = root.getroottree()
    doctype = tree.docinfo.doctype  # type: ignore[union-attr]  # lxml-stubs lack it
    if doctype or tree.docinfo.internalDTD is not None:
        raise InvalidDefinition([Problem(filename, "DOCTYPE declarations are not allowed")])
    return root
