"""The task forms in the browser: every real form renders, round-trips, and shows its errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from markupsafe import Markup
from starlette.datastructures import FormData

from app.services.forms import validate_submission
from app.web.form_parsing import apply_action, field_id, parse_form
from app.web.form_rendering import errors_by_field, form_errors_summary, render_form

FORMS = Path(__file__).resolve().parents[2] / "processes" / "forms"
FORM_NAMES = sorted(path.name.removesuffix(".schema.json") for path in FORMS.glob("*.json"))
CONTROLS = {"input", "select", "textarea"}


def schema_of(name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{name}.schema.json").read_text())


def page(html: str) -> lxml.html.FormElement:
    """The fragment inside a <form>, as the page will put it."""
    return lxml.html.fromstring(f"<form>{html}</form>")


def submitted(form: lxml.html.FormElement, action: str | None = None) -> list[tuple[str, str]]:
    """What a browser sends: lxml's form values, with the one newline a browser's HTML parser
    drops after <textarea>, plus the button pressed."""
    values = []
    for name, value in form.form_values():
        element = form.xpath(f'.//*[@name="{name}"]')[0]
        if element.tag == "textarea" and value.startswith("\n"):
            value = value[1:]
        values.append((name, value))
    if action is not None:
        values.append(("_action", action))
    return values


def round_trip(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return parse_form(schema, submitted(page(render_form(schema, data, []))))


def by_id(form: lxml.html.FormElement, element_id: str) -> Any:
    found = form.xpath(f'.//*[@id="{element_id}"]')
    assert len(found) == 1, f"{len(found)} elements with id {element_id}"
    return found[0]


def fields_of(schema: dict[str, Any], path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every field a blank form shows (arrays with their minItems rows)."""
    paths = []
    for name, sub in schema.get("properties", {}).items():
        here = (*path, name)
        paths.append(here)
        if sub.get("type") == "object":
            paths += fields_of(sub, here)
        elif sub.get("type") == "array" and sub["items"].get("type") == "object":
            for index in range(sub.get("minItems", 0)):
                paths.append((*here, index))
                paths += fields_of(sub["items"], (*here, index))
    return paths


def described_by(form: lxml.html.FormElement, element_id: str) -> list[str]:
    """The aria-describedby ids of a field: on its control, or on the group it is in."""
    element = by_id(form, element_id)
    owners = [element, *element.iterancestors("fieldset")]
    for owner in owners:
        if owner.get("aria-describedby"):
            return owner.get("aria-describedby").split()
    return []


# --------------------------------------------------------------------------------------------
# Every real form renders, labelled


@pytest.mark.parametrize("name", FORM_NAMES)
def test_every_form_renders_with_labels_for_every_field(name: str) -> None:
    schema = schema_of(name)
    html = render_form(schema, {}, [])
    assert isinstance(html, Markup)
    form = page(str(html))
    ids = [element.get("id") for element in form.iter() if element.get("id")]
    assert len(ids) == len(set(ids)), "ids are unique"
    assert all(" " not in element_id for element_id in ids)
    for label in form.iter("label"):
        assert by_id(form, label.get("for")).tag in CONTROLS
    for path in fields_of(schema):
        element = by_id(form, field_id("f", path))
        if element.tag in CONTROLS:
            assert form.xpath(f'.//label[@for="{element.get("id")}"]'), path
        else:
            assert element.tag == "fieldset" and element.find("legend") is not None, path
    conditional = {name for rule in schema.get("allOf", []) for branch in ("then", "else")
                   for name in rule.get(branch, {}).get("required", [])}
    for field_name in schema.get("properties", {}):
        element = by_id(form, field_id("f", (field_name,)))
        group = element if element.tag == "fieldset" else None
        if group is None and (element.get("type") in ("radio", "checkbox")
                              or "govuk-date-input__input" in element.get("class", "")):
            group = next(element.iterancestors("fieldset"))
        if group is not None:
            question = group.find("legend").text_content()
        else:
            question = form.xpath(f'.//label[@for="{element.get("id")}"]')[0].text_content()
        required = field_name in schema.get("required", [])
        # GOV.UK marks the questions that may be left out, never the required ones.
        assert question.endswith("(optional)") == (not required
                                                   and field_name not in conditional), question
        if required and group is None:
            assert element.get("aria-required") == "true"
        elif required and element.get("type") == "radio":
            assert group.get("aria-required") == "true"


@pytest.mark.parametrize("name", FORM_NAMES)
def test_blank_submission_errors_show_next_to_their_fields(name: str) -> None:
    schema = schema_of(name)
    data = parse_form(schema, submitted(page(render_form(schema, {}, []))))
    errors = validate_submission(schema, data)
    assert errors, "every real form requires something"
    form = page(str(render_form(schema, data, errors)))
    summary = lxml.html.fromstring(str(form_errors_summary(errors, schema=schema)))
    for error in errors:
        target = field_id("f", error["field"].split("."))
        radio = revealed_by(form, target) if form.xpath(f'.//*[@id="{target}"]') else None
        if radio is not None and radio.get("checked") is None:
            # Asked only once its question is answered: the question's error comes first.
            assert not form.xpath(f'.//*[@id="{target}--error"]')
            assert by_id(form, f'{field_id("f", (radio.get("name")[2:],))}--error') is not None
            continue
        error_element = by_id(form, f"{target}--error")
        assert error_element.get("class") == "govuk-error-message"
        assert f"{target}--error" in described_by(form, target)
        assert summary.xpath(f'.//a[@href="#{target}"]')


# --------------------------------------------------------------------------------------------
# Round trips


def test_referral_screening_round_trip() -> None:
    schema = schema_of("referral_screening")
    data = {"grade_confirmed": False, "new_grade": "best_practice",
            "grade_change_reason": "Line one\nline two", "recommended_route": "single_agency",
            "recommendation_reason": "Because"}
    assert round_trip(schema, data) == data
    assert validate_submission(schema, data) == []


def test_chair_endorsement_round_trip() -> None:
    schema = schema_of("chair_endorsement")
    data = {"endorsement": "more_information", "endorsement_reasons": "Need the GP records",
            "chair_comments": "\nStarts with a newline"}
    assert round_trip(schema, data) == data
    form = page(str(render_form(schema, data, [])))
    chosen = form.xpath('.//input[@name="f.endorsement"][@checked]')
    assert [radio.get("value") for radio in chosen] == ["more_information"]
    assert form.xpath('.//label[@for=$id]', id=chosen[0].get("id"))[0].text == \
        "Ask for more information"


AGENCY_REVIEW = {
    "chronology": [
        {"date": "2025-01-04", "event": "Home visit", "action_taken": "Referral made",
         "source": "Case notes"},
        {"date": "2025-02-11", "event": "Missed appointment", "why_no_action": "Not seen",
         "source": "GP record"},
    ],
    "genogram": {
        "people": [
            {"name": "Child A", "relationship_to_child": "Self", "age": 4},
            {"name": "Adult B", "relationship_to_child": "Mother"},
        ],
        "relationships": [{"from": "Adult B", "to": "Child A", "relationship": "Parent"}],
    },
    "analysis": "Analysis",
    "lessons": ["Share information sooner", "Escalate"],
    "action_points": [],
    "author": {"name": "A. Reviewer", "role": "Safeguarding lead", "line_responsibility": False},
}


def test_agency_review_round_trip_with_genogram_and_chronology() -> None:
    schema = schema_of("agency_review")
    assert validate_submission(schema, AGENCY_REVIEW) == []
    assert round_trip(schema, AGENCY_REVIEW) == AGENCY_REVIEW
    form = page(str(render_form(schema, AGENCY_REVIEW, [])))
    assert by_id(form, "f-genogram-people-1-name").get("name") == "f.genogram.people.1.name"
    day = by_id(form, "f-chronology-0-date")  # a GOV.UK date input: day, month, year
    assert (day.get("name"), day.get("value")) == ("f.chronology.0.date-day", "4")
    assert by_id(form, "f-chronology-0-date--month").get("value") == "1"
    assert by_id(form, "f-chronology-0-date--year").get("value") == "2025"
    age = by_id(form, "f-genogram-people-0-age")
    assert (age.get("type"), age.get("inputmode"), age.get("value")) == \
        ("text", "numeric", "4")


DRAFT_REPORT = {
    "report_summary": "Summary",
    "findings": [{"finding": "Information was not shared",
                  "themes": ["information_sharing", "escalation"]}],
    "recommendations": [
        {"recommendation": f"Recommendation {r}",
         "actions": [{"action": f"Action {r}.{a}", "owner_agency": "Police", "lead": "DI Smith",
                      "target_date": "2026-06-30", "measure_of_success": "Audit shows it"}
                     for a in (1, 2)]}
        for r in (1, 2)
    ],
}


def test_draft_report_round_trip_with_actions_inside_recommendations() -> None:
    schema = schema_of("draft_report")
    assert validate_submission(schema, DRAFT_REPORT) == []
    assert round_trip(schema, DRAFT_REPORT) == DRAFT_REPORT
    form = page(str(render_form(schema, DRAFT_REPORT, [])))
    assert by_id(form, "f-recommendations-1-actions-1-lead").get("name") == \
        "f.recommendations.1.actions.1.lead"
    themes = form.xpath('.//input[@name="f.findings.0.themes"][@type="checkbox"]')
    assert [box.get("value") for box in themes if box.get("checked") is not None] == \
        ["information_sharing", "escalation"]


@pytest.mark.parametrize("name", FORM_NAMES)
def test_blank_forms_round_trip_to_nothing_but_their_rows(name: str) -> None:
    schema = schema_of(name)
    data = round_trip(schema, {})
    assert round_trip(schema, data) == data
    for value in data.values():
        assert value in ([], [{}], {"people": [{}], "relationships": []}), value


# --------------------------------------------------------------------------------------------
# Parsing


def test_types_blanks_and_unknown_names() -> None:
    schema = schema_of("learning_event")
    form = [("f.event_date", " 2026-03-05 "), ("f.key_learning", "   "),
            ("f.attendance.3.agency", "Police"), ("f.attendance.3.attendees", "12"),
            ("f.attendance.0.agency", "Health"), ("f.attendance.0.attendees", "three"),
            ("f.attendance.7", ""), ("f.nope", "x"), ("f.attendance.x.agency", "y"),
            ("csrf_token", "t"), ("_action", "submit"), ("g.event_date", "2020-01-01")]
    data = parse_form(schema, form)
    assert data == {"event_date": "2026-03-05",
                    "attendance": [{"agency": "Health", "attendees": "three"},
                                   {"agency": "Police", "attendees": 12}, {}]}
    errors = errors_by_field(validate_submission(schema, data))
    assert "attendance.0.attendees" in errors
    assert "'three' is not of type 'integer'" in errors["attendance.0.attendees"]
    assert "key_learning" in errors


def test_numbers() -> None:
    schema = {"type": "object", "properties": {
        "n": {"type": "number"}, "i": {"type": "integer"}, "j": {"type": "integer"},
        "k": {"type": "number"}}}
    assert parse_form(schema, {"f.n": "2.5", "f.i": "-3", "f.j": "4.0", "f.k": "nan"}) == \
        {"n": 2.5, "i": -3, "j": 4, "k": "nan"}
    assert parse_form(schema, {"f.i": "1.5"}) == {"i": "1.5"}


def test_booleans_yes_no_and_unanswered() -> None:
    schema = schema_of("panel_signoff")
    assert parse_form(schema, {"f.signed_off": "no"}) == {"signed_off": False}
    assert parse_form(schema, {"f.signed_off": "yes"}) == {"signed_off": True}
    assert parse_form(schema, {"f.changes_required": ""}) == {}
    errors = validate_submission(schema, parse_form(schema, {"f.signed_off": "no"}))
    assert errors == [{"field": "changes_required", "message": "'changes_required' is required"}]
    form = page(str(render_form(schema, {}, [])))
    radios = form.xpath('.//input[@name="f.signed_off"]')
    assert [(radio.get("type"), radio.get("value")) for radio in radios] == \
        [("radio", "yes"), ("radio", "no")]
    assert not [radio for radio in radios if radio.get("checked") is not None]
    form = page(str(render_form(schema, {"signed_off": False}, [])))
    assert form.xpath('.//input[@name="f.signed_off"][@checked]')[0].get("value") == "no"


def revealed_by(form: lxml.html.FormElement, element_id: str) -> Any:
    """The radio whose answer reveals the field (GOV.UK's conditional reveal), or None."""
    element = by_id(form, element_id)
    for ancestor in element.iterancestors("div"):
        if "rf-forms-reveal" in ancestor.get("class", "").split():
            [radio] = form.xpath('.//input[@aria-controls=$id]', id=ancestor.get("id"))
            return radio
    return None


def test_conditionally_required_fields_appear_under_the_answer_that_needs_them() -> None:
    form = page(str(render_form(schema_of("referral_screening"), {}, [])))
    for name in ("new_grade", "grade_change_reason"):
        radio = revealed_by(form, f"f-{name}")
        assert (radio.get("name"), radio.get("value")) == ("f.grade_confirmed", "no")
        conditional = by_id(form, radio.get("aria-controls"))
        assert "rf-forms-reveal" in conditional.get("class")  # shown while No is chosen
        label = form.xpath(f'.//label[@for="f-{name}"]')[0]
        assert "optional" not in label.text_content()
    assert revealed_by(form, "f-recommendation_reason") is None
    form = page(str(render_form(schema_of("publication_decision"), {}, [])))
    assert revealed_by(form, "f-location").get("value") == "yes"
    assert revealed_by(form, "f-not_published_reason").get("value") == "no"
    form = page(str(render_form(schema_of("involvement"), {}, [])))
    assert revealed_by(form, "f-staff_involvement").get("value") == "yes"  # its `else`
    # Two answers need it: shown always, with a hint saying when it is required.
    form = page(str(render_form(schema_of("chair_endorsement"), {}, [])))
    assert revealed_by(form, "f-endorsement_reasons") is None
    assert by_id(form, "f-endorsement_reasons--hint").text_content() == (
        "Required if the answer to 'Your decision' is 'Decline the review' "
        "or 'Ask for more information'")
    assert "f-endorsement_reasons--hint" in described_by(form, "f-endorsement_reasons")


def test_enums_select_over_four_options_and_labels() -> None:
    form = page(str(render_form(schema_of("referral_screening"), {"new_grade": "low"}, [])))
    select = by_id(form, "f-new_grade")
    assert select.tag == "select"
    assert select.value == "low"
    assert select.xpath("./option")[0].get("value") == ""
    assert by_id(form, "f-recommended_route").get("type") == "radio"
    assert form.xpath('.//label[@for="f-recommended_route--3"]')[0].text == "Audit"
    schema = schema_of("referral_screening")
    assert parse_form(schema, {"f.new_grade": "huge"}) == {"new_grade": "huge"}


def test_checkbox_choices_read_from_starlette_form_data() -> None:
    schema = schema_of("case_study")
    form = FormData([("f.case_study", "Text"), ("f.audiences", ""),
                     ("f.audiences", "newsletter"), ("f.audiences", "board_event")])
    assert parse_form(schema, form) == {"case_study": "Text",
                                        "audiences": ["newsletter", "board_event"]}
    assert parse_form(schema, FormData([("f.audiences", "")])) == {}
    involvement = schema_of("involvement")
    assert parse_form(involvement, [("f.staff_involvement", "")]) == {"staff_involvement": []}


def test_gaps_in_rows_are_closed_and_blank_strings_dropped() -> None:
    schema = schema_of("agency_review")
    form = [("f.lessons", ""), ("f.lessons.5", "Third"), ("f.lessons.0", "First"),
            ("f.lessons.2", ""), ("f.lessons.3", "Second"), ("f.action_points", "")]
    assert parse_form(schema, form) == {"lessons": ["First", "Second", "Third"],
                                        "action_points": []}
    assert parse_form(schema, form, keep_blank_items=True) == \
        {"lessons": ["First", "", "Second", "Third"], "action_points": []}
    assert parse_form(schema, [("f.lessons", ""), ("f.lessons.0", " ")]) == {}


def test_windows_newlines_and_dots_in_names() -> None:
    schema = {"type": "object", "properties": {
        "a.b": {"type": "string"}, "c": {"type": "string", "format": "textarea"}}}
    html = str(render_form(schema, {"a.b": "x"}, []))
    assert 'name="f.a%2Eb"' in html
    assert parse_form(schema, {"f.a%2Eb": "x", "f.c": "1\r\n2"}) == {"a.b": "x", "c": "1\n2"}
    assert round_trip(schema, {"a.b": "x"}) == {"a.b": "x"}


# --------------------------------------------------------------------------------------------
# Add and remove rows


def click(schema: dict[str, Any], data: dict[str, Any], action: str) -> dict[str, Any]:
    """What the page does for an add/remove button: parse, apply, (render again)."""
    form = page(str(render_form(schema, data, [])))
    assert form.xpath('.//button[@name="_action"][@value=$v]', v=action), action
    values = submitted(form, action)
    parsed = parse_form(schema, values, keep_blank_items=True)
    return apply_action(schema, parsed, dict(values)["_action"])


def test_add_and_remove_chronology_rows() -> None:
    schema = schema_of("agency_review")
    added = click(schema, AGENCY_REVIEW, "add:chronology")
    assert added["chronology"] == [*AGENCY_REVIEW["chronology"], {}]
    assert added["genogram"] == AGENCY_REVIEW["genogram"]
    form = page(str(render_form(schema, added, [])))
    assert by_id(form, "f-chronology-2-date").get("value") in (None, "")
    removed = click(schema, AGENCY_REVIEW, "remove:chronology.0")
    assert removed["chronology"] == AGENCY_REVIEW["chronology"][1:]
    people = click(schema, AGENCY_REVIEW, "remove:genogram.people.1")
    assert people["genogram"]["people"] == AGENCY_REVIEW["genogram"]["people"][:1]
    more = click(schema, AGENCY_REVIEW, "add:genogram.relationships")
    assert len(more["genogram"]["relationships"]) == 2
    assert AGENCY_REVIEW["chronology"][0]["date"] == "2025-01-04", "input left alone"


def test_nested_actions_inside_recommendations() -> None:
    schema = schema_of("draft_report")
    added = click(schema, DRAFT_REPORT, "add:recommendations.1.actions")
    assert [len(r["actions"]) for r in added["recommendations"]] == [2, 3]
    removed = click(schema, DRAFT_REPORT, "remove:recommendations.0.actions.1")
    assert [len(r["actions"]) for r in removed["recommendations"]] == [1, 2]
    gone = click(schema, DRAFT_REPORT, "remove:recommendations.0")
    assert gone["recommendations"] == DRAFT_REPORT["recommendations"][1:]
    first = click(schema, {}, "add:recommendations")
    assert first["recommendations"] == [{}]
    form = page(str(render_form(schema, first, [])))
    assert form.xpath('.//button[@value="add:recommendations.0.actions"]')


def test_blank_rows_keep_their_place_when_removing() -> None:
    schema = schema_of("agency_review")
    data = {"lessons": ["First", "", "Third"]}
    assert click(schema, data, "remove:lessons.2")["lessons"] == ["First", ""]
    assert click(schema, {}, "add:lessons")["lessons"] == ["", ""]


def test_min_items_rows_shown_until_the_list_is_emptied() -> None:
    schema = schema_of("agency_review")
    blank = page(str(render_form(schema, {}, [])))
    assert blank.xpath('.//textarea[@name="f.lessons.0"]')
    assert not blank.xpath('.//textarea[@name="f.lessons.1"]')
    assert blank.xpath('.//input[@name="f.genogram.people.0.name"]')
    assert not blank.xpath('.//input[@name="f.genogram.relationships.0.from"]')
    emptied = click(schema, {"lessons": ["Only"]}, "remove:lessons.0")
    assert emptied["lessons"] == []
    assert not page(str(render_form(schema, emptied, []))).xpath(
        './/textarea[@name="f.lessons.0"]')


def test_bad_actions_are_refused() -> None:
    schema = schema_of("agency_review")
    for action in ("add:nope", "add:analysis", "remove:chronology", "explode:chronology",
                   "add:", "add:chronology.9.date", "add:genogram.people.x"):
        with pytest.raises(ValueError):
            apply_action(schema, AGENCY_REVIEW, action)
    assert apply_action(schema, AGENCY_REVIEW, "remove:chronology.7") == AGENCY_REVIEW


# --------------------------------------------------------------------------------------------
# Errors and escaping


def test_errors_sit_next_to_their_field() -> None:
    schema = schema_of("agency_review")
    data = json.loads(json.dumps(AGENCY_REVIEW))
    del data["chronology"][1]["date"]
    data["genogram"]["people"][0]["age"] = "four"
    data["lessons"] = []
    errors = validate_submission(schema, data)
    fields = {error["field"] for error in errors}
    assert {"chronology.1.date", "genogram.people.0.age", "lessons"} <= fields
    form = page(str(render_form(schema, data, errors)))
    date = by_id(form, "f-chronology-1-date")
    assert date.get("aria-invalid") == "true"
    assert "f-chronology-1-date--error" in described_by(form, "f-chronology-1-date")
    assert by_id(form, "f-chronology-1-date--error").text_content() == "Error: Enter the date"
    assert by_id(form, "f-genogram-people-0-age--error").text_content() == \
        "Error: Age must be a whole number, like 4"
    assert "f-lessons--error" in by_id(form, "f-lessons").get("aria-describedby")
    assert by_id(form, "f-chronology-0-date").get("aria-invalid") is None
    summary = lxml.html.fromstring(str(form_errors_summary(errors, schema=schema, values=data)))
    link = summary.xpath('.//a[@href="#f-chronology-1-date"]')[0]
    assert link.text == "Chronology of significant events, Entry 2: Enter the date"
    links = [a.get("href") for a in summary.xpath(".//a")]
    assert links.index("#f-chronology-1-date") < links.index("#f-genogram-people-0-age") \
        < links.index("#f-lessons"), "the summary follows the page's order"


def test_form_errors_summary() -> None:
    assert form_errors_summary([]) == Markup("")
    html = str(form_errors_summary([{"field": "(form)", "message": "Stale <b>task</b>"},
                                    {"field": "a.0.b", "message": "'b' is required"}]))
    summary = lxml.html.fromstring(html)
    assert "govuk-error-summary" in summary.get("class")
    assert summary.get("data-module") == "govuk-error-summary"  # moves focus to itself
    assert summary.xpath('.//*[@role="alert"]')
    assert [li.text_content() for li in summary.iter("li")] == \
        ["Stale <b>task</b>", "'b' is required"]
    assert summary.xpath(".//a/@href") == ["#f-a-0-b"]
    assert errors_by_field([{"field": "(form)", "message": "x"}, {"field": "a", "message": "y"},
                            {"field": "a", "message": "z"}]) == {"(form)": ["x"], "a": ["y", "z"]}


def test_values_and_messages_are_escaped() -> None:
    schema = schema_of("chair_endorsement")
    nasty = '<script>alert("x")</script>'
    data = {"endorsement": "decline", "endorsement_reasons": nasty, "chair_comments": nasty}
    html = str(render_form(schema, data, [{"field": "chair_comments", "message": nasty}]))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert round_trip(schema, data) == data
    text_schema = {"type": "object", "properties": {"t": {"type": "string", "title": nasty}}}
    html = str(render_form(text_schema, {"t": '"><script>'}, []))
    assert "<script>" not in html
    assert page(html).xpath('.//input[@name="f.t"]')[0].get("value") == '"><script>'


def test_every_text_the_schema_supplies_is_escaped_in_every_widget() -> None:
    """The macros draw titles, hints, option labels, row labels and messages autoescaped."""
    tag = "<b>x</b>"
    rows = {"type": "object", "title": tag, "properties": {"r": {"type": "string", "title": tag}}}
    properties: dict[str, Any] = {
        "text": {"type": "string"},
        "area": {"type": "string", "format": "textarea"},
        "day": {"type": "string", "format": "date"},
        "count": {"type": "integer"},
        "yes": {"type": "boolean"},
        "few": {"enum": ["a", "b"], "enumNames": [tag, tag]},
        "many": {"enum": list("abcdef"), "enumNames": [tag] * 6},
        "ticks": {"type": "array", "items": {"enum": ["a", "b"], "enumNames": [tag, tag]}},
        "group": {"type": "object", "properties": {"inner": {"type": "string", "title": tag}}},
        "list": {"type": "array", "minItems": 1, "items": rows},
    }
    for sub in properties.values():
        sub.setdefault("title", tag)
        sub["description"] = tag
    schema = {"type": "object", "required": list(properties), "properties": properties}
    errors = [{"field": name, "message": tag} for name in [*properties, "list.0.r", "(form)"]]
    values = {"text": tag, "area": tag, "list": [{"r": tag}]}
    html = str(render_form(schema, values, errors)) + str(
        form_errors_summary(errors, schema=schema))
    assert "<b>" not in html
    assert html.count("&lt;b&gt;x&lt;/b&gt;") > 5 * len(properties)
