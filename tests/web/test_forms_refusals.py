"""A task form refused by the service (someone else claimed the task meanwhile) keeps what was
typed, says why in words, and the title says "Error:"; the sign-in and error pages too."""

from __future__ import annotations

import lxml.html
from fastapi.testclient import TestClient

from app.services.context import ServiceContext
from app.web.session import LOGIN_CSRF_COOKIE
from tests.forms import start_keywords
from tests.forms.test_task_page import pages  # noqa: F401  (a fixture)


def test_a_refusal_keeps_what_was_typed(pages: tuple[TestClient, TestClient]) -> None:  # noqa: F811
    page, api = pages
    task_id = start_keywords(api)["ready_tasks"][0]["id"]
    [form] = lxml.html.fromstring(page.get(f"/ui/tasks/{task_id}").text).xpath(
        '//form[contains(@class, "task-form")]')
    values = dict(form.form_values())
    assert api.post(f"/api/v1/tasks/{task_id}/claim").status_code == 200  # someone else
    values.update({"f.reason": "Typed with care.", "_action": "submit"})
    response = page.post(f"/ui/tasks/{task_id}", data=values, follow_redirects=False)
    assert response.status_code == 403
    html = lxml.html.fromstring(response.text)
    assert html.xpath("//title")[0].text_content().startswith("Error: ")
    summary = html.xpath('//div[contains(@class, "govuk-error-summary")]')[0].text_content()
    assert "The task is claimed by" in summary
    assert html.xpath('//*[@name="f.reason"]')[0].get("value") == "Typed with care."
    assert not html.xpath('//button[@value="submit"]'), "it cannot be sent now"


def test_sign_in_errors_and_error_pages_on_govuk_markup(
        pages: tuple[TestClient, TestClient], ctx: ServiceContext) -> None:  # noqa: F811
    page, _ = pages
    anonymous = TestClient(page.app, base_url="https://testserver")
    anonymous.get("/ui/login")
    refused = anonymous.post("/ui/login", data={
        "name": "bea.manager", "password": "wrong", "csrf_token":
        anonymous.cookies[LOGIN_CSRF_COOKIE]})
    assert refused.status_code == 401
    html = lxml.html.fromstring(refused.text)
    assert html.xpath("//title")[0].text_content().startswith("Error: Sign in")
    assert html.xpath('//div[@class="govuk-error-summary"]//a[@href="#name"]')
    assert html.xpath('//input[@id="name"]/@value') == ["bea.manager"]
    missing = page.get("/ui/no-such-page")
    assert missing.status_code == 404
    assert lxml.html.fromstring(missing.text).xpath("//h1")[0].text_content() == \
        "Page not found"
    gone = page.get("/ui/tasks/no-such-task")
    assert gone.status_code == 404
    assert lxml.html.fromstring(gone.text).xpath('//*[@id="error-reason"]')[0] \
        .text_content() == "No task with id 'no-such-task'."
    assert page.get("/api/v1/nothing-here").headers["content-type"].startswith(
        "application/json"), "the API still answers in JSON"
