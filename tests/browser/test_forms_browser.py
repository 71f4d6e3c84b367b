"""In a real browser, the forms as GOV.UK does them (issue 19, point 4): the error summary takes
focus and follows the page's order, the title starts "Error:", what was typed is kept, a
conditional question appears only when its answer needs it, and a form can be filled and sent
with the keyboard alone. axe-core checks every page in every state."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from app.auth.principal import SYSTEM
from app.services import cases, tasks
from app.services.context import ServiceContext
from tests.browser.conftest import assert_accessible, screenshot


def _refer(ctx: ServiceContext) -> str:
    referral = cases.Referral(child_pseudonym="Child F", agencies=["police", "health"],
                              incident_date=dt.date(2026, 2, 20),
                              summary="Child F was admitted to hospital with injuries.",
                              facts={"abuse_or_neglect": True, "seriously_harmed": True,
                                     "interagency_concern": "curiosity"})
    return cases.refer(ctx, SYSTEM, referral).case.reference


def _task_id(ctx: ServiceContext, reference: str, bpmn_id: str) -> str:
    rows, _ = tasks.list_tasks(ctx, SYSTEM, tasks.TaskFilter(state="ready",
                                                            business_key=reference),
                               "created_at", 100, 0)
    [task] = [row for row in rows if row.bpmn_id == bpmn_id]
    return str(task.id)


def _focused(page: Any) -> dict[str, str]:
    return dict(page.evaluate(
        "() => ({id: document.activeElement.id || '',"
        " cls: document.activeElement.className || '',"
        " tag: document.activeElement.tagName})"))


def _summary_links(page: Any) -> list[str]:
    return [str(href) for href in page.locator(".govuk-error-summary a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")]


def _assert_error_page(page: Any) -> None:
    page.wait_for_load_state()
    page.wait_for_function("() => document.title.startsWith('Error: ')")
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    page.wait_for_function(
        "() => document.activeElement && "
        "document.activeElement.classList.contains('govuk-error-summary')")


def test_referral_with_errors_keeps_what_was_typed_then_refers(live_ctx: ServiceContext,
                                                                 page_for: Any) -> None:
    page = page_for("bea.manager")
    page.goto("/ui/referrals/new")
    assert not page.title().startswith("Error")
    assert_accessible(page)
    page.get_by_label(re.compile("pseudonym")).fill("Child C")
    incident = page.get_by_role("group", name=re.compile("Date of the incident"))
    incident.get_by_label("Day").fill("31")
    incident.get_by_label("Month").fill("2")
    incident.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Refer the case").click()

    _assert_error_page(page)
    assert _summary_links(page) == ["#agencies", "#incident_date-day", "#summary"]
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Select at least one agency" in summary
    assert "Date of the incident must be a real date" in summary
    assert "Enter what happened" in summary
    assert page.get_by_label(re.compile("pseudonym")).input_value() == "Child C"
    assert incident.get_by_label("Day").input_value() == "31"
    assert incident.get_by_label("Year").input_value() == "2026"
    assert_accessible(page)
    screenshot(page, "forms-referral-with-errors")

    page.locator(".govuk-error-summary").get_by_role("link",
                                                     name="Select at least one agency").click()
    assert _focused(page)["id"] == "agencies"
    agencies = page.get_by_role("group", name=re.compile("Agencies involved"))
    agencies.get_by_label("Police", exact=True).check()
    agencies.get_by_label("Children's social care").check()
    incident.get_by_label("Day").fill("28")
    page.get_by_label("What happened").fill("Child C was found with injuries.")
    page.get_by_role("button", name="Refer the case").click()
    page.wait_for_url(re.compile(r".*/ui/cases/LIR-\d{4}-\d{4}.*"))
    reference = page.url.split("/ui/cases/")[1].split("?")[0]
    assert_accessible(page)
    case = cases.get(live_ctx, SYSTEM, reference).case
    assert case.child_pseudonym == "Child C"
    assert sorted(case.agencies) == ["childrens_social_care", "police"]
    assert case.incident_date == dt.date(2026, 2, 28)


def test_task_form_reveals_its_conditional_questions_and_shows_errors_in_page_order(
        live_ctx: ServiceContext, page_for: Any) -> None:
    reference = _refer(live_ctx)
    task_id = _task_id(live_ctx, reference, "screen_referral")
    page = page_for("pat.panel")
    page.goto(f"/ui/tasks/{task_id}")
    page.get_by_role("button", name="Claim the task").click()
    page.wait_for_selector("#notice")
    assert_accessible(page)
    reason = page.get_by_label(re.compile("Why the grade should change"))
    assert not reason.is_visible(), "asked only when the grade is not confirmed"
    confirm = page.get_by_role("radiogroup", name=re.compile("confirm the proposed grade"))
    confirm.get_by_label("No").check()
    assert reason.is_visible()
    assert page.get_by_label(re.compile("Grade you propose instead")).is_visible()
    assert_accessible(page)
    page.get_by_label(re.compile("Reasons for the recommendation")).fill("Agencies knew.")
    page.get_by_role("button", name="Submit").click()

    _assert_error_page(page)
    assert _summary_links(page) == ["#f-new_grade", "#f-grade_change_reason",
                                    "#f-recommended_route"]
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Select the grade you propose instead" in summary
    assert "Enter why the grade should change" in summary
    assert "Select the type of review recommended" in summary
    assert "is required" not in summary
    assert page.get_by_label(re.compile("Reasons for the recommendation")).input_value() == \
        "Agencies knew."
    assert reason.is_visible(), "the answer that needs it is still chosen"
    assert_accessible(page)
    screenshot(page, "forms-task-with-errors")

    page.get_by_label(re.compile("Grade you propose instead")).select_option("catastrophic")
    reason.fill("The injuries were worse than first reported.")
    page.get_by_role("radiogroup", name=re.compile("Type of review recommended")) \
        .get_by_label("Concise review").check()
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(f".*/ui/cases/{reference}.*"))
    assert_accessible(page)


def _tab_to(page: Any, element_id: str, limit: int = 60) -> None:
    """Press Tab until the element with this id has focus."""
    for _ in range(limit):
        if _focused(page)["id"] == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}; at {_focused(page)}")


def test_the_referral_form_with_the_keyboard_alone(live_ctx: ServiceContext,
                                                   page_for: Any) -> None:
    page = page_for("bea.manager")
    page.goto("/ui/referrals/new")
    _tab_to(page, "child_pseudonym")
    page.keyboard.type("Child K")
    page.keyboard.press("Enter")  # sends the form: what is missing is listed
    _assert_error_page(page)
    assert_accessible(page)
    page.keyboard.press("Tab")  # from the summary to its first link
    assert _focused(page)["tag"] == "A"
    page.keyboard.press("Enter")  # GOV.UK's summary moves focus to the field
    assert _focused(page)["id"] == "agencies"
    page.keyboard.press("Space")
    _tab_to(page, "incident_date-day")
    page.keyboard.type("20")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    page.keyboard.type("2026")
    _tab_to(page, "summary")
    page.keyboard.type("Child K was hurt at home.")
    _tab_to(page, "abuse_or_neglect")
    page.keyboard.press("Space")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == \
                "Refer the case":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/ui/cases/LIR-\d{4}-\d{4}.*"))
    reference = page.url.split("/ui/cases/")[1].split("?")[0]
    case = cases.get(live_ctx, SYSTEM, reference).case
    assert (case.child_pseudonym, list(case.agencies)) == ("Child K", ["police"])
    assert case.incident_date == dt.date(2026, 2, 20)
    assert_accessible(page)


def test_error_pages_say_what_is_needed_in_words(live_ctx: ServiceContext,
                                                 page_for: Any) -> None:
    page = page_for("pat.panel")
    response = page.goto("/ui/referrals/new")
    assert response is not None and response.status == 403
    main = page.locator("main").inner_text()
    assert "You need to be an agency lead, a board manager or an administrator to refer " \
           "cases" in main
    assert "board_manager" not in main and "agency_lead" not in main
    assert_accessible(page)
    response = page.goto("/ui/no-such-page")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    assert_accessible(page)
    page.goto("/ui/sessions")
    assert page.locator("h1").inner_text() == "Your sessions"
    assert_accessible(page)
