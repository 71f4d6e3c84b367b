"""The publication and learning-event registers in the browser (issue 19, point 3): a board
manager adds a publication, a reviewer a learning event, both GOV.UK forms that keep what was
typed when they refuse it."""

from __future__ import annotations

import re
from typing import Any

from app.auth.principal import SYSTEM
from app.db.models import AppUser
from app.services import learning
from app.services.context import ServiceContext
from tests.browser.conftest import assert_accessible, screenshot
from tests.browser.test_inbox import refer


def test_board_manager_adds_a_publication(live_ctx: ServiceContext, page_for: Any) -> None:
    reference = refer(live_ctx)
    for width in (1280, 320):
        page = page_for("bea.manager", width=width, height=800)
        page.goto("/ui/registers")
        assert page.locator("h1").inner_text() == "Registers"
        assert_accessible(page)
        page.get_by_role("link", name="Add a publication").click()
        page.wait_for_url("**/ui/registers/publications/new")
        assert_accessible(page)

        # refused: what was typed stays, the summary lists what to do in the page's order
        page.get_by_label("Case reference").fill("LIR-1999-0099")
        page.get_by_label("Title").fill(f"Learning from {reference}")
        page.get_by_role("button", name="Add the publication").click()
        summary = page.locator(".govuk-error-summary")
        assert summary.is_visible()
        assert page.title().startswith("Error: ")
        items = summary.locator("li").all_inner_texts()
        assert items[0] == "Select what was published"
        assert "Enter the date it was published" in items
        assert page.get_by_label("Title").input_value() == f"Learning from {reference}"
        assert page.evaluate("() => document.activeElement.classList"
                             ".contains('govuk-error-summary')")
        assert_accessible(page)

        page.get_by_label("Review report").check()
        page.get_by_label("Day", exact=True).fill("2")
        page.get_by_label("Month", exact=True).fill("3")
        page.get_by_label("Year", exact=True).fill("2026")
        page.get_by_label("Where it was published").fill("https://board.example/reports")
        page.get_by_role("button", name="Add the publication").click()
        # the case reference does not exist: said in a sentence, beside the field
        assert "No case has the reference LIR-1999-0099" in \
            page.locator(".govuk-error-summary").inner_text()
        assert page.get_by_label("Day", exact=True).input_value() == "2"
        assert_accessible(page)

        page.get_by_label("Case reference").fill(reference.lower())
        page.get_by_role("button", name="Add the publication").click()
        page.wait_for_url(re.compile(r".*/ui/registers\?notice=.*"))
        banner = page.locator(".govuk-notification-banner")
        assert "was added to the publication register" in banner.inner_text()
        row = page.locator("#publication-register tbody tr").filter(
            has_text=f"Learning from {reference}").first
        assert "2 March 2026" in row.inner_text() and "Review report" in row.inner_text()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width + 1
        assert_accessible(page)
        screenshot(page, f"registers-{width}")
    rows, total = learning.list_publications(live_ctx, SYSTEM, reference, None, None, 10, 0)
    assert total == 2 and rows[0].kind == "report"


def test_reviewer_adds_a_learning_event(live_ctx: ServiceContext, page_for: Any) -> None:
    from app.auth import users

    with live_ctx.uow() as uow:
        if uow.session.query(AppUser).filter_by(name="rev.iewer").first() is None:
            users.create(uow.session, "rev.iewer", "a-long-test-password", ["reviewer"], None,
                         live_ctx.clock.now())
            uow.commit()
    page = page_for("rev.iewer")
    page.goto("/ui/registers")
    assert page.get_by_role("link", name="Add a publication").count() == 0  # board managers'
    page.get_by_role("link", name="Add a learning event").click()
    page.wait_for_url("**/ui/registers/learning-events/new")
    assert_accessible(page)

    page.get_by_label("Purpose").fill("Share the learning on professional curiosity")
    page.get_by_role("button", name="Add the learning event").click()
    summary = page.locator(".govuk-error-summary")
    assert summary.locator("li").all_inner_texts() == [
        "Enter the date the event was held", "Select the kind of event",
        "Enter how many people attended from at least one agency",
        "Enter what the event produced or what people learnt"]
    assert page.get_by_label("Purpose").input_value() == \
        "Share the learning on professional curiosity"
    assert_accessible(page)

    page.get_by_label("Day", exact=True).fill("12")
    page.get_by_label("Month", exact=True).fill("2")
    page.get_by_label("Year", exact=True).fill("2026")
    page.get_by_label("Multi-agency forum").check()
    page.locator("#attendance-police").fill("4")
    page.locator("#attendance-health").fill("3")
    page.get_by_label("What the event produced or what people learnt").fill(
        "A seven-minute briefing for front-line staff.")
    page.get_by_role("button", name="Add the learning event").click()
    page.wait_for_url(re.compile(r".*/ui/registers\?notice=.*"))
    assert "multi-agency forum held on 12 February 2026 was added" in \
        page.locator(".govuk-notification-banner").inner_text()
    row = page.locator("#learning-event-register tbody tr").first
    text = row.inner_text()
    assert "12 February 2026" in text and "Multi-agency forum" in text
    assert "police" not in text and "4" in text
    assert_accessible(page)
    rows, total = learning.list_events(live_ctx, SYSTEM, None, None, None, 10, 0)
    assert total == 1 and rows[0].attendance == {"police": 4, "health": 3}
