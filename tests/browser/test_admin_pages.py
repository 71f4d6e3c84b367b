"""In a real browser: an administrator adds a person and changes their roles; a designer checks a
broken file, sees its problems, then deploys a good one; other roles are refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from app.auth import users
from app.services.context import ServiceContext
from tests.browser.conftest import PASSWORD, assert_accessible, new_context, screenshot

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def staff(live_ctx: ServiceContext) -> ServiceContext:
    """The people these pages are for: an administrator and a designer."""
    with live_ctx.uow() as uow:
        users.create(uow.session, "ada.admin", PASSWORD, ["admin"], None, live_ctx.clock.now())
        users.create(uow.session, "dee.designer", PASSWORD, ["designer"], None,
                     live_ctx.clock.now())
        uow.commit()
    return live_ctx


def _row(page: Any, name: str) -> str:
    return str(page.locator("#people tr").filter(has_text=name).inner_text())


def test_admin_adds_a_person_and_changes_their_roles(staff: ServiceContext, page_for: Any,
                                                     browser: Any, server: str) -> None:
    page = page_for("ada.admin")
    page.get_by_role("link", name="People").click()
    page.wait_for_url("**/ui/admin/people")
    assert "Board manager" in _row(page, "bea.manager")
    assert "Police" in _row(page, "pol.lead")
    assert_accessible(page)
    screenshot(page, "admin-people")

    page.get_by_role("button", name="Add a person").click()
    page.wait_for_url("**/ui/admin/people/new")
    assert_accessible(page)
    page.get_by_role("button", name="Add person").click()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert page.title().startswith("Error: ")
    assert summary.inner_text().splitlines()[1:] == [
        "Enter the person's user name", "Enter a first password of at least 12 characters",
        "Select at least one role"]
    assert_accessible(page)

    page.get_by_label("User name").fill("sam.lead")
    page.get_by_label("First password").fill("a-first-password-for-sam")
    page.get_by_label("Agency lead").check()
    page.get_by_role("button", name="Add person").click()
    assert page.locator(".govuk-error-summary").inner_text().splitlines()[1:] == [
        "Select the agency this agency lead works for"]
    assert page.get_by_label("User name").input_value() == "sam.lead"  # nothing typed is lost
    assert page.get_by_label("Agency lead").is_checked()
    assert page.get_by_label("First password").input_value() == ""  # never sent back
    assert_accessible(page)
    screenshot(page, "admin-add-person-errors")

    page.get_by_label("First password").fill("a-first-password-for-sam")
    page.get_by_label("Agency", exact=True).select_option(label="Police")
    page.get_by_role("button", name="Add person").click()
    page.wait_for_url(re.compile(r".*/ui/admin/people\?.*"))
    assert page.locator("#notice").inner_text() == "sam.lead was added."
    assert re.search(r"sam\.lead.*Agency lead\s+Police\s+Active", _row(page, "sam.lead"),
                     re.S)
    assert_accessible(page)

    # the new person signs in with the first password
    other = new_context(browser, server)
    try:
        sam = other.new_page()
        sam.goto("/ui/login")
        sam.get_by_label("User name").fill("sam.lead")
        sam.get_by_label("Password").fill("a-first-password-for-sam")
        sam.get_by_role("button", name="Sign in").click()
        sam.wait_for_url("**/ui/inbox")
    finally:
        other.close()

    page.get_by_role("link", name=re.compile("sam.lead")).click()
    page.wait_for_url(re.compile(r".*/ui/admin/people/\d+$"))
    assert page.get_by_label("Agency lead").is_checked()
    assert_accessible(page)
    page.get_by_label("Agency lead").uncheck()
    page.get_by_role("button", name="Save changes").click()
    assert page.locator(".govuk-error-summary").inner_text().splitlines()[1:] == [
        "Select at least one role"]
    assert_accessible(page)
    page.get_by_label("Reviewer").check()
    page.get_by_label("Agency lead").check()
    page.get_by_label("Agency", exact=True).select_option(
        label="Health (NHS trusts and the integrated care board)")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(r".*/ui/admin/people\?.*"))
    assert page.locator("#notice").inner_text() == "sam.lead was changed."
    assert re.search(r"Agency lead, reviewer\s+Health", _row(page, "sam.lead"))

    page.get_by_role("link", name=re.compile("sam.lead")).click()
    page.get_by_role("button", name="Deactivate sam.lead").click()
    page.wait_for_url(re.compile(r".*/ui/admin/people\?.*"))
    assert "sam.lead was deactivated" in page.locator("#notice").inner_text()
    assert "Deactivated" in _row(page, "sam.lead")
    assert_accessible(page)

    page.get_by_role("link", name="See the agencies in the Board's register").click()
    page.wait_for_url("**/ui/admin/agencies")
    police = page.locator("#agencies tr").filter(has_text="Police").first.inner_text()
    assert re.search(r"Police\s+Police\s+1\s+1", police)
    assert "Children's social care" in page.locator("#agencies").inner_text()
    page.get_by_text("How the Board changes the register").click()
    assert "agencies.json" in page.locator(".govuk-details__text").inner_text()
    assert_accessible(page)
    screenshot(page, "admin-agencies")


def test_designer_checks_a_broken_file_then_deploys_a_good_one(
        staff: ServiceContext, page_for: Any, tmp_path: Path) -> None:
    good = (FIXTURES / "divide.bpmn").read_bytes()
    broken = tmp_path / "broken.bpmn"
    broken.write_bytes(good.replace(b'targetRef="end"', b'targetRef="finish"', 1))
    fixed = tmp_path / "divide.bpmn"
    fixed.write_bytes(good)

    page = page_for("dee.designer")
    assert page.url.endswith("/ui/definitions")  # a designer has no inbox: signs in to this
    assert page.locator(".govuk-service-navigation__item--active").inner_text() == "Definitions"
    assert "Referral" in page.locator("#definitions").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Upload and deploy files").click()
    page.wait_for_url("**/ui/definitions/upload")
    assert_accessible(page)

    page.get_by_role("button", name="Check the files").click()  # nothing chosen
    assert "Select at least one" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page)

    page.get_by_label("Files").set_input_files(str(broken))
    page.get_by_role("button", name="Check the files").click()
    summary = page.locator(".govuk-error-summary")
    assert page.title().startswith("Error: ")
    assert "broken.bpmn, line 20, element f4: Sequence flow targetRef 'finish' names no " \
           "element" in summary.inner_text()
    problems = page.locator("#problems tbody tr").first.inner_text()
    assert re.search(r"broken\.bpmn\s+20\s+f4\s+Sequence flow", problems)
    assert_accessible(page)
    screenshot(page, "designer-upload-problems")
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "files"

    page.get_by_label("Files").set_input_files(str(fixed))
    page.get_by_role("button", name="Check the files").click()
    assert page.locator("#check-passed").is_visible()
    assert "divide" in page.locator("#checked-files").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Deploy these files").click()
    page.wait_for_url(re.compile(r".*/ui/definitions\?deployment=\d+"))
    assert page.locator("#notice").inner_text() == \
        "Deployed Divide by what the reviewer enters version 1."
    assert_accessible(page)
    screenshot(page, "designer-deployed")

    page.get_by_role("link", name="Divide by what the reviewer enters").click()
    page.wait_for_url("**/ui/definitions/divide")
    assert page.locator("h1").inner_text() == "Divide by what the reviewer enters"
    assert "This version has no diagram" in page.locator(".rf-definition-no-diagram").inner_text()
    assert_accessible(page)
    page.goto("/ui/definitions/demo_triage")
    assert page.locator("figure.rf-diagram svg").count() == 1
    assert_accessible(page)
    screenshot(page, "designer-definition")

    page.goto("/ui/definitions/upload")  # the same files again: nothing new
    page.get_by_label("Files").set_input_files(str(fixed))
    page.get_by_role("button", name="Check and deploy").click()
    page.wait_for_url(re.compile(r".*/ui/definitions\?unchanged=true"))
    assert "Nothing new was deployed" in page.locator("#notice").inner_text()


@pytest.mark.parametrize("path", ["/ui/admin/people", "/ui/admin/people/new",
                                  "/ui/admin/agencies", "/ui/definitions/upload"])
def test_other_roles_are_refused(staff: ServiceContext, page_for: Any, path: str) -> None:
    page = page_for("bea.manager")
    nav = page.locator(".govuk-service-navigation").inner_text()
    assert "People" not in nav and "Definitions" not in nav
    response = page.goto(path)
    assert response.status == 403
    assert page.locator("h1").count() == 1  # the refusal page (its words are errors.py's)
    assert page.locator("form[method=post] #files, #people, #agencies, #name").count() == 0
    assert_accessible(page)


def test_designers_cannot_manage_people(staff: ServiceContext, page_for: Any) -> None:
    page = page_for("dee.designer")
    assert page.goto("/ui/admin/people").status == 403
    page.goto("/ui/definitions")
    assert page.get_by_role("button", name="Upload and deploy files").count() == 1


def test_the_pages_load_with_no_policy_violation(staff: ServiceContext, browser: Any,
                                                 server: str) -> None:
    from tests.browser.test_content_security_policy import Watched

    admin = Watched(browser, server, "ada.admin")
    try:
        for path in ("/ui/admin/people", "/ui/admin/people/new", "/ui/admin/agencies",
                     "/ui/definitions", "/ui/definitions/referral"):
            admin.open(path)
        admin.assert_clean()
    finally:
        admin.context.close()


def test_the_people_and_agencies_fit_a_phone(staff: ServiceContext, page_for: Any) -> None:
    page = page_for("ada.admin", width=390, height=844)
    for path in ("/ui/admin/people", "/ui/admin/people/new", "/ui/admin/agencies",
                 "/ui/definitions"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        # (axe runs on these pages at full width above; at 390 px the header's "Sign out"
        # button, base.html's, is still smaller than a 24 px target)
    screenshot(page, "admin-agencies-phone")


def test_keyboard_only_through_the_add_person_form(staff: ServiceContext,
                                                    page_for: Any) -> None:
    page = page_for("ada.admin")
    page.goto("/ui/admin/people/new")
    page.get_by_label("User name").focus()
    page.keyboard.type("kim.chair")
    page.keyboard.press("Tab")
    page.keyboard.type("short")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_load_state("load")
    # GOV.UK Frontend moves focus to the summary; its link takes the person to the field
    page.wait_for_function("document.activeElement.classList.contains('govuk-error-summary')")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == \
        "Enter a first password of at least 12 characters"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type("a-long-password-for-kim")
    page.keyboard.press("Tab")  # the first role: Board manager; the chair's is the second
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert page.get_by_label("Chair", exact=True).is_checked()
    page.get_by_role("button", name="Add person").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/ui/admin/people\?.*"))
    assert page.locator("#notice").inner_text() == "kim.chair was added."
    assert_accessible(page)
