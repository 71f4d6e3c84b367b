"""The browser's task page: an agency field is a choice (radios) from the register, and the
keywords' errors show on the fields they name."""

from __future__ import annotations

from collections.abc import Iterator

import lxml.html
import pytest
from fastapi.testclient import TestClient

from app.auth import users
from app.main import create_app
from app.services.context import ServiceContext
from app.web.session import LOGIN_CSRF_COOKIE
from tests.conftest import STAFF_ROLES, token_for
from tests.forms import complete, start_keywords
from tests.forms.test_agencies import REGISTER

PASSWORD = "a long enough demo password"


@pytest.fixture
def pages(ctx: ServiceContext) -> Iterator[tuple[TestClient, TestClient]]:
    """(a signed-in board manager's browser, a staff API client) with the fixture started."""
    app = create_app(context=ctx)
    with ctx.uow() as uow:
        users.create(uow.session, "bea.manager", PASSWORD, ["board_manager"], None,
                     ctx.clock.now())
        uow.commit()
    with TestClient(app, headers={"Authorization": f"Bearer {token_for(ctx, *STAFF_ROLES)}"}) \
            as api, TestClient(app, base_url="https://testserver") as page:
        page.get("/ui/login")
        signed_in = page.post("/ui/login", follow_redirects=False, data={
            "name": "bea.manager", "password": PASSWORD,
            "csrf_token": page.cookies[LOGIN_CSRF_COOKIE]})
        assert signed_in.status_code == 303
        yield page, api


def _form(page: TestClient, task_id: str) -> lxml.html.FormElement:
    response = page.get(f"/ui/tasks/{task_id}")
    assert response.status_code == 200, response.text
    [form] = lxml.html.fromstring(response.text).xpath('//form[contains(@class, "task-form")]')
    assert isinstance(form, lxml.html.FormElement)
    return form


def test_errors_show_on_the_fields_they_name(pages: tuple[TestClient, TestClient]) -> None:
    page, api = pages
    task_id = start_keywords(api)["ready_tasks"][0]["id"]
    values = dict(_form(page, task_id).form_values())
    values.update({"f.reason": " ... ", "f.period_from-day": "1", "f.period_from-month": "3",
                   "f.period_from-year": "2025", "f.period_to-day": "1",
                   "f.period_to-month": "2", "f.period_to-year": "2025", "_action": "submit"})
    response = page.post(f"/ui/tasks/{task_id}", data=values, follow_redirects=False)
    assert response.status_code == 422
    html = lxml.html.fromstring(response.text)
    messages = {element.get("id"): element.text_content()
                for element in html.xpath('//p[@class="govuk-error-message"]')}
    assert "Enter the reasons in words" in messages["f-reason--error"]
    assert "Enter a date before 'To' (1 February 2025)" in messages["f-period_from--error"]
    assert "Enter a date after 'From' (1 March 2025)" in messages["f-period_to--error"]
    assert html.xpath('//title')[0].text_content().startswith("Error: ")
    summary = html.xpath('//div[contains(@class, "govuk-error-summary")]')[0].text_content()
    assert "Enter the reasons in words" in summary and "Enter a date after" in summary
    # What was typed is kept, as typed.
    assert html.xpath('//input[@name="f.period_from-month"]')[0].get("value") == "3"


def test_an_agency_field_is_a_choice_from_the_register(
        pages: tuple[TestClient, TestClient]) -> None:
    page, api = pages
    body = start_keywords(api)
    assert complete(api, body["ready_tasks"][0]["id"], {"reason": "Ready."}).status_code == 200
    task_id = api.get(f"/api/v1/instances/{body['id']}").json()["ready_tasks"][0]["id"]
    html = lxml.html.fromstring(page.get(f"/ui/tasks/{task_id}").text)
    radios = html.xpath('//input[@type="radio"][@name="f.escalated_to"]')
    options = {radio.get("value"): html.xpath('//label[@for=$id]', id=radio.get("id"))[0]
               .text_content().strip() for radio in radios}
    assert options == {a.id: a.name for a in REGISTER.agencies}  # named as the register does
    values = dict(_form(page, task_id).form_values())
    values.update({"f.escalated_to": "childrens_social_care", "_action": "submit"})
    response = page.post(f"/ui/tasks/{task_id}", data=values, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert api.get(f"/api/v1/instances/{body['id']}").json()["data"]["escalated_to"] == \
        "childrens_social_care"
