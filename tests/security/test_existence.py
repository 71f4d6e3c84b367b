"""A case, task or action that exists but is not yours answers exactly as a missing one."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.auth import audit
from app.services.context import ServiceContext
from tests.conftest import ClientFactory
from tests.routes.driver import CaseDriver


def _same(found: object, missing: object, real_id: str, fake_id: str) -> None:
    assert str(found).replace(real_id, fake_id) == str(missing)


def test_a_case_and_its_task_that_are_not_yours_look_missing(
        ctx: ServiceContext, client: TestClient, make_client: ClientFactory) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(agencies=["police", "health"], minor_injury=True)
    [task] = driver.ready()
    education = make_client("agency_lead", agency="education", name="edu")
    reference, fake_reference = driver.reference, "LIR-2026-9999"
    for path in ("", "/timeline", "/deadlines", "/briefing"):
        found = education.get(f"/api/v1/cases/{reference}{path}")
        missing = education.get(f"/api/v1/cases/{fake_reference}{path}")
        assert found.status_code == missing.status_code == 404, (path, found.text)
        _same(found.json(), missing.json(), reference, fake_reference)
    fake_task = "00000000-0000-4000-8000-000000000000"
    for method, suffix in (("GET", ""), ("POST", "/claim"), ("POST", "/complete")):
        body = {"data": {}} if suffix == "/complete" else None
        found = education.request(method, f"/api/v1/tasks/{task['id']}{suffix}", json=body)
        missing = education.request(method, f"/api/v1/tasks/{fake_task}{suffix}", json=body)
        assert found.status_code == missing.status_code == 404, (suffix, found.text)
        _same(found.json(), missing.json(), task["id"], fake_task)
    # the pages too
    page_found = education.get(f"/ui/tasks/{task['id']}")
    page_missing = education.get(f"/ui/tasks/{fake_task}")
    assert page_found.status_code == page_missing.status_code
    # the refusal is still audited, with its real reason
    with ctx.uow() as uow:
        rows, _total = audit.query(uow.session, "edu", None, "case", reference, None, None,
                                   None, 50, 0)
    assert rows and all(row.status == 404 and row.outcome == "denied"
                        and "education" in row.detail["reason"] for row in rows)


def test_a_role_refusal_is_403_whether_or_not_the_case_exists(
        client: TestClient, make_client: ClientFactory) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(minor_injury=True)
    designer = make_client("designer", name="des")
    found = designer.get(f"/api/v1/cases/{driver.reference}")
    missing = designer.get("/api/v1/cases/LIR-2026-9999")
    assert found.status_code == missing.status_code == 403
    assert found.json() == missing.json()


def test_a_message_to_a_case_that_is_not_yours_looks_missing(
        client: TestClient, make_client: ClientFactory) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(agencies=["police", "health"], abuse_or_neglect=True, seriously_harmed=True)
    education = make_client("agency_lead", agency="education", name="edu")
    reference, fake_reference = driver.reference, "LIR-2026-9999"
    body = {"name": "agency_response", "data": {}}
    found = education.post("/api/v1/messages", json={**body, "business_key": reference})
    missing = education.post("/api/v1/messages", json={**body, "business_key": fake_reference})
    assert found.status_code == missing.status_code == 404, found.text
    _same(found.json(), missing.json(), reference, fake_reference)


def test_an_agency_cannot_stand_in_for_the_national_panel(
        client: TestClient, make_client: ClientFactory) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(agencies=["police", "health"], abuse_or_neglect=True, seriously_harmed=True)
    police = make_client("agency_lead", agency="police", name="pol")
    sent = police.post("/api/v1/messages", json={
        "name": "national_panel_advice", "business_key": driver.reference,
        "data": {"advice": "The panel advises a review."}})
    assert sent.status_code == 403
    assert "Board's manager" in sent.json()["detail"]
