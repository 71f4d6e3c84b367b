"""Each keyword accepts and refuses through `POST /api/v1/tasks/{id}/complete`, names the
field, and a refusal writes nothing (issue 16, points 5 and 6)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import ManualClock
from tests.forms import complete, errors_of, start_keywords

REASON = "The family asked not to take part."


def _answer(client: TestClient) -> tuple[str, str]:
    body = start_keywords(client)
    [task] = body["ready_tasks"]
    assert task["bpmn_id"] == "answer"
    return body["id"], task["id"]


@pytest.mark.parametrize("reason", ["", " ", "   \n\t", ".", "...", " - ", "?!", "__"])
def test_a_reason_without_words_is_refused_naming_the_field(client: TestClient,
                                                            reason: str) -> None:
    _, task_id = _answer(client)
    errors = errors_of(complete(client, task_id, {"reason": reason}))
    assert set(errors) == {"reason"}
    if reason:  # an empty string also fails minLength; any other says what to do
        assert errors["reason"] == ["Enter the reasons in words: an answer of only spaces or "
                                    "punctuation is not a reason"]


@pytest.mark.parametrize("reason", ["No", "n/a: see the chronology", "3 agencies", "Décidé"])
def test_a_reason_with_words_is_accepted(client: TestClient, reason: str) -> None:
    _, task_id = _answer(client)
    assert complete(client, task_id, {"reason": reason}).status_code == 200


def test_a_reason_inside_a_list_is_named_by_its_row(client: TestClient) -> None:
    _, task_id = _answer(client)
    errors = errors_of(complete(client, task_id, {"reason": REASON, "steps": [
        {"why": "A visit"}, {"why": " ;; "}]}))
    assert set(errors) == {"steps.1.why"}


def test_nothing_is_written_when_the_form_is_refused(client: TestClient) -> None:
    instance_id, task_id = _answer(client)
    before = client.get(f"/api/v1/instances/{instance_id}").json()
    events = client.get(f"/api/v1/instances/{instance_id}/timeline").json()
    errors_of(complete(client, task_id, {"reason": "  ", "sent_on": "2030-01-01",
                                         "period_from": "2026-01-02",
                                         "period_to": "2026-01-01"}))
    after = client.get(f"/api/v1/instances/{instance_id}").json()
    assert after["updated_at"] == before["updated_at"]
    assert after["data"] == before["data"]
    assert "sent_on" not in after["data"]
    assert [t["state"] for t in after["ready_tasks"]] == ["ready"]
    assert client.get(f"/api/v1/instances/{instance_id}/timeline").json() == events


def test_dates_out_of_order_are_refused_naming_both_fields(client: TestClient) -> None:
    _, task_id = _answer(client)
    for period_to in ("2025-01-31", "2025-02-01"):  # before, and the same day: strictly after
        errors = errors_of(complete(client, task_id, {
            "reason": REASON, "period_from": "2025-02-01", "period_to": period_to}))
        assert set(errors) == {"period_from", "period_to"}
        # Each says what to do, naming the other field by its question (never its id).
        assert errors["period_from"][0].startswith("Enter a date before 'To' (")
        assert errors["period_to"][0] == "Enter a date after 'From' (1 February 2025)"
    assert complete(client, task_id, {"reason": REASON, "period_from": "2025-02-01",
                                      "period_to": "2025-02-02"}).status_code == 200


def test_dates_out_of_order_inside_a_row(client: TestClient) -> None:
    _, task_id = _answer(client)
    errors = errors_of(complete(client, task_id, {"reason": REASON, "steps": [
        {"opened_on": "2025-01-01", "closed_on": "2025-03-01"},
        {"opened_on": "2025-05-01", "closed_on": "2025-04-01"}]}))
    assert set(errors) == {"steps.1.opened_on", "steps.1.closed_on"}


def test_a_date_that_is_not_a_date_is_refused(client: TestClient) -> None:
    _, task_id = _answer(client)
    errors = errors_of(complete(client, task_id, {"reason": REASON, "period_from": "2026-02-30",
                                                  "sent_on": "yesterday"}))
    assert set(errors) == {"period_from", "sent_on"}


def test_a_sent_on_date_cannot_be_in_the_future_of_the_injected_clock(
        client: TestClient, clock: ManualClock) -> None:
    _, task_id = _answer(client)
    today = clock.now().date()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    errors = errors_of(complete(client, task_id, {"reason": REASON, "sent_on": tomorrow}))
    assert errors == {"sent_on": [
        "Enter a date that is today or in the past: "
        f"{(today + dt.timedelta(days=1)).day} "
        f"{(today + dt.timedelta(days=1)):%B %Y} is after today ({today.day} {today:%B %Y})"]}
    clock.advance(dt.timedelta(days=1))
    assert complete(client, task_id, {"reason": REASON, "sent_on": tomorrow}).status_code == 200


def test_today_is_not_in_the_future(client: TestClient, clock: ManualClock) -> None:
    _, task_id = _answer(client)
    assert complete(client, task_id, {"reason": REASON,
                                      "sent_on": clock.now().date().isoformat()}).status_code \
        == 200


def test_not_after_a_process_date_unless_a_reason_is_given(client: TestClient) -> None:
    _, task_id = _answer(client)
    late: dict[str, Any] = {"reason": REASON, "publication_due": "2026-09-02"}
    errors = errors_of(complete(client, task_id, late))
    assert set(errors) == {"publication_due"}
    assert "scr publication limit (1 September 2026)" in errors["publication_due"][0]
    assert "'late_reason'" in errors["publication_due"][0]  # the API names the field
    errors = errors_of(complete(client, task_id, {**late, "late_reason": " . "}))
    assert set(errors) == {"publication_due", "late_reason"}
    assert complete(client, task_id, {**late, "late_reason": "The trial delays publication."}
                    ).status_code == 200


def test_not_after_accepts_the_limit_itself(client: TestClient) -> None:
    _, task_id = _answer(client)
    assert complete(client, task_id, {"reason": REASON, "publication_due": "2026-09-01"}
                    ).status_code == 200


def test_same_as_the_plan_unless_a_reason_is_given(client: TestClient) -> None:
    _, task_id = _answer(client)
    other: dict[str, Any] = {"reason": REASON, "published_format": "shortened"}
    errors = errors_of(complete(client, task_id, other))
    assert set(errors) == {"published_format"}
    assert "readership (whole)" in errors["published_format"][0]
    assert complete(client, task_id, {**other, "format_change_reason":
                                      "The court ordered a shortened report."}).status_code == 200


def test_same_as_the_plan_is_accepted(client: TestClient) -> None:
    _, task_id = _answer(client)
    assert complete(client, task_id, {"reason": REASON, "published_format": "whole"}
                    ).status_code == 200


def test_a_keyword_with_a_value_it_cannot_take_is_refused_at_deployment(
        client: TestClient) -> None:
    form = {"type": "object", "properties": {"a": {"type": "string", "format": "date"},
                                             "b": {"type": "string", "x-agency": "maybe"}},
            "x-date-order": ["a", "b"]}
    response = client.post("/api/v1/deployments", files=[
        ("files", ("broken.schema.json", json.dumps(form).encode(), "application/json"))])
    assert response.status_code == 422, response.text
    reasons = sorted(p["reason"] for p in response.json()["problems"])
    assert reasons == [
        '/properties/b/x-agency: x-agency must be true, "actionable" or '
        '{"actionable_if": <field>}',
        "/x-date-order: x-date-order must be a list of lists of two or more field names"]
