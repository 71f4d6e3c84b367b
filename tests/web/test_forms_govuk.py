"""The task forms as GOV.UK does them (issue 19, point 4): dates as day, month and year, messages
that say what to do, the summary in the page's order, refusals in words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from app.auth import policy
from app.auth.errors import Forbidden
from app.auth.principal import Principal
from app.services.forms import validate_submission
from app.web.form_parsing import date_parts, parse_form, typed_date
from app.web.form_rendering import form_errors_summary, render_form
from app.web.forms_messages import guidance

FORMS = Path(__file__).resolve().parents[2] / "processes" / "forms"


def schema_of(name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{name}.schema.json").read_text())


def test_a_date_is_three_fields_read_back_as_an_iso_date() -> None:
    schema = schema_of("publication_decision")
    form = [("f.publish", "yes"), ("f.published_on-day", "5"), ("f.published_on-month", "3"),
            ("f.published_on-year", "2026")]
    assert parse_form(schema, form)["published_on"] == "2026-03-05"
    assert parse_form(schema, [("f.published_on-day", " "), ("f.published_on-month", ""),
                               ("f.published_on-year", "")]) == {}
    html = lxml.html.fromstring(f"<form>{render_form(schema, {'published_on': '2026-03-05'})}"
                                "</form>")
    assert [html.xpath(f'.//input[@name="f.published_on-{part}"]/@value')[0]
            for part in ("day", "month", "year")] == ["5", "3", "2026"]
    assert html.xpath('.//*[@id="f-published_on--hint"]')[0].text_content() == \
        "For example, 27 3 2026"


@pytest.mark.parametrize("day, month, year", [("31", "2", "2026"), ("1", "13", "2026"),
                                              ("x", "2", "2026"), ("1", "2", "26")])
def test_a_date_that_is_not_real_keeps_what_was_typed(day: str, month: str, year: str) -> None:
    schema = schema_of("publication_decision")
    data = parse_form(schema, [("f.publish", "yes"), ("f.published_on-day", day),
                               ("f.published_on-month", month),
                               ("f.published_on-year", year)])
    assert date_parts(data["published_on"]) == {"day": day, "month": month, "year": year}
    errors = validate_submission(schema, data)
    form = lxml.html.fromstring(f"<form>{render_form(schema, data, errors)}</form>")
    assert form.xpath('.//*[@id="f-published_on--error"]')[0].text_content() == \
        "Error: Published on must be a real date"
    assert form.xpath('.//input[@name="f.published_on-day"]/@value') == [day]
    assert form.xpath('.//input[@name="f.published_on-year"]/@value') == [year]
    assert typed_date("", "", "") is None


def test_messages_say_what_to_do() -> None:
    text = {"type": "string"}
    assert guidance("'reasons' is required", text, "Reasons", "reasons", "textarea") == \
        ("Enter the reasons", True)
    assert guidance("'why' is required", text, "Why the grade should change", "why",
                    "textarea")[0] == "Enter why the grade should change"
    assert guidance("'agencies' is required", {"items": {"x-agency": True}}, "Agencies",
                    "agencies", "checkboxes")[0] == "Select at least one agency"
    assert guidance("[] should be non-empty", {"items": {"enum": ["a"]}}, "How staff are "
                    "involved", "x", "checkboxes")[0] == \
        "Select at least one option for how staff are involved"
    assert guidance("'route' is required", {"enum": ["a"]}, "Type of review", "route",
                    "radios")[0] == "Select the type of review"
    assert guidance("'four' is not of type 'integer'", {"type": "integer"}, "Age", "age",
                    "number")[0] == "Age must be a whole number, like 4"
    assert guidance("Something else", text, "Reasons", "reasons", "text") == \
        ("Something else", False)


def test_an_empty_required_list_is_flagged_and_the_summary_follows_the_page() -> None:
    schema = schema_of("agency_review")
    data = parse_form(schema, [("f.lessons", ""), ("f.action_points", "")])
    errors = validate_submission(schema, data)
    summary = lxml.html.fromstring(str(form_errors_summary(errors, schema=schema, values=data)))
    links = summary.xpath(".//a/@href")
    page_ids = [element.get("id") for element in lxml.html.fromstring(
        f"<form>{render_form(schema, data, errors)}</form>").iter() if element.get("id")]
    assert links == sorted(links, key=lambda href: page_ids.index(href[1:]))
    assert "#f-lessons" in links
    texts = [a.text_content() for a in summary.iter("a")]
    assert not [text for text in texts if "is required" in text or "non-empty" in text], texts


def test_a_refusal_by_role_names_the_roles_in_words() -> None:
    with pytest.raises(Forbidden) as refused:
        policy.require(Principal("pat", frozenset({"panel_member"})), "assign")
    assert refused.value.message == \
        "You need to be a board manager to assign tasks; you are a panel member."
    with pytest.raises(Forbidden) as refused:
        policy.require(Principal("pol", frozenset({"agency_lead"})), "terminate")
    assert "a board manager or an administrator" in refused.value.message
    assert all(role in policy.ROLE_WORDS for roles in policy.ACTIONS.values() for role in roles)
