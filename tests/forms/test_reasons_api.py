"""The REST API's own reasons follow the forms' rule: one annotated type, `ReasonText`, calls the
same check as the `x-reason` keyword (issue 16, point 5)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError

from app.api.schemas import ReasonText
from app.services.form_keywords import REASON_MESSAGE
from tests.conftest import ClientFactory
from tests.forms import errors_of
from tests.routes.driver import CaseDriver

EMPTY = ["   ", "...", "\t-\n", "!?"]


@pytest.mark.parametrize("text", EMPTY)
def test_the_type_refuses_what_has_no_words(text: str) -> None:
    with pytest.raises(ValidationError, match=REASON_MESSAGE):
        TypeAdapter(ReasonText).validate_python(text)
    assert TypeAdapter(ReasonText).validate_python("New facts") == "New facts"


def _case_in_review(client: TestClient) -> CaseDriver:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    driver.screen("concise")
    driver.endorse()
    return driver


@pytest.mark.parametrize("reason", EMPTY)
def test_an_escalation_needs_a_reason_in_words(client: TestClient, reason: str) -> None:
    driver = _case_in_review(client)
    before = driver.case()
    response = client.post(f"/api/v1/cases/{driver.reference}/escalations",
                           json={"grade": "catastrophic", "reason": reason})
    assert list(errors_of(response)) == ["reason"]
    after = driver.case()
    assert (after["grade"], after["updated_at"]) == (before["grade"], before["updated_at"])


def test_an_urgent_concern_needs_a_description_in_words(client: TestClient) -> None:
    driver = _case_in_review(client)
    response = client.post(f"/api/v1/cases/{driver.reference}/concerns",
                           json={"description": " ... "})
    assert list(errors_of(response)) == ["description"]
    assert driver.events("concern_raised") == []
    assert client.post(f"/api/v1/cases/{driver.reference}/concerns", json={
        "description": "The child was seen with new bruises."}).status_code == 201


def test_cancelling_an_action_needs_a_reason_in_words(make_client: ClientFactory) -> None:
    """The body is refused before any action is looked up: a reason in words gets as far as
    finding there is no such action."""
    health = make_client("agency_lead", agency="health")
    response = health.patch("/api/v1/actions/7", json={"status": "cancelled",
                                                       "cancel_reason": " - "})
    assert list(errors_of(response)) == ["cancel_reason"]
    assert health.patch("/api/v1/actions/7", json={
        "status": "cancelled", "cancel_reason": "Superseded by a new policy"}).status_code == 404
