"""A 7-minute briefing as a printable HTML page and as an A4 PDF in the standard shape."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from app.rendering.templating import render
from app.services.briefings import PUBLISHED, BriefingView


def filename(view: BriefingView, extension: str) -> str:
    return f"{view.case.reference}-7-minute-briefing.{extension}"


def html(view: BriefingView) -> str:
    """The briefing as a page of its own (it prints as the briefing)."""
    return render("briefing.html", title=view.title, case=view.case, briefing=view.briefing,
                  publication=view.publication)


def pdf(view: BriefingView) -> bytes:
    """The briefing as an A4 PDF in the standard shape."""
    # imported here: only this function needs reportlab, and it is slow to import
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer

    briefing = view.briefing
    styles = getSampleStyleSheet()
    body, heading = styles["BodyText"], styles["Heading2"]

    def paragraphs(text: str) -> list[Any]:
        return [Paragraph(escape(part).replace("\n", "<br/>"), body)
                for part in text.split("\n\n") if part.strip()]

    def numbered(items: list[str], kind: str) -> Any:
        entries: list[Any] = [ListItem(Paragraph(escape(item), body)) for item in items]
        return ListFlowable(entries, bulletType=kind, leftIndent=6 * mm)

    status = "Published" if briefing.status == PUBLISHED else "Draft: not for circulation"
    story: list[Any] = [
        Paragraph(escape(view.title), styles["Title"]),
        Paragraph(escape(f"{status}. Last updated {briefing.updated_at:%-d %b %Y}."),
                  styles["Italic"]),
        Spacer(1, 4 * mm),
        Paragraph("Background", heading), *paragraphs(briefing.background),
        Paragraph("What happened", heading), *paragraphs(briefing.what_happened),
        Paragraph("Learning", heading), numbered(briefing.learning, "bullet"),
        Paragraph("Reflective questions", heading), numbered(briefing.questions, "1"),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=view.title,
                                 subject="7-minute briefing", author="Safeguarding Children Board",
                                 leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                                 bottomMargin=18 * mm)
    document.build(story)
    return buffer.getvalue()
