"""In a real browser: the annual report page renders its charts and key figures, and prints."""

from __future__ import annotations

from typing import Any

from app.auth import tokens
from app.auth.principal import SYSTEM
from app.rendering.report_prose import progress_summary
from app.services import reports
from app.services.context import ServiceContext
from tests.browser.conftest import screenshot
from tests.reports import YEAR, seed_year


def test_annual_report_page_renders_charts_and_figures(live_ctx: ServiceContext, server: str,
                                                       browser: Any) -> None:
    seed_year(live_ctx)
    with live_ctx.uow() as uow:
        token = tokens.create(uow.session, "bea.manager-reports", ["board_manager"], None,
                              live_ctx.clock.now())
        uow.commit()
    # the live server's clock is the wall clock, so the expected figures are computed for today
    expected = reports.annual(live_ctx, SYSTEM, YEAR)
    summary = progress_summary(expected)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
    try:
        page = context.new_page()
        page.set_extra_http_headers({"Authorization": f"Bearer {token}"})
        # no format: a browser asks for text/html, so the page is what it gets
        response = page.goto(f"/api/v1/reports/annual?year={YEAR}")
        assert response is not None and response.status == 200
        assert response.headers["content-type"].startswith("text/html")
        assert page.title() == f"Annual report {YEAR}: learning and improvement reviews"

        charts = page.locator('svg[role="img"]')
        assert charts.count() == 8
        for index in range(charts.count()):
            chart = charts.nth(index)
            assert chart.is_visible()
            labelled = (chart.get_attribute("aria-labelledby") or "").split()
            assert len(labelled) == 2
            assert page.locator(f"#{labelled[0]}").text_content()
            assert page.locator(f"#{labelled[1]}").text_content()
            box = chart.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 30
        grade_bars = page.locator("#chart-grade rect")
        assert grade_bars.count() == len(expected.reviews.by_grade)
        assert float(page.locator("#chart-grade rect").first.get_attribute("width") or 0) > 0
        assert page.locator("#chart-actions rect.segment.overdue").count() == \
            sum(1 for c in expected.actions.by_agency.values() if c.overdue)

        figures = {"referrals": expected.reviews.total,
                   "actions": expected.actions.totals.total,
                   "overdue-actions": expected.actions.totals.overdue,
                   "recurring-themes": len(expected.themes.recurring),
                   "publications": expected.publications.total,
                   "learning-events": expected.learning_events.total}
        for name, value in figures.items():
            assert page.locator(f"#figure-{name}").inner_text() == str(value), name
        assert (figures["referrals"], figures["publications"], figures["learning-events"]) == \
            (7, 3, 4)
        assert page.locator("#progress-summary").inner_text() == summary
        assert f"In {YEAR} the Board received 7 referrals" in summary

        overdue = page.locator("#overdue-actions tbody tr")
        assert overdue.count() == len(expected.actions.overdue) >= 3
        first = overdue.first.inner_text()
        assert expected.actions.overdue[0].case_reference in first
        assert str(expected.actions.overdue[0].days_overdue) in first
        recurring = page.locator("#recurring-themes li").all_inner_texts()
        assert [text.split(":")[0] for text in recurring] == \
            ["information sharing", "professional curiosity", "voice of the child"]
        screenshot(page, "annual-report")

        page.emulate_media(media="print")
        assert not page.locator(".downloads").is_visible()
        assert page.locator("#chart-timeliness").is_visible()
    finally:
        context.close()
