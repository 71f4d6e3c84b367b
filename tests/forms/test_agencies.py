"""The agency register (issue 16, point 10): agencies are a register, not free text, and no
task is created for an agency nobody can act for."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.auth import tokens, users
from app.cli import cli
from app.clock import ManualClock
from app.db.models import ApiToken, AppUser
from app.main import create_app
from app.services.agencies import RegisterError, load_register, register_at
from app.services.context import ServiceContext, build_context
from app.settings import Settings, get_settings
from tests.conftest import PROCESSES, STAFF_ROLES, ClientFactory, token_for
from tests.forms import complete, errors_of, start_keywords
from tests.routes.driver import REVIEW_TEAM, CaseDriver

REGISTER = register_at(PROCESSES / "agencies.json")


def test_any_signed_in_role_lists_the_register(make_client: ClientFactory) -> None:
    lead = make_client("agency_lead", agency="education")
    response = lead.get("/api/v1/agencies")
    assert response.status_code == 200
    listed = {a["id"]: a for a in response.json()}
    assert listed["police"] == {"id": "police", "name": "Police", "kind": "police"}
    assert set(listed) == REGISTER.ids
    assert make_client("auditor").get("/api/v1/agencies").status_code == 200
    assert TestClient(lead.app).get("/api/v1/agencies").status_code == 401


def _scenario_agencies(value: Any, key: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _scenario_agencies(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _scenario_agencies(item, key)
    elif isinstance(value, str) and key in ("agency", "agencies", "owner_agency",
                                            "escalated_to", "discussed_with"):
        yield value


def test_every_agency_the_tests_and_scenarios_name_is_registered() -> None:
    named = {"police", "health", "education", "childrens_social_care"}
    for scenario in sorted((PROCESSES / "scenarios").glob("*.yaml")):
        named.update(_scenario_agencies(yaml.safe_load(scenario.read_text(encoding="utf-8"))))
    assert named - REGISTER.ids == set()


@pytest.mark.parametrize(("agencies", "message"), [
    ([{"id": "police", "name": "Police", "kind": "police"},
      {"id": "police", "name": "Police again", "kind": "police"}], "repeated: police"),
    ([{"id": "police", "name": "  ", "kind": "police"}], "needs a name"),
    ([{"id": "police", "name": "", "kind": "police"}], "agencies.0.name"),
    ([{"id": "police", "name": "Police", "kind": "army"}], "agencies.0.kind"),
    ([{"id": "Police Force", "name": "Police", "kind": "police"}], "agencies.0.id"),
])
def test_the_register_file_is_validated(tmp_path: Path, agencies: list[dict[str, str]],
                                        message: str) -> None:
    path = tmp_path / "agencies.json"
    path.write_text(json.dumps({"agencies": agencies}), encoding="utf-8")
    with pytest.raises(RegisterError, match=message):
        load_register(path)
    with pytest.raises(RegisterError, match="missing"):
        load_register(tmp_path / "none.json")


def test_an_unknown_agency_on_a_referral_is_refused_listing_the_known(
        client: TestClient) -> None:
    CaseDriver(client).deploy()
    response = client.post("/api/v1/referrals", json={
        "child_pseudonym": "Child A", "agencies": ["police", "polis"],
        "incident_date": "2026-02-20", "summary": "Child A was admitted to hospital."})
    errors = errors_of(response)
    assert set(errors) == {"agencies"}
    assert "'polis'" in errors["agencies"][0] and "police" in errors["agencies"][0]
    assert "childrens_social_care" in response.json()["detail"]
    assert client.get("/api/v1/cases").json()["total"] == 0


def _agency_task(client: TestClient) -> str:
    body = start_keywords(client)
    assert complete(client, body["ready_tasks"][0]["id"], {"reason": "Ready."}).status_code \
        == 200
    [task] = [t for t in client.get(f"/api/v1/instances/{body['id']}").json()["ready_tasks"]]
    assert task["bpmn_id"] == "name_agencies"
    return str(task["id"])


def test_an_unknown_agency_in_a_form_is_refused(client: TestClient) -> None:
    task_id = _agency_task(client)
    errors = errors_of(complete(client, task_id, {"escalated_to": "Social services"}))
    assert list(errors) == ["escalated_to"]
    assert errors["escalated_to"][0].startswith("unknown agency 'Social services': not in the "
                                                "Board's agency register (known: ")
    assert complete(client, task_id, {"escalated_to": "childrens_social_care"}).status_code \
        == 200


def test_a_task_for_an_agency_needs_someone_who_can_act_for_it(
        client: TestClient, ctx: ServiceContext) -> None:
    task_id = _agency_task(client)
    named = {"participating_agencies": [{"agency": "education", "writes_agency_review": True}],
             "owner_agency": "education"}
    errors = errors_of(complete(client, task_id, named))
    assert set(errors) == {"participating_agencies.0.agency", "owner_agency"}
    assert errors["owner_agency"] == [
        "no one can act for 'education': create an agency lead for it first (a user or an API "
        "token with the agency_lead role and agency 'education')"]
    now = ctx.clock.now()
    with ctx.uow() as uow:  # none of these can act: expired, revoked, inactive, another role
        tokens.create(uow.session, "old", ["agency_lead"], "education", now,
                      expires_at=now - dt.timedelta(seconds=1))
        tokens.create(uow.session, "gone", ["agency_lead"], "education", now)
        tokens.create(uow.session, "reader", ["auditor"], "education", now)
        users.create(uow.session, "left", "a long password", ["agency_lead"], "education", now)
        uow.commit()
    with ctx.uow() as uow:
        assert tokens.revoke(uow.session, "gone", now) == 1
        uow.session.scalars(select(AppUser).where(AppUser.name == "left")).one().active = False
        uow.commit()
    assert set(errors_of(complete(client, task_id, named))) == set(errors)
    with ctx.uow() as uow:
        users.create(uow.session, "e.lead", "a long password", ["agency_lead"], "education",
                     now)
        uow.commit()
    assert complete(client, task_id, named).status_code == 200


def test_a_live_token_is_someone_who_can_act(client: TestClient, ctx: ServiceContext) -> None:
    task_id = _agency_task(client)
    token_for(ctx, "agency_lead", agency="housing", name="housing-system")
    assert complete(client, task_id, {"owner_agency": "housing"}).status_code == 200


def test_an_agency_that_gets_no_task_needs_no_lead(client: TestClient) -> None:
    task_id = _agency_task(client)
    assert complete(client, task_id, {"participating_agencies": [
        {"agency": "probation", "writes_agency_review": False}],
        "escalated_to": "probation"}).status_code == 200


def test_the_terms_of_reference_take_agencies_from_the_register(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    driver.screen("concise")
    driver.endorse()
    driver.agency_client("police")
    [task] = [t for t in driver.ready() if t["bpmn_id"] == "agree_terms_of_reference"]
    terms: dict[str, Any] = {
        "terms_of_reference": "How agencies worked together.", "review_team": REVIEW_TEAM,
        "overview_author_involved": True, "methodology": "welsh_model",
        "period_from": "2025-02-01", "period_to": "2026-02-20", "participating_agencies": [
            {"agency": "police", "writes_agency_review": True},
            {"agency": "Health visiting", "writes_agency_review": True},
            {"agency": "education", "writes_agency_review": True}]}
    errors = errors_of(complete(client, task["id"], terms))
    assert "participating_agencies.0.agency" not in errors
    assert errors["participating_agencies.1.agency"][0].startswith(
        "unknown agency 'Health visiting'")
    assert errors["participating_agencies.2.agency"][0].startswith(
        "no one can act for 'education'")
    assert [t["bpmn_id"] for t in driver.ready()] == ["agree_terms_of_reference"]


def test_the_task_form_lists_the_register_as_choices(client: TestClient) -> None:
    task_id = _agency_task(client)
    schema = client.get(f"/api/v1/tasks/{task_id}").json()["form_schema"]
    owner = schema["properties"]["owner_agency"]
    assert owner["enum"] == [a.id for a in REGISTER.agencies]
    assert owner["enumNames"][0] == "Police"
    item = schema["properties"]["participating_agencies"]["items"]["properties"]["agency"]
    assert item["enum"] == owner["enum"]


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("REVIEWFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("REVIEWFLOW_PROCESSES_DIR", str(PROCESSES))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.mark.parametrize("command", [
    ["token", "create", "--name", "x-system", "--roles", "agency_lead", "--agency", "polis"],
    ["user", "create", "--name", "x.lead", "--password", "a long password", "--roles",
     "agency_lead", "--agency", "polis"],
])
def test_accounts_for_an_unknown_agency_are_refused(cli_env: CliRunner, ctx: ServiceContext,
                                                    command: list[str]) -> None:
    result = cli_env.invoke(cli, command)
    assert result.exit_code == 1
    assert "unknown agency 'polis'" in result.output and "police" in result.output
    with ctx.uow() as uow:
        assert uow.session.scalars(select(ApiToken)).all() == []
        assert uow.session.scalars(select(AppUser)).all() == []


def test_accounts_for_a_registered_agency_are_made(cli_env: CliRunner,
                                                   ctx: ServiceContext) -> None:
    made = cli_env.invoke(cli, ["token", "create", "--name", "police-system", "--roles",
                                "agency_lead", "--agency", "police"])
    assert made.exit_code == 0, made.output
    assert cli_env.invoke(cli, ["user", "create", "--name", "p.lead", "--password",
                                "a long password", "--roles", "agency_lead", "--agency",
                                "police"]).exit_code == 0
    with ctx.uow() as uow:
        assert [t.agency for t in uow.session.scalars(select(ApiToken))] == ["police"]


def test_the_demo_has_a_lead_for_each_agency_a_demo_case_names(ctx: ServiceContext) -> None:
    from app.services import demo

    demo.ensure(ctx)
    with ctx.uow() as uow:
        leads = {u.agency for u in uow.session.scalars(select(AppUser))
                 if "agency_lead" in u.roles}
    assert {"police", "health", "childrens_social_care", "education"} <= leads <= REGISTER.ids


def test_without_a_register_only_agency_fields_are_refused(
        database_url: str, clock: ManualClock, tmp_path: Path) -> None:
    ctx = build_context(Settings(database_url=database_url, processes_dir=tmp_path), clock=clock)
    try:
        with TestClient(create_app(context=ctx), headers={
                "Authorization": f"Bearer {token_for(ctx, *STAFF_ROLES)}"}) as client:
            task_id = _agency_task(client)  # the first form has no agency field
            errors = errors_of(complete(client, task_id, {"escalated_to": "police"}))
            assert errors == {"escalated_to": [
                f"{tmp_path / 'agencies.json'}: the agency register is missing"]}
            assert "enum" not in client.get(f"/api/v1/tasks/{task_id}").json()[
                "form_schema"]["properties"]["escalated_to"]
            assert client.get("/api/v1/agencies").status_code == 422
    finally:
        ctx.close()


def test_learning_event_attendance_is_counted_by_registered_agency(client: TestClient) -> None:
    event = {"held_on": "2026-02-10", "kind": "forum", "purpose": "Share the learning",
             "outputs": "Notes", "attendance": {"police": 3, "Social workers": 2}}
    errors = errors_of(client.post("/api/v1/learning-events", json=event))
    assert list(errors) == ["attendance"]
    assert "'Social workers'" in errors["attendance"][0]
    assert client.get("/api/v1/learning-events").json()["total"] == 0
    event["attendance"] = {"police": 3, "childrens_social_care": 2}
    assert client.post("/api/v1/learning-events", json=event).status_code == 201
