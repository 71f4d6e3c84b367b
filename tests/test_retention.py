"""Retention: case data is erased after its period, and the erasure is audited."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.clock import ManualClock
from app.db.models import AuditEntry, Event, ProcessInstance
from app.services import retention
from app.services.context import ServiceContext
from tests.conftest import PROCESSES
from tests.routes.driver import CaseDriver


def test_declined_case_is_erased_after_six_years(client: TestClient, ctx: ServiceContext,
                                                 clock: ManualClock) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(transported_to_hospital=True)
    driver.screen("concise")
    driver.submit("endorse_review", {"endorsement": "decline", "endorsement_reasons": "r"})
    open_case = CaseDriver(client)
    open_case.refer(minor_injury=True)
    rules = retention.load_rules(PROCESSES / "retention.json")

    clock.set(dt.datetime(2032, 3, 1, tzinfo=dt.UTC))
    assert retention.expired(ctx, rules) == []
    clock.set(dt.datetime(2032, 3, 2, tzinfo=dt.UTC))
    [item] = retention.expired(ctx, rules)
    assert item.reference == driver.reference
    assert item.erase_after == dt.date(2032, 3, 2)

    retention.erase(ctx, item)
    case = driver.case()
    assert case["status"] == "erased"
    assert case["child_pseudonym"] == "[erased]" and case["summary"] == "[erased]"
    assert case["facts"] == {} and case["current_tasks"] == []
    assert case["grade"] == "significant" and case["key_dates"]["erased"] == "2032-03-02"
    assert driver.timeline() == []
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.business_key == driver.reference)) == 0
        assert uow.session.scalar(select(func.count()).select_from(Event)) > 0  # other case
        [entry] = uow.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "retention_erase"))
    assert (entry.target_type, entry.target_id, entry.actor) == ("case", driver.reference,
                                                                 "retention")
    assert entry.detail["instances_erased"] == 1
    assert retention.expired(ctx, rules) == []
    assert open_case.case()["child_pseudonym"] == "Child A"
