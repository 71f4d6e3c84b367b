"""The work done from a case page: escalating its grade, raising an urgent concern,
reassigning a task, action progress and sign-off, and the 7-minute briefing.

Each form re-renders with what was typed and a GOV.UK error summary when it is refused, and
redirects (303) to a page showing a notice when it succeeds."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from app.auth import policy
from app.db.models import HumanTask
from app.rendering import briefings as documents
from app.services import accounts, actions, agencies, briefings, cases, storable, tasks
from app.services.context import ServiceContext
from app.services.errors import Conflict, Invalid, NotFound
from app.services.vocabulary import GRADES, grade_rank
from app.web.case_pages import ACTION_COLOURS, may
from app.web.session import PageUser, check_csrf, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


class Errors:
    """A form's errors in the page's order: one message per field, and the summary's items."""

    def __init__(self) -> None:
        self.by_field: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, message)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def summary(self, order: list[str]) -> list[dict[str, str]]:
        ranked = sorted(self.by_field, key=lambda f: order.index(f) if f in order else len(order))
        return [{"href": f"#{field}", "text": self.by_field[field]} for field in ranked]


def sentence(message: str) -> str:
    """A service's message as a sentence: `the case is ...` -> `The case is ....`"""
    text = message.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def _read_form(request: Request, user: PageUser, errors: Errors,
                     first_field: str) -> FormData:
    form = await request.form()
    check_csrf(user.csrf_token, form.get("csrf_token"))
    unstorable = storable.form_problem(form.multi_items())
    if unstorable is not None:
        field = unstorable[0] if unstorable[0] in form else first_field
        errors.add(field, f"This answer {unstorable[1]}: remove it")
    return form


def _render(request: Request, template: str, context: dict[str, Any], errors: Errors,
            order: list[str]) -> Response:
    return TEMPLATES.TemplateResponse(request, template, {
        **context, "errors": errors.summary(order), "error": errors.by_field},
        status_code=422 if errors else 200)


def _case_url(reference: str, notice: str, **extra: str) -> str:
    query = "&".join(f"{key}={quote(value)}" for key, value in {"notice": notice,
                                                                 **extra}.items())
    return f"/ui/cases/{quote(reference)}?{query}"


# ---- escalate the grade ---------------------------------------------------------------------

ESCALATE_ORDER = ["grade", "reason"]


def _escalate_page(request: Request, user: PageUser, reference: str, values: dict[str, str],
                   errors: Errors) -> Response:
    policy.require(user.principal, "escalate")
    case = cases.get(_ctx(request), user.principal, reference).case
    higher = [g for g in GRADES if case.grade is None or grade_rank(g) < grade_rank(case.grade)]
    return _render(request, "case_escalate.html", {
        "user": user, "case": case, "values": values,
        "grades": [{"value": g, "text": g.replace("_", " ").capitalize()} for g in higher]},
        errors, ESCALATE_ORDER)


@router.get("/cases/{reference}/escalate", response_class=HTMLResponse)
def escalate_page(request: Request, user: UserDep, reference: str) -> Response:
    return _escalate_page(request, user, reference, {}, Errors())


@router.post("/cases/{reference}/escalate", response_class=HTMLResponse)
async def escalate(request: Request, user: UserDep, reference: str) -> Response:
    errors = Errors()
    form = await _read_form(request, user, errors, "reason")
    values = {"grade": _text(form, "grade"), "reason": _text(form, "reason")}
    if values["grade"] not in GRADES:
        errors.add("grade", "Choose the grade to escalate the case to")
    if not values["reason"]:
        errors.add("reason", "Enter why the grade should be escalated")
    if not errors:
        try:
            await run_in_threadpool(cases.escalate, _ctx(request), user.principal, reference,
                                    values["grade"], values["reason"])
        except Invalid as invalid:
            current = invalid.detail.get("current_grade")
            errors.add("grade", f"Choose a grade higher than {str(current).replace('_', ' ')}"
                       if current else sentence(invalid.message))
        except Conflict as conflict:
            errors.add("grade", sentence(conflict.message))
        else:
            return RedirectResponse(_case_url(reference, "escalated", grade=values["grade"]),
                                    status_code=303)
    return await run_in_threadpool(_escalate_page, request, user, reference, values, errors)


# ---- raise an urgent concern ----------------------------------------------------------------

def _concern_page(request: Request, user: PageUser, reference: str, values: dict[str, str],
                  errors: Errors) -> Response:
    policy.require(user.principal, "raise_concern")
    case = cases.get(_ctx(request), user.principal, reference).case
    return _render(request, "case_concern.html", {"user": user, "case": case,
                                                  "values": values}, errors, ["description"])


@router.get("/cases/{reference}/concern", response_class=HTMLResponse)
def concern_page(request: Request, user: UserDep, reference: str) -> Response:
    return _concern_page(request, user, reference, {}, Errors())


@router.post("/cases/{reference}/concern", response_class=HTMLResponse)
async def raise_concern(request: Request, user: UserDep, reference: str) -> Response:
    errors = Errors()
    form = await _read_form(request, user, errors, "description")
    values = {"description": _text(form, "description")}
    if not values["description"]:
        errors.add("description", "Describe the urgent concern")
    if not errors:
        try:
            await run_in_threadpool(cases.raise_concern, _ctx(request), user.principal,
                                    reference, values["description"])
        except (Invalid, Conflict) as refused:
            errors.add("description", sentence(refused.message))
        else:
            return RedirectResponse(_case_url(reference, "concern"), status_code=303)
    return await run_in_threadpool(_concern_page, request, user, reference, values, errors)


# ---- reassign a task ------------------------------------------------------------------------

def _task_of_case(request: Request, user: PageUser, reference: str,
                  task_id: str) -> tasks.TaskDetail:
    detail = tasks.get(_ctx(request), user.principal, task_id)
    if detail.task.business_key != reference:
        message, found = policy.missing_task(task_id)
        raise NotFound(message, **found)
    return detail


def _assign_page(request: Request, user: PageUser, reference: str, task_id: str,
                 values: dict[str, str], errors: Errors) -> Response:
    policy.require(user.principal, "assign")
    case = cases.get(_ctx(request), user.principal, reference).case
    task = _task_of_case(request, user, reference, task_id).task
    people = accounts.holders_of(_ctx(request), user.principal, task.lane or "",
                                 task.agency if task.lane == policy.AGENCY_LANE else None)
    return _render(request, "case_assign.html", {"user": user, "case": case, "task": task,
                                                 "values": values, "people": people},
                   errors, ["user"])


@router.get("/cases/{reference}/tasks/{task_id}/assign", response_class=HTMLResponse)
def assign_page(request: Request, user: UserDep, reference: str, task_id: str) -> Response:
    return _assign_page(request, user, reference, task_id, {}, Errors())


@router.post("/cases/{reference}/tasks/{task_id}/assign", response_class=HTMLResponse)
async def assign(request: Request, user: UserDep, reference: str, task_id: str) -> Response:
    errors = Errors()
    form = await _read_form(request, user, errors, "user")
    values = {"user": _text(form, "user")}
    if not values["user"]:
        errors.add("user", "Select the person to give the task to")
    if not errors:
        ctx = _ctx(request)
        detail = await run_in_threadpool(_task_of_case, request, user, reference, task_id)
        try:
            await run_in_threadpool(tasks.assign, ctx, user.principal, task_id, values["user"])
        except Invalid as invalid:
            errors.add("user", _assign_refusal(ctx, invalid, values["user"], detail.task))
        except Conflict as conflict:
            errors.add("user", sentence(conflict.message))
        else:
            return RedirectResponse(_case_url(reference, "assigned", task=task_id),
                                    status_code=303)
    return await run_in_threadpool(_assign_page, request, user, reference, task_id, values,
                                   errors)


def _assign_refusal(ctx: ServiceContext, invalid: Invalid, name: str, task: HumanTask) -> str:
    if invalid.message.startswith("no active user"):
        return f"Enter the user name of an active person: nobody active is called {name}"
    role = (task.lane or "").replace("_", " ")
    agency = f" for {agencies.name_of(ctx, task.agency)}" if task.agency else ""
    return f"Choose someone who holds the {role} role{agency}: {name} does not"


# ---- actions: progress and sign-off ---------------------------------------------------------

ACTION_ORDER = ["status", "evidence", "cancel_reason", "progress"]


def _action_of_case(request: Request, user: PageUser, reference: str,
                    action_id: int) -> actions.ActionView:
    found = actions.get(_ctx(request), user.principal, action_id)
    if found.action.case_reference != reference:
        message, detail = policy.missing_action(action_id)
        raise NotFound(message, **detail)
    return found


def _action_page(request: Request, user: PageUser, reference: str, action_id: int,
                 values: dict[str, str] | None, errors: Errors,
                 notice: str | None = None) -> Response:
    principal = user.principal
    case = cases.get(_ctx(request), principal, reference).case
    found = _action_of_case(request, user, reference, action_id)
    action = found.action
    if values is None:
        values = {"status": action.status, "progress": action.progress or "",
                  "evidence": action.evidence or "", "cancel_reason": action.cancel_reason or ""}
    may_update = (may(principal, "update_action") and principal.agency == action.owner_agency
                  and action.signed_off_at is None)
    may_sign_off = (may(principal, "sign_off_action") and action.signed_off_at is None
                    and action.status in actions.CLOSED)
    return _render(request, "case_action.html", {
        "user": user, "case": case, "item": found, "action": action, "values": values,
        "notice": notice, "may_update": may_update, "may_sign_off": may_sign_off,
        "sign_off_role": may(principal, "sign_off_action"), "statuses": actions.STATUSES,
        "action_colours": ACTION_COLOURS}, errors, ACTION_ORDER)


ACTION_NOTICES = {"updated": "The action's progress was recorded.",
                  "signed_off": "The action was signed off."}


@router.get("/cases/{reference}/actions/{action_id}", response_class=HTMLResponse)
def action_page(request: Request, user: UserDep, reference: str, action_id: int,
                notice: str | None = None) -> Response:
    return _action_page(request, user, reference, action_id, None, Errors(),
                        ACTION_NOTICES.get(notice or ""))


@router.post("/cases/{reference}/actions/{action_id}", response_class=HTMLResponse)
async def update_action(request: Request, user: UserDep, reference: str,
                        action_id: int) -> Response:
    errors = Errors()
    form = await _read_form(request, user, errors, "progress")
    values = {name: _text(form, name) for name in ("status", "progress", "evidence",
                                                   "cancel_reason")}
    if values["status"] not in actions.STATUSES:
        errors.add("status", "Choose the action's status")
    if values["status"] == "completed" and not values["evidence"]:
        errors.add("evidence", "Enter the evidence that the action is complete")
    if values["status"] == "cancelled" and not values["cancel_reason"]:
        errors.add("cancel_reason", "Enter why the action is cancelled")
    ctx = _ctx(request)
    if not errors:
        try:
            await run_in_threadpool(_action_of_case, request, user, reference, action_id)
            await run_in_threadpool(
                actions.update, ctx, user.principal, action_id, values["status"],
                values["progress"] or None, values["evidence"] or None,
                values["cancel_reason"] or None)
        except Invalid as invalid:
            field = invalid.detail.get("field")
            if field in ("evidence", "cancel_reason"):
                errors.add(str(field), sentence(invalid.message))
            else:
                errors.add("status", "Change the status, or enter the progress or evidence")
        except Conflict as conflict:
            errors.add("status", sentence(conflict.message))
        else:
            return RedirectResponse(f"/ui/cases/{quote(reference)}/actions/{action_id}"
                                    "?notice=updated", status_code=303)
    return await run_in_threadpool(_action_page, request, user, reference, action_id, values,
                                   errors)


@router.post("/cases/{reference}/actions/{action_id}/sign-off", response_class=HTMLResponse)
async def sign_off_action(request: Request, user: UserDep, reference: str,
                          action_id: int) -> Response:
    errors = Errors()
    await _read_form(request, user, errors, "sign-off")
    if not errors:
        try:
            await run_in_threadpool(_action_of_case, request, user, reference, action_id)
            await run_in_threadpool(actions.sign_off, _ctx(request), user.principal, action_id)
        except Conflict as conflict:
            errors.add("sign-off", sentence(conflict.message))
        else:
            return RedirectResponse(f"/ui/cases/{quote(reference)}/actions/{action_id}"
                                    "?notice=signed_off", status_code=303)
    return await run_in_threadpool(_action_page, request, user, reference, action_id, None,
                                   errors)


# ---- the 7-minute briefing ------------------------------------------------------------------

BRIEFING_ORDER = ["generate", "background", "what_happened", "learning", "question-1",
                  "question-2", "question-3", "location", "published_on"]
BRIEFING_NOTICES = {"generated": "A draft briefing was generated from the review's findings.",
                    "saved": "Your changes to the briefing were saved.",
                    "published": "The briefing was checked and published."}


def _briefing_page(request: Request, user: PageUser, reference: str,
                   values: dict[str, Any] | None, errors: Errors,
                   notice: str | None = None) -> Response:
    ctx = _ctx(request)
    case = cases.get(ctx, user.principal, reference).case
    try:
        view: briefings.BriefingView | None = briefings.get(ctx, user.principal, reference)
    except NotFound:
        view = None
    if values is None:
        values = {}
    if view is not None:
        b = view.briefing
        stored = {"background": b.background, "what_happened": b.what_happened,
                  "learning": "\n".join(b.learning),
                  **{f"question-{n}": q for n, q in enumerate(b.questions, start=1)}}
        values = {**stored, **values}
    return _render(request, "case_briefing.html", {
        "user": user, "case": case, "view": view, "values": values, "notice": notice,
        "may_write": may(user.principal, "write_briefings"),
        "question_numbers": range(1, briefings.QUESTION_COUNT + 1)}, errors, BRIEFING_ORDER)


@router.get("/cases/{reference}/briefing", response_class=HTMLResponse)
def briefing_page(request: Request, user: UserDep, reference: str,
                  notice: str | None = None) -> Response:
    return _briefing_page(request, user, reference, None, Errors(),
                          BRIEFING_NOTICES.get(notice or ""))


def _briefing_url(reference: str, notice: str) -> str:
    return f"/ui/cases/{quote(reference)}/briefing?notice={notice}"


@router.post("/cases/{reference}/briefing/generate", response_class=HTMLResponse)
async def generate_briefing(request: Request, user: UserDep, reference: str) -> Response:
    errors = Errors()
    form = await _read_form(request, user, errors, "generate")
    if not errors:
        try:
            await run_in_threadpool(briefings.generate, _ctx(request), user.principal,
                                    reference, _text(form, "replace") == "yes")
        except Conflict as conflict:
            errors.add("generate", sentence(conflict.message.replace(
                "; send replace=true to regenerate it", ": regenerate it to replace it")))
        else:
            return RedirectResponse(_briefing_url(reference, "generated"), status_code=303)
    return await run_in_threadpool(_briefing_page, request, user, reference, None, errors)


def _question_words(n: int) -> str:
    return ("first", "second", "third")[n - 1] if n <= 3 else f"number {n}"


@router.post("/cases/{reference}/briefing", response_class=HTMLResponse)
async def edit_briefing(request: Request, user: UserDep, reference: str) -> Response:
    errors = Errors()
    form = await _read_form(request, user, errors, "background")
    numbers = range(1, briefings.QUESTION_COUNT + 1)
    values: dict[str, Any] = {name: _text(form, name) for name in (
        "background", "what_happened", "learning", *(f"question-{n}" for n in numbers))}
    learning = [line.strip() for line in values["learning"].splitlines() if line.strip()]
    for name, message in (("background", "Enter the background"),
                          ("what_happened", "Enter what happened")):
        if not values[name]:
            errors.add(name, message)
    if not learning:
        errors.add("learning", "Enter at least one learning point, one a line")
    for n in numbers:
        if not values[f"question-{n}"]:
            errors.add(f"question-{n}", f"Enter the {_question_words(n)} reflective question")
    if not errors:
        content = briefings.Content(
            background=values["background"], what_happened=values["what_happened"],
            learning=learning, questions=[values[f"question-{n}"] for n in numbers])
        try:
            await run_in_threadpool(briefings.edit, _ctx(request), user.principal, reference,
                                    content)
        except (Invalid, Conflict, NotFound) as refused:
            errors.add("background", sentence(refused.message))
        else:
            return RedirectResponse(_briefing_url(reference, "saved"), status_code=303)
    return await run_in_threadpool(_briefing_page, request, user, reference, values, errors)


def _date(form: FormData, name: str) -> tuple[dict[str, str], dt.date | None, str | None]:
    parts = {part: _text(form, f"{name}-{part}") for part in ("day", "month", "year")}
    if not any(parts.values()):
        return parts, None, "Enter the date the briefing is published"
    missing = [part for part, value in parts.items() if not value]
    if missing:
        return parts, None, f"The date the briefing is published must include a {missing[0]}"
    try:
        return parts, dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"])), None
    except ValueError:
        return parts, None, "The date the briefing is published must be a real date"


@router.post("/cases/{reference}/briefing/publish", response_class=HTMLResponse)
async def publish_briefing(request: Request, user: UserDep, reference: str) -> Response:
    errors = Errors()
    form = await _read_form(request, user, errors, "location")
    location = _text(form, "location")
    parts, published_on, date_error = _date(form, "published_on")
    values: dict[str, Any] = {"location": location, "published_on": parts}
    if not location:
        errors.add("location", "Enter where the briefing is published")
    if date_error:
        errors.add("published_on", date_error)
    if not errors and published_on is not None:
        try:
            await run_in_threadpool(briefings.publish, _ctx(request), user.principal,
                                    reference, location, published_on)
        except Invalid as invalid:
            names = invalid.detail.get("names") or []
            errors.add("background", f"Replace the names of the family ({', '.join(names)}) "
                       f"with pseudonyms before publishing" if names
                       else sentence(invalid.message))
        except (Conflict, NotFound) as refused:
            errors.add("location", sentence(refused.message))
        else:
            return RedirectResponse(_briefing_url(reference, "published"), status_code=303)
    return await run_in_threadpool(_briefing_page, request, user, reference, values, errors)


def _disposition(kind: str, name: str) -> dict[str, str]:
    return {"Content-Disposition": f'{kind}; filename="{name}"'}


@router.get("/cases/{reference}/briefing.html", response_class=HTMLResponse)
def briefing_html(request: Request, user: UserDep, reference: str) -> Response:
    view = briefings.get(_ctx(request), user.principal, reference)
    return HTMLResponse(documents.html(view),
                        headers=_disposition("inline", documents.filename(view, "html")))


@router.get("/cases/{reference}/briefing.pdf")
def briefing_pdf(request: Request, user: UserDep, reference: str) -> Response:
    view = briefings.get(_ctx(request), user.principal, reference)
    return Response(documents.pdf(view), media_type="application/pdf",
                    headers=_disposition("attachment", documents.filename(view, "pdf")))
