"""In a real browser: a panel member screens a referral; an agency lead sees only their own work."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from app.auth.principal import SYSTEM
from app.services import cases, messages, tasks
from app.services.context import ServiceContext
from tests.browser.conftest import screenshot
from tests.routes.driver import REVIEW_TEAM


def refer(ctx: ServiceContext, **facts: Any) -> str:
    referral = cases.Referral(child_pseudonym="Child A", agencies=["police", "health"],
                              incident_date=dt.date(2026, 2, 20),
                              summary="Child A was admitted to hospital with injuries.",
                              facts={"abuse_or_neglect": True, "seriously_harmed": True,
                                     "interagency_concern": "curiosity", **facts})
    return cases.refer(ctx, SYSTEM, referral).case.reference


def complete(ctx: ServiceContext, reference: str, bpmn_id: str, data: dict,
             agency: str | None = None) -> None:
    rows, _ = tasks.list_tasks(ctx, SYSTEM, tasks.TaskFilter(state="ready",
                                                            business_key=reference),
                               "created_at", 100, 0)
    [task] = [t for t in rows if t.bpmn_id == bpmn_id and (agency is None or t.agency == agency)]
    from app.auth.principal import Principal

    worker = Principal("driver", frozenset({task.lane or ""}), task.agency)
    tasks.complete(ctx, worker, task.id, data)


def commission_concise(ctx: ServiceContext, reference: str) -> None:
    """Screened as a concise review, endorsed, and its terms of reference agreed."""
    complete(ctx, reference, "screen_referral", {
        "grade_confirmed": True, "recommended_route": "concise", "recommendation_reason": "r"})
    complete(ctx, reference, "endorse_review", {"endorsement": "endorse"})
    complete(ctx, reference, "agree_terms_of_reference", {
        "terms_of_reference": "t", "overview_author_involved": True, "methodology": "welsh_model",
        "review_team": REVIEW_TEAM,
        "participating_agencies": [{"agency": "police", "writes_agency_review": True},
                                   {"agency": "health", "writes_agency_review": True}],
        "period_from": "2025-01-01", "period_to": "2026-02-20"})


def to_agency_reviews(ctx: ServiceContext, reference: str) -> None:
    """Commissioned and planned: police and health each write an agency review."""
    commission_concise(ctx, reference)
    complete(ctx, reference, "decide_involvement", {
        "family_involved": True, "staff_involved": True,
        "staff_involvement": ["direct_discussion"]})
    complete(ctx, reference, "plan_publication", {
        "readership": "whole", "publication_plan": "web", "agency_reviews_due": "2026-05-01",
        "report_due": "2026-07-01", "publication_due": "2026-09-01"})


def test_panel_member_screens_a_referral(live_ctx: ServiceContext, page_for: Any) -> None:
    reference = refer(live_ctx)
    page = page_for("pat.panel")
    assert page.locator("#signed-in-as").inner_text() == "pat.panel"
    row = page.get_by_role("row").filter(has_text=reference)
    assert "Screen the referral" in row.inner_text()
    screenshot(page, "inbox")

    page.get_by_role("link", name="Screen the referral").click()
    page.wait_for_url(re.compile(r".*/ui/tasks/.*"))
    assert reference in page.locator(".case-header").inner_text()
    assert "severe" in page.locator(".case-header").inner_text()
    page.get_by_role("radiogroup", name=re.compile("confirm the proposed grade")) \
        .get_by_label("No").check()
    page.get_by_role("radiogroup", name=re.compile("Type of review recommended")) \
        .get_by_label("Concise review").check()
    page.get_by_label(re.compile("Reasons for the recommendation")).fill("Agencies knew.")
    page.get_by_role("button", name="Submit").click()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    reason = page.get_by_label(re.compile("Why the grade should change"))
    assert reason.get_attribute("aria-invalid") == "true"
    described = reason.get_attribute("aria-describedby") or ""
    assert "enter why the grade should change" in \
        page.locator(f"#{described.split()[0]}").inner_text().lower()
    assert page.get_by_label(re.compile("Reasons for the recommendation")).input_value() == \
        "Agencies knew."
    screenshot(page, "task-form-with-errors")

    page.get_by_label(re.compile("Grade you propose instead")).select_option("catastrophic")
    reason.fill("The child's injuries were worse than first reported.")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(f".*/ui/cases/{reference}.*"))
    assert page.locator("#case-status").inner_text() == "awaiting national panel"
    timeline = page.locator("#case-timeline").inner_text()
    assert "Task completed" in timeline and "Screen the referral" in timeline
    diagram = page.locator("#case-diagram-1")  # the referral's diagram
    notified = diagram.locator("#el-notify_national_panel").get_attribute("class") or ""
    assert "completed" in notified
    assert "completed" in (diagram.locator("#el-screen_referral").get_attribute("class") or "")
    screenshot(page, "case")


def test_agency_lead_sees_only_their_agency(live_ctx: ServiceContext, page_for: Any) -> None:
    reference = refer(live_ctx)
    to_agency_reviews(live_ctx, reference)
    health_task = next(t for t in tasks.list_tasks(
        live_ctx, SYSTEM, tasks.TaskFilter(state="ready", business_key=reference),
        "created_at", 100, 0)[0] if t.agency == "health")

    page = page_for("pol.lead")
    rows = page.locator("#inbox-tasks tbody tr")  # their agency's work, at once: no tab
    assert rows.count() == 1
    assert "Police" in rows.first.inner_text()
    assert "health" not in rows.first.inner_text().lower()
    response = page.goto(f"/ui/tasks/{health_task.id}")
    # Another agency's task answers as one that does not exist: its id discloses nothing.
    assert response is not None and response.status == 404
    assert f"No task with id '{health_task.id}'" in page.locator("main").inner_text()

    page.goto("/ui/inbox")
    page.get_by_role("link", name="Write the agency review").click()
    page.get_by_role("button", name="Claim the task").click()
    assert "Claimed by pol.lead" in page.locator(".meta").inner_text()
    rows_before = page.locator("[id^='f-chronology-'][id$='-date']").count()
    page.get_by_role("button", name=re.compile("^Add", re.IGNORECASE)).first.click()
    assert page.locator("[id^='f-chronology-'][id$='-date']").count() == rows_before + 1
    assert page.get_by_role("button", name="Submit").is_visible()
    page.goto(f"/ui/cases/{reference}")
    timeline = page.locator("#case-timeline").inner_text()
    assert "health" not in timeline.lower()
    assert page.locator("#case-diagrams").count() == 0  # agency leads do not see the process


def test_narrow_screen_and_login_errors(page_for: Any, browser: Any, server: str) -> None:
    page = page_for("bea.manager", width=360)
    assert page.locator("#signed-in-as").is_visible()
    screenshot(page, "inbox-narrow")
    context = browser.new_context(base_url=server)
    anonymous = context.new_page()
    anonymous.goto("/ui/inbox")
    assert anonymous.url.endswith("/ui/login?next=/ui/inbox")
    anonymous.get_by_label("User name").fill("bea.manager")
    anonymous.get_by_label("Password").fill("wrong password")
    anonymous.get_by_role("button", name="Sign in").click()
    assert "not right" in anonymous.locator(".govuk-error-summary").inner_text()
    context.close()


def test_referral_to_the_chairs_endorsement_in_the_browser(live_ctx: ServiceContext,
                                                            page_for: Any) -> None:
    manager = page_for("bea.manager")
    manager.get_by_role("link", name="Refer a case").click()
    manager.get_by_role("button", name="Refer the case").click()
    assert "Enter the child's pseudonym" in \
        manager.locator(".govuk-error-summary").inner_text()
    manager.get_by_label(re.compile("pseudonym")).fill("Child B")
    agencies = manager.get_by_role("group", name=re.compile("Agencies involved"))
    agencies.get_by_label("Police", exact=True).check()
    agencies.get_by_label(re.compile("^Health")).check()
    incident = manager.get_by_role("group", name=re.compile("Date of the incident"))
    incident.get_by_label("Day").fill("20")
    incident.get_by_label("Month").fill("2")
    incident.get_by_label("Year").fill("2026")
    manager.get_by_label(re.compile("What happened")).fill("Child B was found with injuries.")
    manager.get_by_label("Abuse or neglect is known or suspected").check()
    manager.get_by_label("The child was seriously harmed").check()
    manager.get_by_role("group", name=re.compile("Concern about how agencies worked together")) \
        .get_by_label("Concern", exact=True).check()
    manager.get_by_role("button", name="Refer the case").click()
    manager.wait_for_url(re.compile(r".*/ui/cases/LIR-\d{4}-\d{4}.*"))
    reference = manager.url.split("/ui/cases/")[1].split("?")[0]
    assert "Catastrophic" in manager.locator("#case-summary").inner_text()

    panel = page_for("pat.panel")
    panel.goto(f"/ui/inbox?case={reference}")
    panel.get_by_role("link", name="Screen the referral").click()
    panel.get_by_role("radiogroup", name=re.compile("confirm the proposed grade")) \
        .get_by_label("Yes").check()
    panel.get_by_role("radiogroup", name=re.compile("Type of review recommended")) \
        .get_by_label("Extended review (SCR)").check()
    panel.get_by_label(re.compile("Reasons for the recommendation")).fill("SCR criteria met.")
    panel.get_by_role("button", name="Submit").click()
    panel.wait_for_url(re.compile(f".*/ui/cases/{reference}.*"))

    # a statutory case: the national panel is consulted before the chair decides
    assert panel.locator("#case-status").inner_text() == "awaiting national panel"
    assert "Not yet decided" in panel.locator("#case-scr").inner_text()
    messages.deliver(live_ctx, SYSTEM, "national_panel_advice", reference, {
        "advice": "A Serious Case Review is needed.", "advice_recommendation": "hold_scr"})

    chair = page_for("chris.chair")
    chair.goto(f"/ui/inbox?case={reference}")
    chair.get_by_role("link", name="Decide whether to hold a Serious Case Review").click()
    assert "A Serious Case Review is needed." in chair.locator("main").inner_text()
    chair.get_by_role("radiogroup", name=re.compile("Your decision")) \
        .get_by_label("Do not hold a Serious Case Review").check()
    chair.get_by_label(re.compile("reasons for not holding")).fill(
        "It is clear there were no concerns about how the agencies worked together.")
    chair.get_by_role("radiogroup", name=re.compile("review to hold instead")) \
        .get_by_label("Concise review").check()
    chair.get_by_role("button", name="Submit").click()
    assert "differs from" in chair.locator(".govuk-error-summary").inner_text()
    chair.get_by_label(re.compile("differs from the national panel")).fill(
        "The injuries were shared and acted on at the time.")
    chair.get_by_role("button", name="Submit").click()
    chair.wait_for_url(re.compile(f".*/ui/cases/{reference}.*"))
    assert "Not held: It is clear there were no concerns" in \
        chair.locator("#case-scr").inner_text()
    assert "Decision recorded" in chair.locator("#case-timeline").inner_text()
