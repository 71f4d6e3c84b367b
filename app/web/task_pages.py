"""The task page: read what the task needs, claim it, fill the form, save a draft, submit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.auth import policy
from app.auth.errors import Forbidden
from app.services import cases, storable, tasks
from app.services.context import ServiceContext
from app.services.errors import Conflict, Invalid, NotFound, StepError
from app.web.form_parsing import apply_action, parse_form
from app.web.form_rendering import form_errors_summary, render_form
from app.web.session import PageUser, check_csrf, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]

NOTICES = {
    "claimed": "You claimed this task: no one else in the role can work on it until you "
               "release it.",
    "unclaimed": "You released this task: anyone in the role can claim it now.",
    "saved": "Your draft was saved. Submit the task when it is ready.",
}
"""The success banners the task page shows, by the code its redirects carry."""


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


def _task_page(request: Request, user: PageUser, task_id: str, values: dict[str, Any] | None,
               errors: list[dict[str, str]], status: int = 200,
               notice: str | None = None) -> Response:
    ctx = _ctx(request)
    detail = tasks.get(ctx, user.principal, task_id)
    task = detail.task
    schema = detail.form_schema or {"type": "object", "properties": {}}
    if values is None:  # the form's own fields only, from the data and the saved draft
        fields = schema.get("properties", {})
        values = {k: v for source in (detail.data, task.draft or {})
                  for k, v in source.items() if k in fields}
    case = None
    if task.business_key:
        try:
            case = cases.get(ctx, user.principal, task.business_key).case
        except (Forbidden, NotFound):  # not theirs, or a process without a case (the demo)
            case = None
    may_work = task.state == "ready" and (task.assignee in (None, user.principal.name))
    return TEMPLATES.TemplateResponse(request, "task.html", {
        "user": user, "task": task, "case": case, "notice": NOTICES.get(notice or ""),
        "may_work": may_work, "errors": bool(errors), "kept": bool(errors) and bool(values),
        "form_html": render_form(schema, values, errors),
        "summary_html": form_errors_summary(errors, schema=schema, values=values)
        if errors else "",
        "has_form": bool(schema.get("properties"))}, status_code=status)


def _refused(exc: Forbidden | Conflict) -> tuple[list[dict[str, str]], int]:
    """A refusal from the service as an error at the top of the form (what was typed stays)."""
    message = exc.message[:1].upper() + exc.message[1:]
    return [{"field": "(form)", "message": message}], 409 if isinstance(exc, Conflict) else 403


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, user: UserDep, task_id: str, notice: str | None = None,
              ) -> Response:
    return _task_page(request, user, task_id, None, [], notice=notice)


@router.post("/tasks/{task_id}", response_class=HTMLResponse)
async def task_action(request: Request, user: UserDep, task_id: str) -> Response:
    form = await request.form()
    check_csrf(user.csrf_token, form.get("csrf_token"))
    unstorable = storable.form_problem(form.multi_items())
    if unstorable is not None:  # nothing is saved, not even a draft
        return await run_in_threadpool(_task_page, request, user, task_id, None, [{
            "field": unstorable[0], "message": f"This answer {unstorable[1]}: remove it"}],
            status=422)
    action = str(form.get("_action") or "")
    ctx = _ctx(request)
    back = f"/ui/tasks/{task_id}"
    if action in ("claim", "unclaim"):
        run = tasks.claim if action == "claim" else tasks.unclaim
        await run_in_threadpool(run, ctx, user.principal, task_id)
        return RedirectResponse(f"{back}?notice={action}ed", status_code=303)
    detail = await run_in_threadpool(tasks.get, ctx, user.principal, task_id)
    schema = detail.form_schema or {"type": "object", "properties": {}}
    if action.startswith(("add:", "remove:")) or action == "save":
        # Keep blank rows while editing, so row numbers stay those the person sees.
        draft = parse_form(schema, form.multi_items(), keep_blank_items=True)
        if action != "save":
            try:
                draft = apply_action(schema, draft, action)
            except ValueError as exc:
                raise Invalid(f"the form asked for something it cannot do: {exc}") from None
        try:
            await run_in_threadpool(tasks.save_draft, ctx, user.principal, task_id, draft)
        except (Conflict, Forbidden) as refused:
            if isinstance(refused, policy.Concealed):
                raise
            errors, status = _refused(refused)
            return await run_in_threadpool(_task_page, request, user, task_id, draft, errors,
                                           status=status)
        if action == "save":
            return RedirectResponse(f"{back}?notice=saved", status_code=303)
        return await run_in_threadpool(_task_page, request, user, task_id, draft, [])
    data = parse_form(schema, form.multi_items())
    try:
        await run_in_threadpool(tasks.complete, ctx, user.principal, task_id, data)
    except Invalid as invalid:
        errors = invalid.detail.get("errors") or [{"field": "(form)",
                                                   "message": invalid.message}]
        return await run_in_threadpool(_task_page, request, user, task_id, data, errors,
                                       status=422)
    except StepError as failed:
        return await run_in_threadpool(_task_page, request, user, task_id, data,
                                       [{"field": "(form)", "message": failed.message}],
                                       status=422)
    except (Conflict, Forbidden) as refused:  # claimed by someone else, or done already
        if isinstance(refused, policy.Concealed):
            raise
        errors, status = _refused(refused)
        return await run_in_threadpool(_task_page, request, user, task_id, data, errors,
                                       status=status)
    target = f"/ui/cases/{detail.task.business_key}" if detail.task.business_key else "/ui/inbox"
    return RedirectResponse(f"{target}?notice=submitted", status_code=303)
