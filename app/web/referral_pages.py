"""Refer a case from the browser (board managers and agency leads)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.auth import policy
from app.services import cases, idempotency, steps, storable
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


SUBMISSION_FIELD = "submission_token"
"""The form's single-use token: one case per form page served, however often it is posted."""


def _submission_token(csrf_token: str) -> str:
    """A new token, signed with the session's CSRF token: only a page served to this session
    carries one that `_issued` accepts."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_signature(csrf_token, nonce)}"


def _signature(csrf_token: str, nonce: str) -> str:
    return hmac.new(csrf_token.encode("utf-8", "surrogatepass"),
                    nonce.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


def _issued(csrf_token: str, token: object) -> bool:
    if not isinstance(token, str) or token.count(".") != 1:
        return False
    nonce, signature = token.split(".")
    return hmac.compare_digest(signature.encode("utf-8", "surrogatepass"),
                               _signature(csrf_token, nonce).encode("ascii"))


def _page(request: Request, user: PageUser, values: dict[str, Any], errors: dict[str, str],
          status: int = 200) -> Response:
    token = values.get(SUBMISSION_FIELD)
    if not _issued(user.csrf_token, token) or SUBMISSION_FIELD in errors:
        token = _submission_token(user.csrf_token)
    return TEMPLATES.TemplateResponse(request, "referral.html", {
        "user": user, "values": values, "errors": errors, "facts": FACTS, "concern": CONCERN,
        "compliance": COMPLIANCE, "submission_token": token}, status_code=status)


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
    unstorable = storable.form_problem(form.multi_items())
    if unstorable is not None:
        shown = {key: value.encode("utf-8", "replace").decode().replace("\x00", "")
                 for key, value in values.items()}
        return _page(request, user, shown, {
            unstorable[0]: f"This answer {unstorable[1]}: remove it"}, status=422)
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
    token = values.get(SUBMISSION_FIELD)
    if not errors and not _issued(user.csrf_token, token):
        errors[SUBMISSION_FIELD] = "This form has expired: check it and send it again"
    if errors or incident is None:
        return _page(request, user, values, errors, status=422)
    referral = cases.Referral(child_pseudonym=pseudonym, agencies=agencies,
                              incident_date=incident, summary=summary, facts=facts)
    sent = idempotency.Request(
        idempotency.caller_of(user.principal), "refer_form", str(token),
        idempotency.fingerprint({**dataclasses.asdict(referral),
                                 "incident_date": incident.isoformat()}),
        field=SUBMISSION_FIELD)
    try:
        answer = await run_in_threadpool(
            idempotency.once, ctx, sent, 303,
            lambda claim: cases.refer(ctx, user.principal, referral, steps.Command(claim=claim)),
            lambda view: json.dumps({"reference": view.case.reference}))
    except Invalid as invalid:
        field = str(invalid.detail.get("field") or "summary")
        if field == SUBMISSION_FIELD:  # posted again after it was sent, with other answers
            return _page(request, user, values, {field: (
                "This form was sent already, with other answers: find that case in the case "
                "list, or send this form again to refer another case")}, status=409)
        return _page(request, user, values, {field: invalid.message}, status=422)
    reference = json.loads(answer.body)["reference"]
    notice = "already%20referred" if answer.replayed else "referred"
    return RedirectResponse(f"/ui/cases/{reference}?notice={notice}", status_code=303)
