"""The case's diagrams (issue 19, point 7): the referral's and its review route's own, each
in a region keyboard users reach, with the steps so far as text beside it."""

from __future__ import annotations

from typing import Any

from lxml import etree

from app.auth.principal import Principal
from app.rendering.diagram_case import case_diagrams
from app.services.context import ServiceContext
from app.web.templating import TEMPLATES
from tests.browser.conftest import WCAG_22_AA, assert_accessible, screenshot
from tests.browser.test_inbox import complete, refer

CHAIR = Principal("chris.chair", frozenset({"chair"}), None)
POLICE_LEAD = Principal("pol.lead", frozenset({"agency_lead"}), "police")


def in_concise_review(ctx: ServiceContext) -> str:
    reference = refer(ctx)
    complete(ctx, reference, "screen_referral", {
        "grade_confirmed": True, "recommended_route": "concise",
        "recommendation_reason": "The sub-group recommends a concise review."})
    complete(ctx, reference, "endorse_review", {"endorsement": "endorse"})
    return reference


def test_case_diagrams_are_the_referral_and_its_route(live_ctx: ServiceContext) -> None:
    reference = in_concise_review(live_ctx)
    found = case_diagrams(live_ctx, CHAIR, reference)
    assert len(found) == 2
    referral, route = found
    assert "concise" in route.title.lower()
    assert ("Screen the referral", "done") in referral.steps
    assert any(state == "in progress" for _name, state in referral.steps)  # the call activity
    assert any(state == "in progress" for _name, state in route.steps)
    done = [state for _name, state in referral.steps]
    assert done == sorted(done, key=["done", "in progress", "waiting"].index)
    for item in found:
        assert item.svg.startswith("<svg") and 'data-state="active"' in item.svg
        shown = etree.fromstring(item.svg.encode())
        for style in shown.iter("{http://www.w3.org/2000/svg}style"):
            style.text = ""
        assert "board_manager" not in " ".join(shown.itertext())  # lanes in words
    # an agency lead sees the case but no diagram
    assert case_diagrams(live_ctx, POLICE_LEAD, reference) == []


def assert_panel_accessible(page: Any) -> None:
    """axe-core's WCAG 2.2 AA rules on the panel alone."""
    result = page.evaluate(
        "async (tags) => await axe.run({include: [['#case-diagrams']]},"
        " {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA)
    assert [v["id"] for v in result["violations"]] == []


def _panel(page: Any, ctx: ServiceContext, reference: str) -> None:
    """The case page with the panel: included by the case page, or put where it goes."""
    if page.locator("#case-diagrams").count():
        return
    html = TEMPLATES.env.get_template("diagram_panel.html").render(
        case_diagrams=case_diagrams(ctx, CHAIR, reference))
    # in place of the page's old diagram, which the panel replaces
    page.evaluate("""html => {
        document.querySelectorAll('#case-diagram, p.legend').forEach(el => el.remove());
        document.querySelector('main').insertAdjacentHTML('beforeend', html);
    }""", html)


def test_diagram_panel_is_reachable_and_described(live_ctx: ServiceContext,
                                                  page_for: Any) -> None:
    reference = in_concise_review(live_ctx)
    for width, height in ((1280, 900), (320, 700)):
        page = page_for("chris.chair", width=width, height=height)
        page.goto(f"/ui/cases/{reference}")
        _panel(page, live_ctx, reference)
        figures = page.locator("figure.rf-diagram")
        assert figures.count() == 2
        for index in range(2):
            figure = figures.nth(index)
            assert figure.get_attribute("tabindex") == "0"
            assert figure.get_attribute("role") == "region"
            assert "Diagram of the" in (figure.get_attribute("aria-label") or "")
            figure.focus()
            assert page.evaluate("() => document.activeElement.classList.contains('rf-diagram')")
            before = figure.evaluate("el => el.scrollLeft")
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "([el, x]) => el.scrollLeft > x || el.scrollWidth <= el.clientWidth",
                arg=[figure.element_handle(), before])
        steps = page.locator("#case-diagram-1 .rf-steps li")
        assert steps.count() >= 2
        assert "Done" in steps.first.inner_text() and "Screen the referral" in \
            page.locator("#case-diagram-1 .rf-steps").inner_text()
        assert "In progress" in page.locator("#case-diagram-2 .rf-steps").inner_text()
        # the panel never widens the page: the diagrams scroll inside their regions (the
        # rest of the case page is another's)
        widest = page.evaluate("""() => Math.max(...[...document.querySelectorAll(
            '#case-diagrams, #case-diagrams *')].map(el => el.closest('figure.rf-diagram')
            && !el.matches('figure.rf-diagram') ? 0 : el.getBoundingClientRect().right))""")
        assert widest <= width + 1
        if width >= 1280:
            assert_accessible(page)
        else:  # the rest of the case page at 320 px is another's work: check the panel
            assert_panel_accessible(page)
        page.locator("#case-diagrams").scroll_into_view_if_needed()
        screenshot(page, f"diagram-panel-{width}")
