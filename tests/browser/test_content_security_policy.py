"""In a real browser: the main pages load under the Content-Security-Policy with no violation,
and their stylesheets (files, and the diagrams' one hashed inline sheet) still apply."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.auth import tokens
from app.auth.principal import SYSTEM
from app.db.models import Finding
from app.services import briefings, tasks
from app.services.context import ServiceContext
from tests.browser.conftest import PASSWORD
from tests.browser.test_inbox import refer

WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


class Watched:
    """A signed-in page that records CSP violations and console errors on every page it opens."""

    def __init__(self, browser: Any, server: str, name: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900},
                                           base_url=server)
        self.context.add_init_script(WATCH_VIOLATIONS)
        self.page = self.context.new_page()
        self.messages: list[str] = []
        self.violations: list[str] = []
        self.page.on("console", lambda message: self.messages.append(
            f"{message.type}: {message.text} ({message.location.get('url')})"))
        self.open("/ui/login")
        self.page.get_by_label("User name").fill(name)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url("**/ui/inbox")
        self._collect()

    def open(self, path: str, status: int = 200) -> Any:
        response = self.page.goto(path)
        assert response is not None and response.status == status, path
        assert "content-security-policy" in response.headers
        self._collect()
        return self.page

    def _collect(self) -> None:
        self.page.wait_for_load_state("load")
        self.violations += [f"{self.page.url}: {v}"
                            for v in self.page.evaluate("window.__violations || []")]

    def assert_clean(self) -> None:
        csp = [m for m in self.messages if "Content Security Policy" in m or "Refused to" in m]
        assert self.violations == [] and csp == [], (self.violations, csp)
        # (browsers ask for /favicon.ico, which the service does not have)
        assert [m for m in self.messages if m.startswith("error")
                and not m.endswith("/favicon.ico)")] == []


@pytest.fixture
def watched(browser: Any, server: str) -> Iterator[Any]:
    opened: list[Watched] = []

    def make(name: str) -> Watched:
        opened.append(Watched(browser, server, name))
        return opened[-1]

    yield make
    for one in opened:
        one.context.close()


def _colour(page: Any, selector: str, prop: str) -> str:
    return str(page.eval_on_selector(
        selector, f"(el) => getComputedStyle(el).getPropertyValue('{prop}')"))


def test_the_main_pages_load_with_no_policy_violation(live_ctx: ServiceContext,
                                                      watched: Any) -> None:
    reference = refer(live_ctx)
    with live_ctx.uow() as uow:
        uow.session.add(Finding(case_reference=reference, text="Information was not shared.",
                                themes=["information sharing"], created_at=live_ctx.clock.now()))
        token = tokens.create(uow.session, "bea.manager-pages", ["board_manager"], None,
                              live_ctx.clock.now())
        uow.commit()
    briefings.generate(live_ctx, SYSTEM, reference)
    rows, _ = tasks.list_tasks(live_ctx, SYSTEM, tasks.TaskFilter(
        state="ready", business_key=reference), "created_at", 100, 0)
    screening = next(row for row in rows if row.lane == "panel_member")
    year = live_ctx.clock.now().year

    panel = watched("pat.panel")
    panel.open("/ui/inbox")
    panel.open(f"/ui/tasks/{screening.id}")
    assert panel.page.locator("form").count() >= 1
    panel.assert_clean()

    manager = watched("bea.manager")
    page = manager.open(f"/ui/cases/{reference}")
    assert page.locator("#case-diagram-1 svg").count() == 1
    # the diagram's own stylesheet (allowed by its hash) colours the waiting task
    assert _colour(page, "#case-diagram-1 g.active .outline", "fill") == "rgb(219, 232, 255)"
    assert _colour(page, ".govuk-header", "background-color") == "rgb(29, 112, 184)"
    manager.open("/ui/definitions/referral")
    manager.open("/ui/sessions")
    manager.open("/ui/cases")
    manager.page.set_extra_http_headers({"Authorization": f"Bearer {token}"})
    page = manager.open(f"/api/v1/cases/{reference}/briefing.html")
    assert "Arial" in _colour(page, "body", "font-family")  # briefing.css applies
    page = manager.open(f"/api/v1/reports/annual?year={year}")
    assert _colour(page, "body", "max-width") == "1100px"  # annual_report.css applies
    manager.open("/api/v1/definitions/referral/diagram.svg")
    manager.assert_clean()
