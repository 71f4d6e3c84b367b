"""The administrator's pages: people and their roles, agencies and their addresses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.auth import policy
from app.auth.principal import ROLES
from app.services import accounts, agencies
from app.services.context import ServiceContext
from app.services.errors import Conflict, Invalid
from app.web.session import PageUser, check_csrf, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]

PEOPLE = "/ui/admin/people"
ROLE_HINTS = {
    "board_manager": "Runs the Board's reviews: refers cases, assigns tasks, records "
                     "publications.",
    "chair": "Chairs the panel and endorses its decisions.",
    "panel_member": "Screens referrals, decides on reviews and signs off actions.",
    "reviewer": "Writes reviews, briefings and learning events.",
    "agency_lead": "Acts for one agency: its agency reviews and actions. Needs an agency.",
    "designer": "Uploads, checks and deploys process definitions.",
    "auditor": "Reads every case and the audit log; changes nothing.",
    "admin": "Manages people, their roles and agencies.",
}
FIELD_IDS = {"name": "name", "password": "password", "roles": "roles", "agency": "agency",
             "active": "deactivate"}
FIELD_ORDER = ("name", "password", "roles", "agency", "active")


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


def _errors(invalid: Invalid) -> list[dict[str, str]]:
    """The refusal's problems in the page's order, each with the field it is about."""
    found = invalid.detail.get("errors") or [
        {"field": invalid.detail.get("field") or "name", "message": invalid.message}]
    # (a register that cannot be read is refused as "agencies": shown at the agency question)
    found = [{**e, "field": "agency"} if e.get("field") == "agencies" else e for e in found]
    known = [e for e in found if e.get("field") in FIELD_IDS]
    return sorted(known, key=lambda e: FIELD_ORDER.index(e["field"])) or [
        {"field": "name", "message": invalid.message}]


def _agency_options(ctx: ServiceContext) -> tuple[list[tuple[str, str]], str | None]:
    found, problem = agencies.register_or_problem(ctx)
    options = [("", "No agency")]
    if found is not None:
        options += sorted(((a.id, a.name) for a in found.agencies),
                          key=lambda option: option[1].lower())
    return options, problem


def _form_page(request: Request, user: PageUser, person: accounts.Person | None,
               values: dict[str, Any], errors: list[dict[str, str]],
               status: int = 200, notice: str | None = None) -> Response:
    options, problem = _agency_options(_ctx(request))
    role_items = [{"value": role, "text": role.replace("_", " ").capitalize(),
                   "hint": ROLE_HINTS[role]} for role in ROLES]
    return TEMPLATES.TemplateResponse(request, "admin_person.html", {
        "user": user, "person": person, "values": values, "notice": notice,
        "errors": errors, "messages": {e["field"]: e["message"] for e in errors},
        "summary": [{"href": f"#{FIELD_IDS[e['field']]}", "text": e["message"]}
                    for e in errors],
        "role_items": role_items, "agency_options": options, "register_problem": problem,
        "is_self": person is not None and person.name == user.principal.name,
    }, status_code=status)


def _people_page(request: Request, user: PageUser, notice_of: tuple[str, int] | None) -> Response:
    ctx = _ctx(request)
    people = accounts.list_people(ctx, user.principal)
    notice = None
    if notice_of is not None:
        done, person_id = notice_of
        named = next((p for p in people if p.id == person_id), None)
        if named is not None:
            notice = f"{named.name} was {done}."
    return TEMPLATES.TemplateResponse(request, "admin_people.html", {
        "user": user, "people": people, "notice": notice})


DONE_WORDS = {"added": "added", "changed": "changed", "deactivated": "deactivated: they can "
              "no longer sign in", "reactivated": "reactivated: they can sign in again"}


@router.get("/admin/people", response_class=HTMLResponse)
def people_page(request: Request, user: UserDep, done: str | None = None,
                person: int | None = None) -> Response:
    notice_of = (DONE_WORDS[done], person) if done in DONE_WORDS and person else None
    return _people_page(request, user, notice_of)


@router.get("/admin/people/new", response_class=HTMLResponse)
def new_person_page(request: Request, user: UserDep) -> Response:
    policy.require(user.principal, "manage_people")
    return _form_page(request, user, None, {"roles": []}, [])


def _form_values(form: Any) -> dict[str, Any]:
    return {"name": str(form.get("name") or ""), "password": str(form.get("password") or ""),
            "roles": [str(role) for role in form.getlist("roles")],
            "agency": str(form.get("agency") or "")}


@router.post("/admin/people/new", response_class=HTMLResponse)
async def add_person(request: Request, user: UserDep) -> Response:
    form = await request.form()
    check_csrf(user.csrf_token, form.get("csrf_token"))
    values = _form_values(form)
    try:
        added = await run_in_threadpool(
            accounts.add_person, _ctx(request), user.principal, values["name"],
            values["password"], values["roles"], values["agency"] or None)
    except Invalid as invalid:
        values["password"] = ""  # never sent back to the browser
        return await run_in_threadpool(_form_page, request, user, None, values,
                                       _errors(invalid), 422)
    return RedirectResponse(f"{PEOPLE}?done=added&person={added.id}", status_code=303)


@router.get("/admin/people/{person_id}", response_class=HTMLResponse)
def person_page(request: Request, user: UserDep, person_id: int) -> Response:
    person = accounts.get_person(_ctx(request), user.principal, person_id)
    return _form_page(request, user, person, {"roles": list(person.roles),
                                              "agency": person.agency or ""}, [])


@router.post("/admin/people/{person_id}", response_class=HTMLResponse)
async def change_person(request: Request, user: UserDep, person_id: int) -> Response:
    form = await request.form()
    check_csrf(user.csrf_token, form.get("csrf_token"))
    ctx = _ctx(request)
    action = str(form.get("_action") or "change")
    if action in ("deactivate", "reactivate"):
        try:
            await run_in_threadpool(accounts.set_person_active, ctx, user.principal, person_id,
                                    action == "reactivate")
        except Conflict as refused:
            person = await run_in_threadpool(accounts.get_person, ctx, user.principal,
                                             person_id)
            return await run_in_threadpool(
                _form_page, request, user, person,
                {"roles": list(person.roles), "agency": person.agency or ""},
                [{"field": "active", "message": refused.message}], 409)
        return RedirectResponse(f"{PEOPLE}?done={action}d&person={person_id}", status_code=303)
    values = _form_values(form)
    try:
        await run_in_threadpool(accounts.change_person, ctx, user.principal, person_id,
                                values["roles"], values["agency"] or None)
    except Invalid as invalid:
        person = await run_in_threadpool(accounts.get_person, ctx, user.principal, person_id)
        return await run_in_threadpool(_form_page, request, user, person, values,
                                       _errors(invalid), 422)
    return RedirectResponse(f"{PEOPLE}?done=changed&person={person_id}", status_code=303)


@router.get("/admin/agencies", response_class=HTMLResponse)
def agencies_page(request: Request, user: UserDep) -> Response:
    found = agencies.overview(_ctx(request), user.principal)
    return TEMPLATES.TemplateResponse(request, "admin_agencies.html", {
        "user": user, "register": found})
