"""7-minute briefings on a review: generate from the findings, edit, download, publish."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api import serving
from app.api.deps import CHECKED_INPUT, AuditDep, ContextDep, PrincipalDep
from app.api.learning import PublicationPublic
from app.api.params import IsoDate
from app.api.schemas import ERROR_RESPONSES, ReferencePath
from app.rendering import briefings as documents
from app.services import briefings

router = APIRouter(tags=["briefings"], dependencies=[CHECKED_INPUT])

Paragraphs = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=10000, pattern=r"\S")]
Item = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000,
                                        pattern=r"\S")]


class BriefingPublic(BaseModel):
    reference: str
    child_pseudonym: str
    title: str
    status: str = Field(description="draft, or published (it can no longer be edited)")
    background: str
    what_happened: str
    learning: list[str]
    questions: list[str] = Field(description="Three reflective questions")
    updated_by: str
    updated_at: dt.datetime
    publication: PublicationPublic | None = None


class BriefingEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    background: Paragraphs
    what_happened: Paragraphs
    learning: list[Item] = Field(min_length=1, max_length=50)
    questions: list[Item] = Field(min_length=briefings.QUESTION_COUNT,
                                  max_length=briefings.QUESTION_COUNT,
                                  description="Exactly three reflective questions")


class BriefingPublish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                               max_length=500)] = Field(
        examples=["Board website"])
    published_on: IsoDate


def _public(view: briefings.BriefingView) -> BriefingPublic:
    briefing = view.briefing
    publication = PublicationPublic.model_validate(view.publication) \
        if view.publication is not None else None
    return BriefingPublic(
        reference=view.case.reference, child_pseudonym=view.case.child_pseudonym,
        title=view.title, status=briefing.status, background=briefing.background,
        what_happened=briefing.what_happened, learning=list(briefing.learning),
        questions=list(briefing.questions), updated_by=briefing.updated_by,
        updated_at=briefing.updated_at, publication=publication)


def _disposition(kind: str, name: str) -> dict[str, str]:
    return {"Content-Disposition": f'{kind}; filename="{name}"', "Cache-Control": "no-store"}


@router.post("/api/v1/cases/{reference}/briefing", status_code=status.HTTP_201_CREATED,
             response_model=BriefingPublic, responses=ERROR_RESPONSES)
async def generate_briefing(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                            reference: str = ReferencePath,
                            replace: bool = Query(False,
                                                  description="regenerate an existing draft"),
                            ) -> BriefingPublic:
    """Generate a draft from the review's findings (409 before the review has findings)."""
    return await serving.answer(audit, lambda: _public(
        briefings.generate(ctx, principal, reference, replace)))


@router.get("/api/v1/cases/{reference}/briefing", response_model=BriefingPublic,
            responses=ERROR_RESPONSES)
async def get_briefing(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                       reference: str = ReferencePath) -> BriefingPublic:
    return _public(await serving.answer(audit, lambda: briefings.get(ctx, principal, reference)))


@router.put("/api/v1/cases/{reference}/briefing", response_model=BriefingPublic,
            responses=ERROR_RESPONSES)
async def edit_briefing(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                        body: BriefingEdit, reference: str = ReferencePath) -> BriefingPublic:
    """Replace the text of a draft; a published briefing cannot be edited (409)."""
    content = briefings.Content(background=body.background, what_happened=body.what_happened,
                                learning=body.learning, questions=body.questions)
    return await serving.answer(audit, lambda: _public(
        briefings.edit(ctx, principal, reference, content)))


@router.get("/api/v1/cases/{reference}/briefing.html", response_class=HTMLResponse,
            responses=ERROR_RESPONSES)
async def briefing_html(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                        reference: str = ReferencePath) -> HTMLResponse:
    """The briefing as a printable page."""

    def page() -> HTMLResponse:
        view = briefings.get(ctx, principal, reference)
        return HTMLResponse(documents.html(view),
                            headers=_disposition("inline", documents.filename(view, "html")))

    return await serving.answer(audit, page)


@router.get("/api/v1/cases/{reference}/briefing.pdf", response_class=Response,
            responses={**ERROR_RESPONSES, 200: {
                "content": {"application/pdf": {"schema": {"type": "string",
                                                           "format": "binary"}}},
                "description": "The briefing as an A4 PDF"}})
async def briefing_pdf(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                       reference: str = ReferencePath) -> Response:
    def document() -> Response:
        view = briefings.get(ctx, principal, reference)
        return Response(documents.pdf(view), media_type="application/pdf",
                        headers=_disposition("attachment", documents.filename(view, "pdf")))

    return await serving.answer(audit, document)


@router.post("/api/v1/cases/{reference}/briefing/publish", response_model=BriefingPublic,
             responses=ERROR_RESPONSES)
async def publish_briefing(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                           body: BriefingPublish, reference: str = ReferencePath,
                           ) -> BriefingPublic:
    """Check the text for the family's names (422 listing them), then publish it for 12 months.

    Publishing records a publication for practitioners, available until a year after it.
    """
    return await serving.answer(audit, lambda: _public(briefings.publish(
        ctx, principal, reference, body.location, body.published_on)))
