"""The pages anyone may open (sign-in, accessibility statement, privacy notice, cookies) are on
GOV.UK Frontend without the GOV.UK brand, and pass axe-core at WCAG 2.2 AA."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import assert_accessible, new_context, screenshot


@pytest.mark.parametrize("path, heading", [
    ("/ui/login", "Sign in"),
    ("/ui/accessibility", "Accessibility statement for Reviewflow"),
    ("/ui/privacy", "Privacy notice"),
    ("/ui/cookies", "Cookies"),
])
def test_open_pages_are_accessible(browser: Any, server: str, path: str, heading: str) -> None:
    context = new_context(browser, server)
    try:
        page = context.new_page()
        page.goto(path)
        assert page.get_by_role("heading", level=1).inner_text() == heading
        assert page.locator("footer").get_by_role("link", name="Accessibility statement")
        assert "GDS Transport" not in page.evaluate(
            "getComputedStyle(document.body).fontFamily")
        assert page.locator("body.js-enabled").count() == 1  # GOV.UK Frontend started
        assert_accessible(page)
        screenshot(page, "open" + path.replace("/", "-"))
    finally:
        context.close()


def test_a_violation_is_caught(browser: Any, server: str) -> None:
    """The check itself: an image without a text alternative fails it."""
    context = new_context(browser, server)
    try:
        page = context.new_page()
        page.goto("/ui/cookies")
        page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', "
                      "'<img src=\"/ui/static/none.png\">')")
        with pytest.raises(AssertionError, match="image-alt"):
            assert_accessible(page)
    finally:
        context.close()
