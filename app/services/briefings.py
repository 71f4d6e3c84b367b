"""7-minute briefings: generated from a review's findings, edited, checked, then published.

A briefing has the standard shape (background, what happened, learning, three reflective
questions). It names the child only by the case's pseudonym; before it is published its text is
checked for the names of the family recorded in the agency reviews' genograms.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth import policy
from app.auth.principal import Principal
from app.db.models import Briefing, Finding, ProcessInstance, Publication, ReviewCase
from app.db.uow import UnitOfWork
from app.engine import runner
from app.engine.scripting import family_names_in
from app.services import register, steps, timeline
from app.services.context import ServiceContext
from app.services.errors import Conflict, Invalid, NotFound

"""Who may generate, edit and publish a briefing; every case reader may read it."""
PUBLICATION_KIND = "seven_minute_briefing"
READERSHIP = "practitioners"
AVAILABLE_MONTHS = 12
QUESTION_COUNT = 3
DRAFT, PUBLISHED = "draft", "published"

THEME_QUESTIONS: dict[str, tuple[str, ...]] = {
    "information_sharing": (
        "When you are worried about a child, who else needs to know, and how do you make sure "
        "they have heard and understood it?",
        "Do you know your agency's information sharing guidance well enough to share without "
        "delay when a child may be at risk?",
        "How do you check what other agencies know about a family before you decide what to do?",
    ),
    "neglect": (
        "How do you build a picture of the cumulative impact of neglect over time, rather than "
        "responding to each incident on its own?",
        "Which tools do you use to assess neglect, and when did you last use one?",
        "How do you tell the difference between what parents say they will do and what actually "
        "changes for the child?",
    ),
    "domestic_abuse": (
        "How do you ask about domestic abuse routinely and safely, and what do you do with the "
        "answer?",
        "How do you consider the impact on a child of living with domestic abuse, even when the "
        "child was not directly harmed?",
        "Do you know when and how to refer to a multi-agency risk assessment conference "
        "(MARAC)?",
    ),
    "mental_health": (
        "How do you find out about a parent's mental health and what it means for their care of "
        "the child?",
        "When adults' and children's services are both involved, how do you keep the child in "
        "view?",
        "What do you do when a parent stops engaging with mental health services?",
    ),
    "escalation": (
        "Do you know how to escalate a professional disagreement under the Board's escalation "
        "policy, and have you used it?",
        "What stops you challenging another agency's decision when you think a child is not "
        "safe?",
        "How do you follow up a concern you have escalated until you know it has been resolved?",
    ),
    "voice_of_the_child": (
        "How do you find out what daily life is like for the child, in their words or through "
        "their behaviour?",
        "How does what the child tells you shape your plans and decisions, and where is it "
        "recorded?",
        "When did you last see and speak to a child on their own, away from their parents or "
        "carers?",
    ),
    "assessment": (
        "How do you bring the family's history and other agencies' information into your "
        "assessments of risk?",
        "When did you last revisit an assessment because the family's circumstances changed?",
        "How do you test what you are told with professional curiosity rather than accepting it "
        "at face value?",
    ),
    "supervision": (
        "How does supervision help you reflect on cases where progress has drifted?",
        "Do you bring your most worrying cases to supervision, and does it challenge your "
        "thinking?",
        "How are actions agreed in supervision recorded and followed up?",
    ),
}
GENERIC_QUESTIONS = (
    "What would you do differently in your own practice after reading this briefing?",
    "How will you share this learning with your team?",
    "What support do you need to put this learning into practice?",
)
ROUTE_WORDS = {"extended": "an extended learning review", "concise": "a concise learning review",
               "single_agency": "a single agency review", "audit": "a case audit"}


@dataclass(frozen=True)
class Content:
    """The editable text of a briefing."""

    background: str
    what_happened: str
    learning: list[str]
    questions: list[str]


@dataclass(frozen=True)
class BriefingView:
    briefing: Briefing
    case: ReviewCase
    publication: Publication | None

    @property
    def title(self) -> str:
        return title_for(self.case)


def title_for(case: ReviewCase) -> str:
    return f"7-minute briefing: {case.child_pseudonym} ({case.reference})"


# ---- questions and content -----------------------------------------------------------------

def theme_key(theme: Any) -> str:
    """`Voice of the child` -> `voice_of_the_child`."""
    return "_".join(str(theme).strip().lower().replace("-", " ").split())


def choose_questions(themes: list[str]) -> list[str]:
    """Three questions for the most frequent known themes, taken in turn; generic ones to fill.

    Ties keep the order in which the themes first appear.
    """
    counts = Counter(key for key in (theme_key(t) for t in themes) if key in THEME_QUESTIONS)
    ranked = sorted(counts, key=lambda key: -counts[key])  # stable: a Counter keeps first-seen
    chosen: list[str] = []
    for round_ in range(QUESTION_COUNT):
        for key in ranked:
            if len(chosen) < QUESTION_COUNT:
                chosen.append(THEME_QUESTIONS[key][round_])
    for question in GENERIC_QUESTIONS:
        if len(chosen) < QUESTION_COUNT:
            chosen.append(question)
    return chosen


def _words(value: str) -> str:
    return value.replace("_", " ")


def findings_of(uow: UnitOfWork, case: ReviewCase) -> list[tuple[str, list[str]]]:
    """The case's findings with their themes: the finding table, else the review's outcome."""
    rows = list(uow.session.scalars(select(Finding).where(
        Finding.case_reference == case.reference).order_by(Finding.id)))
    # agency lessons and case studies share the register, marked by a theme of their own
    rows = [row for row in rows if not set(row.themes or []) & register.REGISTER_MARKERS]
    if rows:
        return [(row.text, [str(t) for t in row.themes or []]) for row in rows if row.text]
    found: list[tuple[str, list[str]]] = []
    for item in (case.outcome or {}).get("findings") or []:
        if isinstance(item, dict):
            text = item.get("finding") or item.get("text")
            themes = item.get("themes") or []
        else:
            text, themes = item, []
        if text:
            found.append((str(text), [str(t) for t in themes if t]))
    return found


def draft_content(case: ReviewCase, findings: list[tuple[str, list[str]]]) -> Content:
    kind = ROUTE_WORDS.get(case.route or "", "a learning review")
    review_type = f" ({case.review_type})" if case.review_type else ""
    background = (f"This briefing shares the learning from {kind}{review_type}, reference "
                  f"{case.reference}, about {case.child_pseudonym}. {case.summary}").strip()
    outcome = case.outcome or {}
    what_happened = str(outcome.get("report_summary") or case.summary)
    learning = [f"{text} (themes: {', '.join(_words(t) for t in themes)})" if themes else text
                for text, themes in findings]
    questions = choose_questions([theme for _text, themes in findings for theme in themes])
    return Content(background, what_happened, learning, questions)


# ---- family names --------------------------------------------------------------------------

def family_names(ctx: ServiceContext, uow: UnitOfWork, case: ReviewCase) -> list[str]:
    """The people in the agency reviews' genograms, except the child's pseudonym.

    They are read from the process data of the case's referral instance; a case without one
    (or whose instance has been erased) has none recorded.
    """
    if not case.referral_instance_id:
        return []
    instance = uow.session.get(ProcessInstance, case.referral_instance_id)
    if instance is None:
        return []
    workflow = steps.load_workflow(ctx, uow, instance)
    data = {**runner.subprocess_data(workflow), **runner.data(workflow)}
    reviews = data.get("agency_reviews") or []
    pseudonym = case.child_pseudonym.strip().lower()
    names: list[str] = []
    for review in reviews if isinstance(reviews, list) else []:
        genogram = review.get("genogram") if isinstance(review, dict) else None
        people = genogram.get("people") if isinstance(genogram, dict) else None
        for person in people if isinstance(people, list) else []:
            name = str(person.get("name") or "").strip() if isinstance(person, dict) else ""
            if name and name.lower() != pseudonym and name not in names:
                names.append(name)
    return names


def _texts(briefing: Briefing) -> list[str]:
    return [briefing.background, briefing.what_happened, *briefing.learning,
            *briefing.questions]


# ---- use cases -----------------------------------------------------------------------------

def _case(uow: UnitOfWork, reference: str) -> ReviewCase:
    case = uow.session.scalars(select(ReviewCase).where(
        ReviewCase.reference == reference)).first()
    if case is None:
        raise NotFound(f"no case with the reference '{reference}'", reference=reference)
    return case


def _writable(uow: UnitOfWork, principal: Principal, reference: str) -> ReviewCase:
    policy.require(principal, "read_cases")  # refusals by role before the lookup: they
    policy.require(principal, "write_briefings")  # say nothing of whether the case exists
    case = _case(uow, reference)
    policy.check_case_read(principal, case)
    return case


def _briefing(uow: UnitOfWork, reference: str, lock: bool = False) -> Briefing | None:
    """The case's briefing; `lock` holds its row until commit, so that a change and the
    publication that ends changes cannot interleave."""
    query = select(Briefing).where(Briefing.case_reference == reference)
    return uow.session.scalars(query.with_for_update() if lock else query).first()


def _existing(uow: UnitOfWork, reference: str, lock: bool = False) -> Briefing:
    briefing = _briefing(uow, reference, lock)
    if briefing is None:
        raise NotFound(f"case {reference} has no 7-minute briefing yet; generate one first",
                       reference=reference)
    return briefing


def _publication(uow: UnitOfWork, reference: str) -> Publication | None:
    return uow.session.scalars(select(Publication).where(
        Publication.case_reference == reference, Publication.kind == PUBLICATION_KIND)
        .order_by(Publication.id.desc())).first()


def _record(uow: UnitOfWork, case: ReviewCase, action: str, at: dt.datetime, actor: str,
            detail: dict[str, Any]) -> None:
    if case.referral_instance_id:
        timeline.record(uow, case.referral_instance_id, f"briefing_{action}", at, actor,
                        detail=detail)


def _commit(uow: UnitOfWork, reference: str) -> None:
    try:
        uow.commit()
    except IntegrityError:
        uow.rollback()
        raise Conflict("the briefing was changed at the same time; try again",
                       reference=reference) from None


def get(ctx: ServiceContext, principal: Principal, reference: str) -> BriefingView:
    policy.require(principal, "read_cases")
    with ctx.uow(read_only=True) as uow:
        case = _case(uow, reference)
        policy.check_case_read(principal, case)
        briefing = _existing(uow, reference)
        return BriefingView(briefing, case, _publication(uow, reference))


def generate(ctx: ServiceContext, principal: Principal, reference: str,
             replace: bool = False) -> BriefingView:
    """A draft from the review's findings; an existing draft is replaced only when asked."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        case = _writable(uow, principal, reference)
        findings = findings_of(uow, case)
        if not findings:
            raise Conflict("the review has no findings yet; a briefing is generated from them",
                           reference=reference, status=case.status)
        briefing = _briefing(uow, reference, lock=True)
        replaced = briefing is not None
        if briefing is not None and briefing.status == PUBLISHED:
            raise Conflict("the briefing has been published and cannot be regenerated",
                           reference=reference)
        if briefing is not None and not replace:
            raise Conflict("a draft briefing exists; send replace=true to regenerate it",
                           reference=reference)
        content = draft_content(case, findings)
        if briefing is None:
            briefing = Briefing(case_reference=reference, status=DRAFT)
            uow.session.add(briefing)
        _apply(briefing, content, principal.name, now)
        themes = sorted({theme_key(t) for _text, ts in findings for t in ts})
        _record(uow, case, "generated", now, principal.name,
                {"replaced": replaced, "findings": len(findings), "themes": themes})
        _commit(uow, reference)
        return BriefingView(briefing, case, None)


def _apply(briefing: Briefing, content: Content, actor: str, at: dt.datetime) -> None:
    briefing.background = content.background
    briefing.what_happened = content.what_happened
    briefing.learning = list(content.learning)
    briefing.questions = list(content.questions)
    briefing.updated_by = actor
    briefing.updated_at = at


def edit(ctx: ServiceContext, principal: Principal, reference: str,
         content: Content) -> BriefingView:
    if len(content.questions) != QUESTION_COUNT:
        raise Invalid(f"a briefing has exactly {QUESTION_COUNT} reflective questions",
                      field="questions")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        case = _writable(uow, principal, reference)
        briefing = _existing(uow, reference, lock=True)
        if briefing.status == PUBLISHED:
            raise Conflict("the briefing has been published and can no longer be edited",
                           reference=reference)
        changed = [name for name in ("background", "what_happened", "learning", "questions")
                   if getattr(briefing, name) != getattr(content, name)]
        _apply(briefing, content, principal.name, now)
        _record(uow, case, "edited", now, principal.name, {"fields": changed})
        _commit(uow, reference)
        return BriefingView(briefing, case, None)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def publish(ctx: ServiceContext, principal: Principal, reference: str, location: str,
            published_on: dt.date) -> BriefingView:
    """Check the text for the family's names, then publish it and record the publication."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        case = _writable(uow, principal, reference)
        briefing = _existing(uow, reference, lock=True)
        if briefing.status == PUBLISHED:
            raise Conflict("the briefing has already been published", reference=reference)
        named = family_names_in(_texts(briefing), family_names(ctx, uow, case))
        if named:
            raise Invalid(f"the briefing names members of the family ({', '.join(named)}); "
                          f"use pseudonyms before publishing", field="briefing", names=named)
        briefing.status = PUBLISHED
        briefing.updated_by = principal.name
        briefing.updated_at = now
        available_until = add_months(published_on, AVAILABLE_MONTHS)
        publication = Publication(
            case_reference=reference, kind=PUBLICATION_KIND, title=title_for(case),
            published_on=published_on, available_until=available_until, location=location,
            readership=READERSHIP, recorded_by=principal.name, created_at=now)
        uow.session.add(publication)
        uow.session.flush()
        _record(uow, case, "published", now, principal.name, {
            "publication_id": publication.id, "location": location,
            "published_on": published_on.isoformat(),
            "available_until": available_until.isoformat()})
        _commit(uow, reference)
        return BriefingView(briefing, case, publication)
