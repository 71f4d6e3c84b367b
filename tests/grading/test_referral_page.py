"""The browser's referral form lets the referrer say how the agencies worked together is not
yet known, and that is its default: "Under r5(2)(b)(ii), unless clear there are no concerns about
interagency working, the LSCB must commission a SCR"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lxml.html
import pytest
from fastapi.testclient import TestClient

from app.auth import users
from app.auth.principal import SYSTEM
from app.main import create_app
from app.services import cases
from app.services.context import ServiceContext
from app.web.session import LOGIN_CSRF_COOKIE
from tests.conftest import route_files, token_for, upload

PASSWORD = "a long enough demo password"


@pytest.fixture
def browser(ctx: ServiceContext) -> Iterator[TestClient]:
    """A signed-in board manager, with the Board's routes deployed."""
    app = create_app(context=ctx)
    with TestClient(app, headers={"Authorization": f"Bearer {token_for(ctx, 'designer')}"}) \
            as designer:
        upload(designer, *route_files())
    with ctx.uow() as uow:
        users.create(uow.session, "bea.manager", PASSWORD, ["board_manager"], None,
                     ctx.clock.now())
        uow.commit()
    with TestClient(app, base_url="https://testserver") as page:
        page.get("/ui/login")
        signed_in = page.post("/ui/login", follow_redirects=False, data={
            "name": "bea.manager", "password": PASSWORD,
            "csrf_token": page.cookies[LOGIN_CSRF_COOKIE]})
        assert signed_in.status_code == 303
        yield page


def form_of(page: TestClient) -> lxml.html.FormElement:
    response = page.get("/ui/referrals/new")
    assert response.status_code == 200
    [form] = lxml.html.fromstring(response.text).xpath('//form[contains(@class, "task-form")]')
    assert isinstance(form, lxml.html.FormElement)
    return form


def refer(page: TestClient, form: lxml.html.FormElement, omit: str = "", **choices: str) -> str:
    """Submit what a browser sends from `form` with abuse and serious harm ticked (without the
    field `omit`); the grade."""
    values: dict[str, Any] = {name: value for name, value in form.form_values()
                              if name != omit}
    values.update({"child_pseudonym": "Child A", "agencies": ["police", "health"],
                   "incident_date-day": "20", "incident_date-month": "2",
                   "incident_date-year": "2026", "summary": "Child A was badly hurt.",
                   "abuse_or_neglect": "yes", "seriously_harmed": "yes", **choices})
    response = page.post("/ui/referrals/new", data=values, follow_redirects=False)
    assert response.status_code == 303, response.text
    reference = response.headers["location"].split("/ui/cases/")[1].split("?")[0]
    ctx: ServiceContext = page.app.state.context  # type: ignore[attr-defined]
    grade: str = cases.get(ctx, SYSTEM, reference).case.grade
    return grade


def test_not_yet_known_is_offered_and_selected_by_default(browser: TestClient) -> None:
    form = form_of(browser)
    radios = form.xpath('.//input[@type="radio"][@name="interagency_concern"]')
    options = {radio.get("value"): form.xpath('.//label[@for=$id]', id=radio.get("id"))[0]
               .text_content() for radio in radios}
    assert options == {"not_known": "Not yet known", "none": "No concerns",
                       "curiosity": "Curiosity", "concern": "Concern"}
    assert [radio.get("value") for radio in radios if radio.checked] == ["not_known"]
    group = next(radios[0].iterancestors("fieldset"))
    hint = form.xpath(f'.//*[@id="{group.get("aria-describedby")}"]')[0].text_content()
    assert "only when it is clear there are none" in hint


def test_the_default_grades_catastrophic_and_only_no_concerns_lowers_it(
        browser: TestClient) -> None:
    # A form page refers one case (its token is single use): each referral opens the page.
    assert refer(browser, form_of(browser)) == "catastrophic"
    assert refer(browser, form_of(browser), omit="interagency_concern") == "catastrophic"
    assert refer(browser, form_of(browser), interagency_concern="not_known") == "catastrophic"
    assert refer(browser, form_of(browser), interagency_concern="none") == "significant"
    assert refer(browser, form_of(browser), interagency_concern="curiosity") == "severe"


def test_an_unknown_choice_is_refused_naming_the_field(browser: TestClient) -> None:
    form = form_of(browser)
    values = dict(form.form_values()) | {"interagency_concern": "perhaps"}
    response = browser.post("/ui/referrals/new", data=values)
    assert response.status_code == 422
    page = lxml.html.fromstring(response.text)
    assert page.xpath('.//div[contains(@class, "error-summary")]//a[@href="#interagency_concern"]')


def test_an_agency_outside_the_register_is_refused_on_the_page(browser: TestClient) -> None:
    """Issue 16, point 10: agencies are a register, and the browser form checks it as the API."""
    form = form_of(browser)
    boxes = form.xpath('.//input[@type="checkbox"][@name="agencies"]')
    assert "police" in [box.get("value") for box in boxes], "agencies are the register's"
    values: dict[str, Any] = {name: value for name, value in form.form_values()}
    values.update({"child_pseudonym": "Child A", "agencies": ["police", "Children's Social Care"],
                   "incident_date-day": "20", "incident_date-month": "2",
                   "incident_date-year": "2026", "summary": "Child A was badly hurt."})
    response = browser.post("/ui/referrals/new", data=values, follow_redirects=False)
    assert response.status_code == 422
    page = lxml.html.fromstring(response.text)
    message = " ".join(page.xpath('//*[@id="agencies-error"]//text()'))
    assert "Children's Social Care" in message and "Select the agencies from the list" in message
    chosen = page.xpath('//input[@name="agencies"][@checked]/@value')
    assert chosen == ["police", "Children's Social Care"]  # what was chosen is kept
    assert page.xpath('//input[@name="child_pseudonym"]/@value') == ["Child A"]
