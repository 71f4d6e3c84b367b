"""Refer a case from the browser (board managers and agency leads): GOV.UK's question pages,
agencies as checkboxes from the register, the date of the incident as day, month and year, and
errors as GOV.UK shows them (a summary in the page's order, each message saying what to do,
everything typed kept, even when the service refuses the referral)."""

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
from app.services import agencies as agency_register
from app.services import cases, idempotency, steps, storable
from app.services.context import ServiceContext
from app.services.errors import Invalid
from app.web.form_parsing import typed_date
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
DATE_FIELD = "incident_date"
ORDER = ("child_pseudonym", "agencies", DATE_FIELD, "summary", "interagency_concern",
         "compliance_failure", SUBMISSION_FIELD)
"""The questions in the order of the page (the error summary follows it)."""
TARGETS = {DATE_FIELD: f"{DATE_FIELD}-day", "agencies": "agencies",
           "interagency_concern": "interagency_concern",
           "compliance_failure": "compliance_failure", SUBMISSION_FIELD: "child_pseudonym"}
"""The id each question's error links to (its first input)."""


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


def _items(options: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"value": value, "text": text} for value, text in options]


def _agency_choices(ctx: ServiceContext, chosen: list[str]) -> list[dict[str, str]]:
    """The register's agencies as checkboxes; anything chosen that it lacks (a value posted
    by hand) is kept, named as it was sent, so the error can point at it."""
    found, _problem = agency_register.register_or_problem(ctx)
    listed = [(agency.id, agency.name) for agency in found.agencies] if found else []
    known = {agency_id for agency_id, _ in listed}
    listed += [(value, value) for value in chosen if value not in known]
    return [{"value": value, "text": name} for value, name in listed]


def _page(request: Request, user: PageUser, values: dict[str, Any], errors: dict[str, str],
          status: int = 200) -> Response:
    token = values.get(SUBMISSION_FIELD)
    if not _issued(user.csrf_token, token) or SUBMISSION_FIELD in errors:
        token = _submission_token(user.csrf_token)
    chosen = [str(value) for value in values.get("agencies") or []]
    ordered = sorted(errors.items(), key=lambda item: ORDER.index(item[0])
                     if item[0] in ORDER else len(ORDER))
    summary = [{"href": f"#{TARGETS.get(name, name)}", "text": message}
               for name, message in ordered]
    return TEMPLATES.TemplateResponse(request, "referral.html", {
        "user": user, "values": values, "errors": errors, "summary": summary, "facts": FACTS,
        "concern_items": _items(CONCERN), "compliance_items": _items(COMPLIANCE),
        "submission_token": token,
        "agency_choices": _agency_choices(request.app.state.context, chosen),
        "chosen_agencies": chosen}, status_code=status)


@router.get("/referrals/new", response_class=HTMLResponse)
def new_referral(request: Request, user: UserDep) -> Response:
    policy.require(user.principal, "refer")
    agencies = [user.principal.agency] if user.principal.agency else []
    return _page(request, user, {**DEFAULTS, "agencies": agencies}, {})


@router.post("/referrals/new", response_class=HTMLResponse)
async def submit_referral(request: Request, user: UserDep) -> Response:
    policy.require(user.principal, "refer")
    form = await request.form()
    check_csrf(user.csrf_token, form.get("csrf_token"))
    values: dict[str, Any] = {key: str(value) for key, value in form.items()}
    values["agencies"] = [str(value) for value in form.getlist("agencies") if str(value)]
    unstorable = storable.form_problem(form.multi_items())
    if unstorable is not None:
        shown = {key: _shown(value) for key, value in values.items()}
        return _page(request, user, shown, {
            unstorable[0].split("-")[0]: f"This answer {unstorable[1]}: remove it"},
            status=422)
    ctx: ServiceContext = request.app.state.context
    errors: dict[str, str] = {}
    pseudonym = values.get("child_pseudonym", "").strip()
    if not pseudonym:
        errors["child_pseudonym"] = "Enter the child's pseudonym, for example Child A"
    agencies = _agency_errors(ctx, user, values["agencies"], errors)
    incident = _incident(ctx, values, errors)
    summary = values.get("summary", "").strip()
    if not summary:
        errors["summary"] = "Enter what happened"
    facts: dict[str, Any] = {name: values.get(name) == "yes" for name, _ in FACTS}
    for name, default in DEFAULTS.items():
        facts[name] = values.get(name) or default
    if facts["interagency_concern"] not in dict(CONCERN):
        errors["interagency_concern"] = "Select how well the agencies worked together"
    if facts["compliance_failure"] not in dict(COMPLIANCE):
        errors["compliance_failure"] = "Select which standards were not met, or None"
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
        field = field if field in ORDER else "summary"
        return _page(request, user, values, {field: _sentence(invalid.message)}, status=422)
    reference = json.loads(answer.body)["reference"]
    notice = "already%20referred" if answer.replayed else "referred"  # the case page's words
    return RedirectResponse(f"/ui/cases/{reference}?notice={notice}", status_code=303)


def _shown(value: Any) -> Any:
    """A value as the page can show it again (what cannot be stored, made visible)."""
    if isinstance(value, list):
        return [_shown(item) for item in value]
    return str(value).encode("utf-8", "replace").decode().replace("\x00", "")


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _agency_errors(ctx: ServiceContext, user: PageUser, chosen: list[str],
                   errors: dict[str, str]) -> list[str]:
    """The agencies chosen, checked against the register; an error on `agencies` if not."""
    if not chosen:
        errors["agencies"] = "Select at least one agency"
        return []
    if len(set(chosen)) != len(chosen):
        errors["agencies"] = "Select each agency once"
        return chosen
    found, problem = agency_register.register_or_problem(ctx)
    if found is None:
        errors["agencies"] = _sentence(problem or "The agency register cannot be read")
        return chosen
    unknown = found.unknown(chosen)
    if unknown:
        listed = ", ".join(f"'{name}'" for name in unknown)
        errors["agencies"] = (f"Select the agencies from the list: {listed} "
                              f"{'is not one' if len(unknown) == 1 else 'are not'} of the "
                              "Board's agencies")
        return chosen
    own = user.principal.agency
    if own and not user.principal.has("board_manager", "admin") and own not in chosen:
        errors["agencies"] = f"Select your own agency, {found.name_of(own)}, as well"
    return chosen


def _incident(ctx: ServiceContext, values: dict[str, Any],
              errors: dict[str, str]) -> dt.date | None:
    """The date of the incident from its three fields (or one ISO field, as an API client
    might send it); an error on it when it is missing, not a real date or in the future."""
    parts = [str(values.get(f"{DATE_FIELD}-{part}", "")) for part in ("day", "month", "year")]
    typed = typed_date(*parts) if any(part.strip() for part in parts) \
        else (str(values.get(DATE_FIELD, "")).strip() or None)
    if typed is None:
        errors[DATE_FIELD] = "Enter the date of the incident"
        return None
    try:
        incident = dt.date.fromisoformat(typed)
    except ValueError:
        errors[DATE_FIELD] = "Date of the incident must be a real date"
        return None
    if incident > ctx.clock.now().date():
        errors[DATE_FIELD] = "Date of the incident must be today or in the past"
        return None
    return incident
