"""The annual report and the PMF as pages of the service, with the session (issue 19, points
3 and 8): no bearer token, no raw JSON, reflowing at 320 px."""

from __future__ import annotations

from typing import Any

from app.auth.principal import SYSTEM
from app.services import reports
from app.services.context import ServiceContext
from tests.browser.conftest import assert_accessible, screenshot
from tests.reports import YEAR, seed_year


def _no_sideways_scroll(page: Any, width: int) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width + 1


def test_reports_as_pages_at_1280_and_320(live_ctx: ServiceContext, page_for: Any) -> None:
    seed_year(live_ctx)
    expected = reports.annual(live_ctx, SYSTEM, YEAR)
    rows = reports.pmf(live_ctx, SYSTEM, YEAR)
    for width, height in ((1280, 900), (320, 640)):
        page = page_for("bea.manager", width=width, height=height)
        page.goto("/ui/reports")
        assert page.locator("h1").inner_text() == "Reports"
        assert_accessible(page)
        _no_sideways_scroll(page, width)

        page.get_by_role("link", name="Annual report").first.click()
        page.wait_for_url("**/ui/reports/annual?year=*")
        page.select_option("#year", str(YEAR))
        page.get_by_role("button", name="Show the year").click()
        page.wait_for_url(f"**/ui/reports/annual?year={YEAR}")
        assert page.title().startswith(f"Annual report {YEAR}")
        assert page.locator("h1").inner_text() == f"Annual report {YEAR}"
        for name, value in {"referrals": expected.reviews.total,
                            "actions": expected.actions.totals.total,
                            "overdue-actions": expected.actions.totals.overdue,
                            "publications": expected.publications.total,
                            "learning-events": expected.learning_events.total}.items():
            assert page.locator(f"#figure-{name}").inner_text() == str(value)
        assert page.locator("svg.chart").count() == 8
        for index in range(page.locator("svg.chart").count()):
            box = page.locator("svg.chart").nth(index).bounding_box()
            assert box is not None and box["width"] <= width
        # wide tables scroll inside their own region, which the keyboard can reach
        regions = page.locator(".rf-table-region")
        assert regions.count() >= 5
        assert regions.first.get_attribute("tabindex") == "0"
        assert "police" not in page.locator("#actions-by-agency").inner_text()
        _no_sideways_scroll(page, width)
        assert_accessible(page)
        screenshot(page, f"report-annual-{width}")

        page.get_by_role("link", name="see the performance management framework").click()
        page.wait_for_url(f"**/ui/reports/pmf?year={YEAR}")
        assert page.locator("h1").inner_text() == f"Performance management framework {YEAR}"
        table = page.locator("#pmf-table")
        assert table.locator("tbody tr").count() == len(rows)
        first = table.locator("tbody tr").first.locator("td")
        assert [first.nth(i).inner_text() for i in range(5)] == \
            [str(v) for v in [*rows[0].quarters, rows[0].year]]
        assert "Reviews" in table.locator("tbody tr").first.locator("th").inner_text()
        assert "_" not in table.inner_text()
        _no_sideways_scroll(page, width)
        assert_accessible(page)
        screenshot(page, f"report-pmf-{width}")


def test_an_agency_lead_is_told_the_report_is_not_theirs(live_ctx: ServiceContext,
                                                        page_for: Any) -> None:
    page = page_for("pol.lead")
    response = page.goto("/ui/reports/annual")
    assert response is not None and response.status == 403
    assert_accessible(page)
