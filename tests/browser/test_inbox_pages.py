"""In a real browser: the one inbox (a police lead and a panel member see their work at once),
searching cases, and both pages on a phone (390 x 844); axe-core on every page and state."""

from __future__ import annotations

import re
from typing import Any

from app.auth.principal import Principal
from app.services import tasks
from app.services.context import ServiceContext
from tests.browser.conftest import assert_accessible, screenshot
from tests.web.test_inbox_service import ready, refer, to_agency_reviews

PAT = Principal("pat.panel", frozenset({"panel_member"}), None)
POL = Principal("pol.lead", frozenset({"agency_lead"}), "police")


def rows(page: Any) -> list[str]:
    return [row.inner_text() for row in page.locator("#inbox-tasks tbody tr").all()]


def claim(ctx: ServiceContext, principal: Principal, reference: str, bpmn_id: str) -> None:
    [task] = [t for t in ready(ctx, reference) if t.bpmn_id == bpmn_id
              and (t.agency is None or t.agency == principal.agency)]
    tasks.claim(ctx, principal, task.id)


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways: {width}px"


def test_a_police_lead_sees_their_agency_review_at_once(live_ctx: ServiceContext,
                                                        page_for: Any) -> None:
    reference = refer(live_ctx)
    to_agency_reviews(live_ctx, reference)
    page = page_for("pol.lead")
    [row] = rows(page)  # no tab to open: the inbox is their work
    assert "Write the agency review" in row and reference in row and "Police" in row
    assert "Nobody yet" in row and "health" not in row.lower()
    assert "You have 1 task to do" in page.locator("#inbox-summary").inner_text()
    assert_accessible(page)
    screenshot(page, "inbox-police-lead")

    claim(live_ctx, POL, reference, "write_agency_review")
    page.reload()
    [row] = rows(page)
    assert "You" in row.split("\t")[-1]
    page.get_by_label("Claimed by me (1)").check()
    page.get_by_role("button", name="Apply filters").click()
    assert page.get_by_label("Claimed by me (1)").is_checked()
    assert len(rows(page)) == 1
    assert "1 of 1 task match the filters" in page.locator("#inbox-tasks caption").inner_text()
    assert_accessible(page)


def test_a_panel_member_keeps_what_they_claim_first(live_ctx: ServiceContext,
                                                    page_for: Any) -> None:
    first, second = refer(live_ctx), refer(live_ctx, "Baby Blue", ("childrens_social_care",))
    page = page_for("pat.panel")
    assert [r.split("\t")[1].split()[0] for r in rows(page)] == [first, second]
    assert_accessible(page)

    claim(live_ctx, PAT, second, "screen_referral")
    page.reload()
    listed = rows(page)
    assert second in listed[0] and "You" in listed[0]  # claimed by me: first, still here
    assert first in listed[1] and "Nobody yet" in listed[1]
    assert page.get_by_label("Claimed by me (1)").count() == 1
    assert page.get_by_label("Referral (2)").count() == 1
    screenshot(page, "inbox-panel-member")

    page.get_by_label("Search your tasks").fill("baby blue")
    page.get_by_role("button", name="Apply filters").click()
    [only] = rows(page)
    assert second in only
    assert page.get_by_label("Search your tasks").input_value() == "baby blue"
    assert_accessible(page)
    page.get_by_label("Search your tasks").fill("no such thing")
    page.get_by_role("button", name="Apply filters").click()
    assert "No task matches these filters" in page.locator("#inbox-empty").inner_text()
    assert_accessible(page)
    page.get_by_label("Search your tasks").fill("0001")
    page.get_by_role("button", name="Apply filters").click()
    page.get_by_role("link", name=re.compile("Search all cases for")).click()
    page.wait_for_url(re.compile(r".*/ui/cases\?q=0001"))
    assert first in page.locator("#case-list").inner_text()
    assert_accessible(page)


def test_searching_cases(live_ctx: ServiceContext, page_for: Any) -> None:
    first, second = refer(live_ctx), refer(live_ctx, "Baby Blue", ("childrens_social_care",))
    page = page_for("bea.manager")
    page.get_by_role("link", name="Cases").first.click()
    page.wait_for_url(re.compile(r".*/ui/cases$"))
    assert_accessible(page)

    def search(text: str) -> str:
        page.get_by_label("Search cases").fill(text)
        page.get_by_role("button", name="Search").click()
        page.wait_for_load_state()
        return page.locator("main").inner_text()

    for text in ("lir-2026-0002", "0002"):
        shown = search(text)
        assert second in shown and first not in shown, text
        assert "Case reference" in page.locator("#case-list tbody").inner_text()
    assert_accessible(page)
    shown = search("Baby Blue")
    assert second in shown and first not in shown
    shown = search("Children's social care")
    assert second in shown and first not in shown
    shown = search("screen the referral")
    assert first in shown and second in shown and "Task" in shown
    assert page.get_by_label("Search cases").input_value() == "screen the referral"
    shown = search("LIR-9999")
    assert "No case matches \N{LEFT SINGLE QUOTATION MARK}LIR-9999" in shown
    assert_accessible(page)
    screenshot(page, "cases-search")

    police = page_for("pol.lead")
    police.goto("/ui/cases?q=0002")
    assert "No case matches" in police.locator("main").inner_text()  # not theirs to read
    police.goto("/ui/cases?q=0001")
    assert first in police.locator("#case-list").inner_text()
    assert_accessible(police)


def test_the_inbox_and_the_case_list_on_a_phone(live_ctx: ServiceContext,
                                                page_for: Any) -> None:
    refer(live_ctx)
    second = refer(live_ctx, "Baby Blue", ("childrens_social_care",))
    page = page_for("pat.panel", width=390, height=844)
    filters = page.locator("#inbox-filters")
    assert not filters.is_visible()  # folded away: the work comes first
    assert page.locator("#inbox-tasks").is_visible()
    no_sideways_scroll(page)
    assert_accessible(page)
    screenshot(page, "inbox-phone")

    page.get_by_role("button", name="Show filters").click()
    assert filters.is_visible()
    assert_accessible(page)
    screenshot(page, "inbox-phone-filters")
    page.get_by_label("Search your tasks").fill("0002")
    page.get_by_role("button", name="Apply filters").click()
    assert not filters.is_visible()
    [row] = rows(page)
    assert second in row
    assert page.get_by_role("button", name="Show filters (1 applied)").is_visible()
    no_sideways_scroll(page)
    assert_accessible(page)

    page.goto("/ui/cases")
    # the table reflows: each row a block, each value led by its column's name
    cell = page.locator("#case-list tbody tr").first.locator("td").first
    assert cell.evaluate("td => getComputedStyle(td).display") == "block"
    assert page.locator("#case-list thead").bounding_box()["height"] <= 1  # visually hidden
    no_sideways_scroll(page)
    assert_accessible(page)
    screenshot(page, "cases-phone")

    wide = page_for("pat.panel")
    assert wide.locator("#inbox-filters").is_visible()  # from tablet width up: always shown
    assert not wide.get_by_role("button", name="Show filters").is_visible()
