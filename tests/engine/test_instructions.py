"""A task's instructions are filled in from its data, in Jinja's sandbox, never failing a step."""

from __future__ import annotations

from app.engine import instructions


def test_names_from_the_data_are_filled_in_and_unknown_ones_are_empty() -> None:
    text = instructions.render("The advice: {{ advice }}.{% if late %} It came late.{% endif %}"
                               " Reason: {{ reason }}", {"advice": "Hold an SCR", "late": True})
    assert text == "The advice: Hold an SCR. It came late. Reason:"
    assert instructions.render("Plain text", {}) == "Plain text"
    assert instructions.render(None, {}) is None


def test_a_template_that_fails_is_shown_as_written() -> None:
    broken = "The advice: {{ advice "
    assert instructions.render(broken, {"advice": "x"}) == broken
    # the sandbox gives nothing for what is not the data's own
    assert instructions.render("{{ advice.__class__.__mro__ }}", {"advice": "x"}) == ""
    assert instructions.render("{{ 1 / 0 }}", {}) == "{{ 1 / 0 }}"


def test_the_result_is_plain_text_of_bounded_length() -> None:
    assert instructions.render("{{ a }}", {"a": "<b>bold</b>"}) == "<b>bold</b>"  # the page escapes
    long = instructions.render("{{ a }}", {"a": "word " * 10_000})
    assert long is not None and len(long) == instructions.MAX_LENGTH
