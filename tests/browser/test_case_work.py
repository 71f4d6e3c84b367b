"""In a real browser, the work done from a case page, each by its role: escalating a grade,
raising an urgent concern, reassigning a task, action progress and sign-off, the 7-minute
briefing. axe-core checks every page in every state, errors shown included."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.services import briefings, register
from app.services.context import ServiceContext
from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.test_inbox import commission_concise, refer
from tests.routes.driver import ACTION, FINDINGS


def in_review(ctx: ServiceContext) -> str:
    """A concise review whose agency reviews are being written."""
    reference = refer(ctx)
    commission_concise(ctx, reference)
    return reference


def with_outcome(ctx: ServiceContext, reference: str) -> None:
    """The review's findings and action plan recorded, as its end records them."""
    with ctx.uow() as uow:
        register.record(uow, reference, {"findings": FINDINGS, "recommendations": [
            {"recommendation": "Strengthen escalation", "actions": [ACTION]}]},
            ctx.clock.now())
        uow.commit()


def summary_text(page: Any) -> str:
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert page.title().startswith("Error: ")
    # GOV.UK Frontend moves the focus to the summary
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    return str(summary.inner_text())


def notice(page: Any) -> str:
    return str(page.locator("#notice").inner_text())


def test_panel_member_escalates_the_grade(live_ctx: ServiceContext, page_for: Any) -> None:
    reference = in_review(live_ctx)
    page = page_for("pat.panel")
    page.goto(f"/ui/cases/{reference}")
    assert "Police" in page.locator("#case-agencies").inner_text()
    assert page.locator("#case-deadlines .govuk-tag").count() >= 1
    assert_accessible(page)
    screenshot(page, "case-page")

    page.get_by_role("button", name="Escalate the grade").click()
    page.wait_for_url(f"**/ui/cases/{reference}/escalate")
    assert_accessible(page)
    page.get_by_role("button", name="Escalate the grade").click()
    text = summary_text(page)
    assert "Choose the grade to escalate the case to" in text
    assert "Enter why the grade should be escalated" in text
    assert text.index("Choose the grade") < text.index("Enter why")  # the page's order
    assert_accessible(page)
    screenshot(page, "case-escalate-errors")

    page.get_by_label("Why should the grade be escalated?").fill("Earlier injuries were found.")
    page.get_by_role("button", name="Escalate the grade").click()
    assert "Choose the grade" in summary_text(page)
    assert page.get_by_label("Why should the grade be escalated?").input_value() == \
        "Earlier injuries were found."
    page.get_by_label("Catastrophic").check()
    page.get_by_role("button", name="Escalate the grade").click()
    page.wait_for_url(re.compile(f".*/ui/cases/{reference}\\?.*"))
    assert f"The escalation of case {reference} to catastrophic was proposed" in notice(page)
    assert_accessible(page)


def test_agency_lead_raises_an_urgent_concern(live_ctx: ServiceContext, page_for: Any) -> None:
    reference = refer(live_ctx)
    page = page_for("pol.lead")
    page.goto(f"/ui/cases/{reference}")
    assert page.get_by_role("button", name="Escalate the grade").count() == 0  # not theirs
    page.get_by_role("button", name="Raise an urgent concern").click()
    page.wait_for_url(f"**/ui/cases/{reference}/concern")
    assert_accessible(page)
    page.get_by_role("button", name="Raise the concern").click()
    assert "Describe the urgent concern" in summary_text(page)
    assert_accessible(page)
    screenshot(page, "case-concern-errors")
    # by keyboard alone: from the summary's link to the field, then to the button
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Describe the urgent concern"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "description"
    page.keyboard.type("Child A's sibling was seen with bruises.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Raise the concern"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f".*/ui/cases/{reference}\\?.*"))
    assert notice(page) == f"An urgent concern was raised on case {reference}."
    assert_accessible(page)


def test_board_manager_reassigns_a_task(live_ctx: ServiceContext, page_for: Any) -> None:
    reference = refer(live_ctx)
    page = page_for("bea.manager")
    page.goto(f"/ui/cases/{reference}")
    row = page.locator("#case-tasks tbody tr").filter(has_text="Screen the referral")
    assert "Nobody yet" in row.inner_text()
    row.get_by_role("link", name=re.compile("Reassign")).click()
    page.wait_for_url(re.compile(r".*/tasks/.*/assign"))
    assert "Panel member" in page.locator("#task-summary").inner_text()
    assert_accessible(page)

    choices = page.get_by_role("group", name="Who should do the task?")
    assert [label.inner_text() for label in choices.locator("label").all()] == ["pat.panel"]
    page.get_by_role("button", name="Assign the task").click()
    assert "Select the person to give the task to" in summary_text(page)
    assert_accessible(page)
    screenshot(page, "case-assign-errors")

    page.get_by_label("pat.panel").check()
    page.get_by_role("button", name="Assign the task").click()
    page.wait_for_url(re.compile(f".*/ui/cases/{reference}\\?.*"))
    assert notice(page) == "The task “Screen the referral” was assigned to pat.panel."
    assert "pat.panel" in page.locator("#case-tasks tbody tr").filter(
        has_text="Screen the referral").inner_text()
    assert "Task assigned" in page.locator("#case-timeline").inner_text()
    assert_accessible(page)


def test_action_progress_by_its_agency_and_sign_off_by_the_panel(
        live_ctx: ServiceContext, page_for: Any) -> None:
    reference = refer(live_ctx)
    with_outcome(live_ctx, reference)
    lead = page_for("hel.lead")
    lead.goto(f"/ui/cases/{reference}")
    lead.locator("#case-actions").get_by_role("link", name=ACTION["action"]).click()
    lead.wait_for_url(re.compile(r".*/actions/\d+$"))
    assert "Health" in lead.locator("#action-summary").inner_text()
    assert_accessible(lead)

    lead.get_by_label("In progress").check()
    lead.get_by_label("Progress so far").fill("Half the health visitors are trained.")
    lead.get_by_role("button", name="Save progress").click()
    assert notice(lead) == "The action's progress was recorded."
    assert "Half the health visitors" in lead.locator("#action-summary").inner_text()

    lead.get_by_label("Completed").check()
    lead.get_by_role("button", name="Save progress").click()
    assert "Enter the evidence that the action is complete" in summary_text(lead)
    assert lead.get_by_label("Completed").is_checked()
    assert_accessible(lead)
    screenshot(lead, "case-action-errors")
    lead.get_by_label("Evidence that the action is complete").fill("Training records, 95%.")
    lead.get_by_role("button", name="Save progress").click()
    assert notice(lead) == "The action's progress was recorded."
    assert "Completed" in lead.locator("#action-summary").inner_text()
    assert_accessible(lead)
    action_url = lead.url.split("?")[0]

    panel = page_for("pat.panel")
    panel.goto(action_url)
    assert panel.get_by_role("button", name="Save progress").count() == 0  # not their agency
    assert_accessible(panel)
    panel.get_by_role("button", name="Sign off the action").click()
    assert notice(panel) == "The action was signed off."
    assert "Signed off" in panel.locator("#action-summary").inner_text()
    assert_accessible(panel)
    screenshot(panel, "case-action-signed-off")
    panel.goto(f"/ui/cases/{reference}")
    assert "Signed off" in panel.locator("#case-actions").inner_text()
    assert "Action signed off" in panel.locator("#case-timeline").inner_text()


def test_board_manager_generates_edits_and_publishes_a_briefing(
        live_ctx: ServiceContext, page_for: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = refer(live_ctx)
    page = page_for("bea.manager")
    page.goto(f"/ui/cases/{reference}")
    page.get_by_role("link", name="Generate the 7-minute briefing").click()
    page.wait_for_url(f"**/ui/cases/{reference}/briefing")
    assert_accessible(page)
    page.get_by_role("button", name="Generate a draft briefing").click()
    assert "The review has no findings yet" in summary_text(page)
    assert_accessible(page)

    with_outcome(live_ctx, reference)
    page.get_by_role("button", name="Generate a draft briefing").click()
    assert notice(page) == "A draft briefing was generated from the review's findings."
    assert "Concerns were not escalated" in page.get_by_label("Learning").input_value()
    assert_accessible(page)
    screenshot(page, "case-briefing-draft")

    page.get_by_label("Background").fill("")
    page.get_by_label("Reflective question 2").fill("")
    page.get_by_role("button", name="Save the draft").click()
    text = summary_text(page)
    assert text.index("Enter the background") < text.index("Enter the second reflective")
    assert_accessible(page)
    page.get_by_label("Background").fill("A concise learning review about Child A.")
    page.get_by_label("Reflective question 2").fill("How do you escalate a concern?")
    page.get_by_role("button", name="Save the draft").click()
    assert notice(page) == "Your changes to the briefing were saved."
    assert page.get_by_label("Background").input_value() == \
        "A concise learning review about Child A."

    page.get_by_role("button", name="Check and publish the briefing").click()
    text = summary_text(page)
    assert "Enter where the briefing is published" in text
    assert "Enter the date the briefing is published" in text
    assert_accessible(page)
    page.get_by_label("Where is it published?").fill("The Board's website")
    page.locator("[name=published_on-day]").fill("31")
    page.locator("[name=published_on-month]").fill("2")
    page.locator("[name=published_on-year]").fill("2027")
    page.get_by_role("button", name="Check and publish the briefing").click()
    assert "must be a real date" in summary_text(page)
    assert page.get_by_label("Where is it published?").input_value() == "The Board's website"

    # the identification check: the family's names refuse the publication
    monkeypatch.setattr(briefings, "family_names", lambda _ctx, _uow, _case: ["Child A"])
    page.locator("[name=published_on-day]").fill("1")
    page.get_by_role("button", name="Check and publish the briefing").click()
    assert "Replace the names of the family (Child A) with pseudonyms" in summary_text(page)
    assert_accessible(page)
    screenshot(page, "case-briefing-identified")
    monkeypatch.undo()

    page.get_by_role("button", name="Check and publish the briefing").click()
    assert notice(page) == "The briefing was checked and published."
    assert "The Board's website" in page.locator("#briefing-publication").inner_text()
    assert "1 February 2027" in page.locator("#briefing-publication").inner_text() or \
        "1 Feb 2027" in page.locator("#briefing-publication").inner_text()
    assert page.get_by_role("button", name="Save the draft").count() == 0
    assert_accessible(page)
    screenshot(page, "case-briefing-published")

    pdf = page.request.get(f"/ui/cases/{reference}/briefing.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    page.get_by_role("link", name=re.compile("printable page")).click()
    page.wait_for_url(f"**/ui/cases/{reference}/briefing.html")
    assert "7-minute briefing: Child A" in page.locator("h1").inner_text()

    lead = page_for("pol.lead")  # an agency of the case reads it, and cannot change it
    lead.goto(f"/ui/cases/{reference}/briefing")
    assert "Reflective questions" in lead.locator("main").inner_text()
    assert lead.get_by_role("button", name="Save the draft").count() == 0
    assert_accessible(lead)


def test_the_case_page_on_a_phone(live_ctx: ServiceContext, page_for: Any) -> None:
    reference = in_review(live_ctx)
    with_outcome(live_ctx, reference)
    page = page_for("bea.manager", width=390, height=844)
    page.goto(f"/ui/cases/{reference}")
    # the contents list leads to each section; nothing scrolls sideways but the diagrams
    page.get_by_role("link", name="Deadlines", exact=True).click()
    assert page.url.endswith("#deadlines")
    sideways = page.evaluate("""() => document.documentElement.scrollWidth -
                                      document.documentElement.clientWidth""")
    assert sideways <= 0
    assert page.locator("#case-deadlines td[data-label='Due']").first.is_visible()
    assert_accessible(page)
    screenshot(page, "case-page-phone")
