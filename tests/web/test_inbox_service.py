"""The inbox service: one list of everything a person can act on, claimed-by-me first, with
counts; on both backends."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.auth import users
from app.auth.principal import SYSTEM, Principal
from app.engine.definitions import SourceFile
from app.services import cases, deployments, inbox, tasks
from app.services.context import ServiceContext
from tests.browser.test_inbox import complete, to_agency_reviews
from tests.conftest import route_files

PAT = Principal("pat.panel", frozenset({"panel_member"}), None)
PIA = Principal("pia.panel", frozenset({"panel_member"}), None)
POL = Principal("pol.lead", frozenset({"agency_lead"}), "police")
HEL = Principal("hel.lead", frozenset({"agency_lead"}), "health")
CHRIS = Principal("chris.chair", frozenset({"chair"}), None)
BEA = Principal("bea.manager", frozenset({"board_manager"}), None)


def deploy(ctx: ServiceContext) -> None:
    """The routes, and a lead for police and for health (an agency review needs one)."""
    deployments.deploy(ctx, SYSTEM, [SourceFile(p.name, p.read_bytes())
                                     for p in route_files()])
    with ctx.uow() as uow:
        for lead in (POL, HEL):
            users.create(uow.session, lead.name, "a-long-test-password", sorted(lead.roles),
                         lead.agency, ctx.clock.now())
        uow.commit()


def refer(ctx: ServiceContext, child: str = "Child A",
          agencies: tuple[str, ...] = ("police", "health")) -> str:
    referral = cases.Referral(child_pseudonym=child, agencies=list(agencies),
                              incident_date=dt.date(2026, 2, 20),
                              summary=f"{child} was admitted to hospital with injuries.",
                              facts={"abuse_or_neglect": True, "seriously_harmed": True,
                                     "interagency_concern": "curiosity"})
    return cases.refer(ctx, SYSTEM, referral).case.reference


def ready(ctx: ServiceContext, reference: str) -> list[Any]:
    return tasks.list_tasks(ctx, SYSTEM, tasks.TaskFilter(state="ready", business_key=reference),
                            "created_at", 100, 0)[0]


def titles(found: inbox.Inbox) -> list[tuple[str, str | None]]:
    return [(row.task.title, row.task.business_key) for row in found.rows]


def test_a_panel_member_sees_their_work_and_keeps_what_they_claim(ctx: ServiceContext) -> None:
    deploy(ctx)
    first, second = refer(ctx), refer(ctx, "Child B")
    everything = inbox.load(ctx, PAT, inbox.InboxFilter())
    assert titles(everything) == [("Screen the referral", first),
                                  ("Screen the referral", second)]
    assert (everything.total, everything.counts["mine"]) == (2, 0)
    assert everything.routes == [("referral", 2)]

    [screening] = [t for t in ready(ctx, second) if t.bpmn_id == "screen_referral"]
    tasks.claim(ctx, PAT, screening.id)
    after = inbox.load(ctx, PAT, inbox.InboxFilter())
    assert titles(after) == [("Screen the referral", second),  # claimed by me: first
                             ("Screen the referral", first)]
    assert [row.mine for row in after.rows] == [True, False]
    assert (after.total, after.counts["mine"]) == (2, 1)
    assert titles(inbox.load(ctx, PAT, inbox.InboxFilter(mine=True))) == \
        [("Screen the referral", second)]
    # another panel member cannot act on it now: it leaves their inbox
    assert titles(inbox.load(ctx, PIA, inbox.InboxFilter())) == [("Screen the referral", first)]
    # a board manager sees every task but acts on none of these
    assert inbox.load(ctx, BEA, inbox.InboxFilter()).total == 0


def test_an_agency_lead_sees_their_agency_review_at_once(ctx: ServiceContext) -> None:
    deploy(ctx)
    reference = refer(ctx)
    to_agency_reviews(ctx, reference)
    police = inbox.load(ctx, POL, inbox.InboxFilter())
    assert [(row.task.title, row.task.agency) for row in police.rows] == \
        [("Write the agency review", "police")]
    assert police.rows[0].case is not None and police.rows[0].case.reference == reference
    health = inbox.load(ctx, HEL, inbox.InboxFilter())
    assert [row.task.agency for row in health.rows] == ["health"]


def test_filters_and_search_narrow_the_list_not_the_counts(ctx: ServiceContext,
                                                          clock: Any) -> None:
    deploy(ctx)
    first, second = refer(ctx), refer(ctx, "Baby Blue", ("childrens_social_care",))
    found = inbox.load(ctx, PAT, inbox.InboxFilter(text="baby"))
    assert titles(found) == [("Screen the referral", second)]
    assert (found.shown, found.total) == (1, 2)
    assert titles(inbox.load(ctx, PAT, inbox.InboxFilter(text="0001"))) == \
        [("Screen the referral", first)]
    assert titles(inbox.load(ctx, PAT, inbox.InboxFilter(text="children's social"))) == \
        [("Screen the referral", second)]
    assert inbox.load(ctx, PAT, inbox.InboxFilter(text="screen THE")).shown == 2
    assert inbox.load(ctx, PAT, inbox.InboxFilter(text="%")).shown == 0
    assert inbox.load(ctx, PAT, inbox.InboxFilter(routes=("concise_review",))).shown == 0
    assert inbox.load(ctx, PAT, inbox.InboxFilter(routes=("referral",))).shown == 2
    assert inbox.load(ctx, PAT, inbox.InboxFilter(overdue=True)).shown == 0

    complete(ctx, first, "screen_referral", {
        "grade_confirmed": True, "recommended_route": "concise", "recommendation_reason": "r"})
    endorsing = inbox.load(ctx, CHRIS, inbox.InboxFilter())
    [endorse] = endorsing.rows
    assert endorse.task.due_at is not None and not endorse.overdue
    assert (endorsing.counts["overdue"], endorsing.counts["week"]) == (0, 0)
    clock.set(endorse.task.due_at - dt.timedelta(days=2))
    assert inbox.load(ctx, CHRIS, inbox.InboxFilter(due_this_week=True)).shown == 1
    clock.set(endorse.task.due_at + dt.timedelta(minutes=1))
    late = inbox.load(ctx, CHRIS, inbox.InboxFilter(overdue=True))
    assert [row.overdue for row in late.rows] == [True]
    assert (late.counts["overdue"], late.total) == (1, 1)
