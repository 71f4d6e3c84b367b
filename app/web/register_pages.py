"""The Board's learning registers: publications and learning events."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.auth import policy
from app.rendering.templating import day
from app.services import agencies, learning
from app.services.context import ServiceContext
from app.services.errors import Invalid
from app.web.form_parsing import typed_date
from app.web.session import PageUser, check_csrf, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]



PUBLICATION_KIND_WORDS = {"report": "Review report", "summary": "Summary",
                          "seven_minute_briefing": "Seven-minute briefing",
                          "board_response": "The Board's response",
                          "management_letter": "Management letter"}
EVENT_KIND_WORDS = {"learning_event": "Learning event", "forum": "Multi-agency forum",
                    "briefing": "Briefing", "training": "Training"}


def _may(user: PageUser, action: str) -> bool:
    return user.principal.has(*policy.ACTIONS[action])


def _text(form: Any, name: str) -> str:
    return str(form.get(name) or "").strip()


def _date(form: Any, name: str) -> tuple[dict[str, str], dt.date | None, str | None]:
    """The three fields of a date input: what was typed, the date, or what to do."""
    parts = {part: _text(form, f"{name}-{part}") for part in ("day", "month", "year")}
    typed = typed_date(parts["day"], parts["month"], parts["year"])
    if typed is None:
        return parts, None, "missing"
    try:
        return parts, dt.date.fromisoformat(typed), None
    except ValueError:
        return parts, None, "invalid"


def _items(words: dict[str, str]) -> list[dict[str, str]]:
    return [{"value": value, "text": text} for value, text in words.items()]


DATE_FIELDS = ("published_on", "held_on")


def _summary(errors: dict[str, str], order: list[str]) -> list[dict[str, str]]:
    return [{"href": f"#{field}-day" if field in DATE_FIELDS else f"#{field}",
             "text": errors[field]} for field in order if field in errors]


@router.get("/registers", response_class=HTMLResponse)
def registers_page(request: Request, user: UserDep, notice: str | None = None) -> Response:
    ctx = _ctx(request)
    publications, publication_total = learning.list_publications(
        ctx, user.principal, None, None, None, 500, 0)
    events, event_total = learning.list_events(ctx, user.principal, None, None, None, 500, 0)
    return TEMPLATES.TemplateResponse(request, "register_index.html", {
        "user": user, "notice": notice, "publications": publications,
        "publication_total": publication_total, "events": events, "event_total": event_total,
        "publication_kinds": PUBLICATION_KIND_WORDS, "event_kinds": EVENT_KIND_WORDS,
        "may_publish": _may(user, "record_publication"),
        "may_record": _may(user, "record_learning")})


# ---- a publication -------------------------------------------------------------------------

PUBLICATION_ORDER = ["case_reference", "kind", "title", "published_on", "location",
                     "readership", "months_available"]


def _publication_page(request: Request, user: PageUser, values: dict[str, Any],
                      errors: dict[str, str], status: int = 200) -> Response:
    return TEMPLATES.TemplateResponse(request, "register_publication.html", {
        "user": user, "values": values, "errors": errors,
        "summary": _summary(errors, PUBLICATION_ORDER),
        "kind_items": _items(PUBLICATION_KIND_WORDS)}, status_code=status)


@router.get("/registers/publications/new", response_class=HTMLResponse)
def new_publication(request: Request, user: UserDep) -> Response:
    policy.require(user.principal, "record_publication")
    return _publication_page(request, user, {"months_available": "12"}, {})


@router.post("/registers/publications/new", response_class=HTMLResponse)
async def add_publication(request: Request, user: UserDep) -> Response:
    form = await request.form()
    check_csrf(user.csrf_token, form.get("csrf_token"))
    policy.require(user.principal, "record_publication")
    values: dict[str, Any] = {name: _text(form, name) for name in PUBLICATION_ORDER}
    errors: dict[str, str] = {}
    if not values["case_reference"]:
        errors["case_reference"] = "Enter the case reference, for example LIR-2026-0001"
    if values["kind"] not in PUBLICATION_KIND_WORDS:
        errors["kind"] = "Select what was published"
    if not values["title"]:
        errors["title"] = "Enter the title of what was published"
    elif len(values["title"]) > 500:
        errors["title"] = "The title must be 500 characters or fewer"
    parts, published_on, problem = _date(form, "published_on")
    values["published_on"] = parts
    if problem == "missing":
        errors["published_on"] = "Enter the date it was published"
    elif problem:
        errors["published_on"] = "The date it was published must be a real date, " \
                                 "for example 27 3 2026"
    if not values["location"]:
        errors["location"] = "Enter where it was published, for example the Board's website"
    if len(values["readership"]) > 100:
        errors["readership"] = "The readership must be 100 characters or fewer"
    months = values["months_available"] or "12"
    if not months.isdigit() or not 12 <= int(months) <= 600:
        errors["months_available"] = "Enter a number of months from 12 to 600"
    if errors or published_on is None:
        return await run_in_threadpool(_publication_page, request, user, values, errors, 422)
    new = learning.NewPublication(values["case_reference"].upper(), values["kind"],
                                  values["title"], published_on, values["location"],
                                  values["readership"] or None, int(months))
    try:
        row = await run_in_threadpool(learning.add_publication, _ctx(request), user.principal,
                                      new)
    except Invalid as invalid:
        field = str(invalid.detail.get("field") or "case_reference")
        if field == "available_until":
            field = "months_available"
        message = (f"No case has the reference {values['case_reference']}: check it"
                   if field == "case_reference" else invalid.message)
        return await run_in_threadpool(_publication_page, request, user, values,
                                       {field: message}, 422)
    notice = f"“{row.title}” was added to the publication register."
    return RedirectResponse(f"/ui/registers?{urlencode({'notice': notice})}", status_code=303)


# ---- a learning event ----------------------------------------------------------------------

EVENT_ORDER = ["held_on", "kind", "purpose", "attendance", "outputs", "case_reference"]


def _event_page(request: Request, user: PageUser, values: dict[str, Any],
                errors: dict[str, str], status: int = 200) -> Response:
    ctx = _ctx(request)
    found = agencies.register(ctx)
    summary = _summary(errors, EVENT_ORDER)
    for item in summary:
        if item["href"] == "#attendance" and found.agencies:
            item["href"] = f"#attendance-{found.agencies[0].id}"
    return TEMPLATES.TemplateResponse(request, "register_event.html", {
        "user": user, "values": values, "errors": errors, "summary": summary,
        "kind_items": _items(EVENT_KIND_WORDS), "agencies": found.agencies},
        status_code=status)


@router.get("/registers/learning-events/new", response_class=HTMLResponse)
def new_event(request: Request, user: UserDep) -> Response:
    policy.require(user.principal, "record_learning")
    return _event_page(request, user, {"attendance": {}}, {})


@router.post("/registers/learning-events/new", response_class=HTMLResponse)
async def add_event(request: Request, user: UserDep) -> Response:
    form = await request.form()
    check_csrf(user.csrf_token, form.get("csrf_token"))
    policy.require(user.principal, "record_learning")
    ctx = _ctx(request)
    found = await run_in_threadpool(agencies.register, ctx)
    values: dict[str, Any] = {name: _text(form, name)
                              for name in ("kind", "purpose", "outputs", "case_reference")}
    values["attendance"] = {a.id: _text(form, f"attendance-{a.id}") for a in found.agencies}
    errors: dict[str, str] = {}
    parts, held_on, problem = _date(form, "held_on")
    values["held_on"] = parts
    if problem == "missing":
        errors["held_on"] = "Enter the date the event was held"
    elif problem:
        errors["held_on"] = "The date the event was held must be a real date, " \
                            "for example 27 3 2026"
    if values["kind"] not in EVENT_KIND_WORDS:
        errors["kind"] = "Select the kind of event"
    if not values["purpose"]:
        errors["purpose"] = "Enter the purpose of the event"
    attendance: dict[str, int] = {}
    for agency_id, typed in values["attendance"].items():
        if not typed:
            continue
        if not typed.isdigit():
            errors["attendance"] = "Enter the number of people who attended from each agency " \
                                   "as a whole number, such as 4"
            break
        if int(typed):
            attendance[agency_id] = int(typed)
    if "attendance" not in errors and not attendance:
        errors["attendance"] = "Enter how many people attended from at least one agency"
    if not values["outputs"]:
        errors["outputs"] = "Enter what the event produced or what people learnt"
    if errors or held_on is None:
        return await run_in_threadpool(_event_page, request, user, values, errors, 422)
    reference = values["case_reference"].upper() or None
    try:
        await run_in_threadpool(learning.add_event, ctx, user.principal, held_on,
                                values["kind"], values["purpose"], attendance,
                                values["outputs"], reference)
    except Invalid as invalid:
        field = str(invalid.detail.get("field") or "case_reference")
        message = (f"No case has the reference {values['case_reference']}: check it, or "
                   f"leave it blank" if field == "case_reference"
                   else invalid.message)
        return await run_in_threadpool(_event_page, request, user, values, {field: message},
                                       422)
    notice = (f"The {EVENT_KIND_WORDS[values['kind']].lower()} held on {day(held_on)} was "
              f"added to the learning-event register.")
    return RedirectResponse(f"/ui/registers?{urlencode({'notice': notice})}", status_code=303)
