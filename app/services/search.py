"""Finding cases and tasks by what people remember of them: a case reference or part of one
("lir-2026-0002", "0002"), the child's pseudonym, an agency by its name, or a task's title.

Matching is partial and ignores case. Who may read what is the policy's: a case is found only
when the person may read it (`policy.visible_cases`), and by a task's title only when they may
see that task (`policy.visible_tasks`), so a search never tells anyone more than the case list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, cast, false, func, or_, select
from sqlalchemy.orm import QueryableAttribute

from app.auth import policy
from app.auth.principal import Principal
from app.db.models import HumanTask, ReviewCase
from app.services import agencies
from app.services.context import ServiceContext

MAX_TEXT = 100
"""Longer search text is cut to this (nothing anyone remembers of a case is longer)."""


@dataclass(frozen=True)
class CaseHit:
    """A case found, and what it was found by (`reference`, `child`, `agency`, `task`)."""

    case: ReviewCase
    matched: tuple[str, ...]


def cleaned(text: str | None) -> str:
    """The search text as typed, without surrounding or repeated spaces ('' for nothing)."""
    return " ".join((text or "").split())[:MAX_TEXT]


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column: QueryableAttribute[str] | QueryableAttribute[str | None],
              text: str) -> ColumnElement[bool]:
    """`column` contains `text`, ignoring case (the same on SQLite and PostgreSQL)."""
    return func.lower(column).like(f"%{_escaped(text.lower())}%", escape="\\")


def agencies_matching(ctx: ServiceContext, text: str) -> list[str]:
    """The ids of the register's agencies whose name (or id, in words) contains `text`."""
    wanted = cleaned(text).lower()
    if not wanted:
        return []
    found, _problem = agencies.register_or_problem(ctx)
    if found is None:
        return []
    return [agency.id for agency in found.agencies
            if wanted in agency.name.lower() or wanted in agency.id.replace("_", " ")]


def _involves(agency_ids: list[str]) -> ColumnElement[bool]:
    """The case names one of the agencies (its `agencies` is a JSON list of ids)."""
    if not agency_ids:
        return false()
    text = cast(ReviewCase.agencies, String)
    return or_(*(text.like(f'%"{_escaped(agency)}"%', escape="\\") for agency in agency_ids))


def _task_titled(principal: Principal, text: str) -> ColumnElement[bool]:
    """The case has a task the principal may see whose title contains `text`."""
    return ReviewCase.reference.in_(
        select(HumanTask.business_key).where(HumanTask.business_key.is_not(None),
                                             _contains(HumanTask.title, text),
                                             policy.visible_tasks(principal)))


def cases(ctx: ServiceContext, principal: Principal, text: str, status: str | None = None,
          limit: int = 200) -> tuple[list[CaseHit], int]:
    """The cases the principal may read that match `text` (and have the `status`, if one is
    given), newest first, and how many match."""
    policy.require(principal, "read_cases")
    wanted = cleaned(text)
    if not wanted:
        return [], 0
    named = agencies_matching(ctx, wanted)
    by = {"reference": _contains(ReviewCase.reference, wanted),
          "child": _contains(ReviewCase.child_pseudonym, wanted),
          "agency": _involves(named),
          "task": _task_titled(principal, wanted)}
    with ctx.uow(read_only=True) as uow:
        query = select(ReviewCase).where(policy.visible_cases(principal), or_(*by.values()))
        if status:
            query = query.where(ReviewCase.status == status)
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        found = list(uow.session.scalars(query.order_by(ReviewCase.created_at.desc(),
                                                        ReviewCase.id.desc()).limit(limit)))
        titled = set(uow.session.scalars(
            select(HumanTask.business_key).where(
                HumanTask.business_key.in_([case.reference for case in found]),
                _contains(HumanTask.title, wanted), policy.visible_tasks(principal))
        )) if found else set()
    lowered = wanted.lower()
    hits = []
    for case in found:
        matched = [reason for reason, hit in (
            ("reference", lowered in case.reference.lower()),
            ("child", lowered in case.child_pseudonym.lower()),
            ("agency", any(agency in named for agency in case.agencies or [])),
            ("task", case.reference in titled)) if hit]
        hits.append(CaseHit(case, tuple(matched)))
    return hits, total


def task_condition(ctx: ServiceContext, principal: Principal, text: str) -> ColumnElement[bool]:
    """A SQL condition on `HumanTask`: the task matches `text` by its title, its case's
    reference, its case's child or an agency (the task's own, or one its case involves), the
    case being one the principal may read. Callers still restrict to visible tasks."""
    wanted = cleaned(text)
    named = agencies_matching(ctx, wanted)
    readable = select(ReviewCase.reference).where(
        policy.visible_cases(principal),
        or_(_contains(ReviewCase.child_pseudonym, wanted), _involves(named)))
    return or_(_contains(HumanTask.title, wanted),
               _contains(HumanTask.business_key, wanted),
               HumanTask.business_key.in_(readable),
               HumanTask.agency.in_(named) if named else false())
