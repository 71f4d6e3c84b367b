"""A whole case walked in the browser (issue 19, Tests): each step by the person whose role holds
the task, through what the pages show only: the inbox's links, the form's labels, legends and
buttons. axe-core checks every page the walk visits; a screenshot of each is kept under
var/screenshots (`walk-<route>-<n>-<what>.png`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from app.auth import users
from app.services.context import ServiceContext
from tests.browser.conftest import PASSWORD, assert_accessible, screenshot

SUBMITTED = "Your answers were submitted."
EXTRA_PEOPLE: dict[str, tuple[list[str], str | None]] = {"rita.reviewer": (["reviewer"], None)}
"""People the walk needs beyond conftest's PEOPLE: the reviewer of audits and reports."""


def add_people(ctx: ServiceContext, people: dict[str, tuple[list[str], str | None]]) -> None:
    with ctx.uow() as uow:
        for name, (roles, agency) in people.items():
            users.create(uow.session, name, PASSWORD, roles, agency, ctx.clock.now())
        uow.commit()


class Walk:
    """One case, one route; `step` counts the pages visited, for the screenshots' names."""

    def __init__(self, ctx: ServiceContext, page_for: Any, route: str) -> None:
        self.ctx = ctx
        self.page_for = page_for
        self.route = route
        self.step = 0
        self.reference = ""
        self._pages: dict[str, Any] = {}
        add_people(ctx, EXTRA_PEOPLE)

    # ---------------------------------------------------------------------------------------
    # People and pages

    def person(self, name: str) -> Any:
        """The signed-in page of `name` (signing in the first time)."""
        if name not in self._pages:
            page = self.page_for(name)
            page.set_default_timeout(10_000)
            self._pages[name] = page
            self.seen(page, f"{name}-inbox")
        return self._pages[name]

    def seen(self, page: Any, what: str) -> None:
        """Every page the walk visits, in every state: axe-core finds nothing, and a screenshot."""
        page.wait_for_load_state()
        assert_accessible(page)
        self.step += 1
        screenshot(page, f"walk-{self.route}-{self.step:02d}-{what}")

    def ahead(self, days: int) -> str:
        """A deadline `days` from now (the live server runs on the real clock, so a deadline
        already passed would start its chase tasks)."""
        return (self.ctx.clock.now().date() + dt.timedelta(days=days)).isoformat()

    # ---------------------------------------------------------------------------------------
    # The referral

    def refer(self, name: str, child: str, agencies: list[str], incident: str, summary: str,
              facts: list[str], concern: str | None = None) -> Any:
        """Refer a case through /ui/referrals/new; `facts` are the labels of the facts ticked,
        `concern` the answer about how the agencies worked together."""
        page = self.person(name)
        page.get_by_role("link", name="Refer a case").first.click()
        page.wait_for_url(re.compile(r".*/ui/referrals/new"))
        self.seen(page, "referral")
        page.get_by_label(re.compile("pseudonym")).fill(child)
        group = page.get_by_role("group", name=re.compile("Agencies involved"))
        for agency in agencies:
            group.get_by_label(agency, exact=True).check()
        self.date(page, "Date of the incident", incident, exact=False)
        page.get_by_label(re.compile("What happened")).fill(summary)
        for fact in facts:
            page.get_by_label(fact, exact=True).check()
        if concern is not None:
            page.get_by_role("group", name=re.compile(
                "Concern about how agencies worked together")).get_by_label(
                concern, exact=True).check()
        page.get_by_role("button", name="Refer the case").click()
        page.wait_for_url(re.compile(r".*/ui/cases/[A-Z]+-\d{4}-\d{4}.*"))
        self.reference = page.url.split("/ui/cases/")[1].split("?")[0]
        assert "was referred" in page.locator("#notice").inner_text(), \
            page.locator("main").inner_text()
        self.seen(page, "case-referred")
        return page

    # ---------------------------------------------------------------------------------------
    # Tasks

    def open_task(self, name: str, title: str) -> Any:
        """`name` goes to their inbox by the service navigation and opens the case's task by
        its title."""
        page = self.person(name)
        page.get_by_role("navigation").get_by_role("link", name="Inbox").first.click()
        page.wait_for_url(re.compile(r".*/ui/inbox.*"))
        row = page.locator("#inbox-tasks tbody tr").filter(has_text=self.reference) \
            .filter(has=page.get_by_role("link", name=title, exact=True))
        assert row.count() >= 1, f"{name} has no '{title}' for {self.reference} in their " \
            f"inbox:\n{page.locator('main').inner_text()}"
        self.seen(page, f"{name}-inbox")
        row.first.get_by_role("link", name=title, exact=True).click()
        page.wait_for_url(re.compile(r".*/ui/tasks/.*"))
        page.get_by_role("heading", level=1, name=title).wait_for()
        self.seen(page, f"task-{_slug(title)}")
        return page

    def submit(self, page: Any, what: str) -> None:
        """Submit the task form and see the success notice on the case page."""
        page.get_by_role("button", name="Submit", exact=True).click()
        page.wait_for_load_state()
        if "/ui/cases/" not in page.url:
            summary = page.locator(".govuk-error-summary")
            problems = summary.inner_text() if summary.count() else page.locator(
                "main").inner_text()
            raise AssertionError(f"'{what}' was not accepted:\n{problems}")
        assert page.locator("#notice").inner_text() == SUBMITTED
        self.seen(page, f"case-after-{what}")

    def add(self, page: Any, scope: Any, button: str, what: str) -> None:
        """Press an "Add ..." button of a list (the page comes back with one more row)."""
        scope.get_by_role("button", name=button, exact=True).last.click()
        page.wait_for_load_state()
        self.seen(page, f"added-{_slug(button)}-{what}")

    # ---------------------------------------------------------------------------------------
    # Fields, by what the page shows

    @staticmethod
    def text(scope: Any, label: str, value: str) -> None:
        scope.get_by_label(label, exact=True).fill(value)

    @staticmethod
    def radio(scope: Any, legend: str, option: str) -> None:
        scope.get_by_role("radiogroup", name=legend, exact=True).get_by_label(
            option, exact=True).check()

    @staticmethod
    def tick(scope: Any, legend: str, *options: str) -> None:
        group = scope.get_by_role("group", name=legend, exact=True)
        for option in options:
            group.get_by_label(option, exact=True).check()

    @staticmethod
    def choose(scope: Any, label: str, option: str) -> None:
        scope.get_by_label(label, exact=True).select_option(label=option)

    @staticmethod
    def date(scope: Any, legend: str, day: str, exact: bool = True) -> None:
        value = dt.date.fromisoformat(day)
        name: Any = legend if exact else re.compile(re.escape(legend))
        group = scope.get_by_role("group", name=name, exact=exact or None)
        group.get_by_label("Day", exact=True).fill(str(value.day))
        group.get_by_label("Month", exact=True).fill(str(value.month))
        group.get_by_label("Year", exact=True).fill(str(value.year))

    @staticmethod
    def agency(scope: Any, label: str, name: str) -> None:
        """An agency question: a list to choose from, or radios, by the agencies' names."""
        labelled = scope.get_by_label(label, exact=True)
        if labelled.count() == 1 and labelled.evaluate("e => e.tagName") == "SELECT":
            labelled.select_option(label=name)
        else:
            Walk.radio(scope, label, name)

    @staticmethod
    def group(scope: Any, legend: str) -> Any:
        return scope.get_by_role("group", name=legend, exact=True)

    # ---------------------------------------------------------------------------------------
    # The end

    def final_status(self, name: str) -> str:
        """The case page's status, as `name` reads it there."""
        page = self.person(name)
        page.get_by_role("navigation").get_by_role("link", name="Cases").first.click()
        page.wait_for_url(re.compile(r".*/ui/cases.*"))
        self.seen(page, "cases")
        page.get_by_role("link", name=self.reference).first.click()
        page.wait_for_url(re.compile(f".*/ui/cases/{self.reference}.*"))
        self.seen(page, "case-at-the-end")
        return str(page.locator("#case-status").inner_text())


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]
