"""Refer a case from the browser (board managers and agency leads)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.auth import policy
from app.services import cases
from app.services.context import ServiceContext
from app.services.errors import Invalid
from app.web.session import PageUser, check_csrf, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]

FACTS = [
    ("abuse_or_neglect", "Abuse or neglect is known or suspected"),
    ("child_died", "The child died"),
    ("seriously_harmed", "The child was seriously harmed"),
    ("died_in_custody", "The child died in custody, on remand, in a secure setting or detained "
                        "under the Mental Capacity Act"),
    ("suspected_suicide", "Suspected suicide"),
    ("hospital_admission_over_24h", "Injury needing hospital admission for more than 24 hours"),
    ("transported_to_hospital", "Injury needing transport to hospital"),
    ("permanent_disability", "Permanent disability or disease"),
    ("sexual_abuse_or_cse", "Serious harm from sexual abuse or child sexual exploitation"),
    ("parent_domestic_homicide", "A parent was killed (domestic homicide)"),
    ("significant_self_harm", "Significant self-harm"),
    ("parents_charged_neglect", "Parents charged with neglect"),
    ("missing_education", "The child is missing education"),
    ("known_to_services", "On a child protection plan, child in need or receiving significant "
                          "services"),
    ("minor_injury", "Abrasions, bruises or other minor injuries"),
    ("good_practice", "Good practice worth sharing"),
]
CONCERN = [("not_known", "Not yet known"), ("none", "No concerns"), ("curiosity", "Curiosity"),
           ("concern", "Concern")]
"""Not yet known comes first and is the default: under r5(2)(b)(ii) abuse or neglect with serious
harm means an SCR unless it is clear there are no concerns, so only "No concerns" lowers it."""
DEFAULTS = {"interagency_concern": "not_known", "compliance_failure": "none"}
COMPLIANCE = [("none", "None"), ("minor", "Minor non-compliance"),
              ("internal", "Internal standards or policy"),
              ("professional", "Professional standards"), ("statutory", "Statutory requirements")]


def _page(request: Request, user: PageUser, values: dict[str, Any], errors: dict[str, str],
          status: int = 200) -> Response:
    return TEMPLATES.TemplateResponse(request, "referral.html", {
        "user": user, "values": values, "errors": errors, "facts": FACTS, "concern": CONCERN,
        "compliance": COMPLIANCE}, status_code=status)


@router.get("/referrals/new", response_class=HTMLResponse)
def new_referral(request: Request, user: UserDep) -> Response:
    policy.require(user.principal, "refer")
    agencies = user.principal.agency or ""
    return _page(request, user, {**DEFAULTS, "agencies": agencies}, {})


@router.post("/referrals/new", response_class=HTMLResponse)
async def submit_referral(request: Request, user: UserDep) -> Response:
    policy.require(user.principal, "refer")
    form = await request.form()
    check_csrf(user.csrf_token, form.get("csrf_token"))
    values = {key: str(value) for key, value in form.items()}
    errors: dict[str, str] = {}
    pseudonym = values.get("child_pseudonym", "").strip()
    if not pseudonym:
        errors["child_pseudonym"] = "Give the child's pseudonym, for example Child A"
    agencies = [a.strip() for a in values.get("agencies", "").split(",") if a.strip()]
    if not agencies:
        errors["agencies"] = "Name at least one agency"
    elif len(set(agencies)) != len(agencies):
        errors["agencies"] = "An agency is listed twice"
    summary = values.get("summary", "").strip()
    if not summary:
        errors["summary"] = "Say briefly what happened"
    incident: dt.date | None = None
    ctx: ServiceContext = request.app.state.context
    try:
        incident = dt.date.fromisoformat(values.get("incident_date", ""))
        if incident > ctx.clock.now().date():
            errors["incident_date"] = "The incident date cannot be in the future"
    except ValueError:
        errors["incident_date"] = "Give the date of the incident"
    facts: dict[str, Any] = {name: values.get(name) == "yes" for name, _ in FACTS}
    for name, default in DEFAULTS.items():
        facts[name] = values.get(name) or default
    if facts["interagency_concern"] not in dict(CONCERN):
        errors["interagency_concern"] = "Choose one of the options"
    if facts["compliance_failure"] not in dict(COMPLIANCE):
        errors["compliance_failure"] = "Choose one of the options"
    if errors or incident is None:
        return _page(request, user, values, errors, status=422)
    referral = cases.Referral(child_pseudonym=pseudonym, agencies=agencies,
                              incident_date=incident, summary=summary, facts=facts)
    try:
        view = await run_in_threadpool(cases.refer, ctx, user.principal, referral)
    except Invalid as invalid:
        field = str(invalid.detail.get("field") or "summary")
        return _page(request, user, values, {field: invalid.message}, status=422)
    return RedirectResponse(f"/ui/cases/{view.case.reference}?notice=referred",
                            status_code=303)
