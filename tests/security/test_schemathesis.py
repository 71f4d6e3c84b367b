"""Property-based tests of every operation in the app's OpenAPI document (schemathesis 4).

Stateless: for each operation, MAX_EXAMPLES generated requests that match the schema
(positive) and MAX_EXAMPLES that break it (negative), derandomized so that every run sends the
same requests, authenticated with a token that holds every role. Each response is checked:

* not_a_server_error: no 5xx;
* response_schema_conformance: the body matches the documented schema for its status;
* status_code_conformance: the status is one the operation documents;
* negative_data_rejection: a request that breaks the schema is refused (4xx);
* positive_data_acceptance: one that matches it is not refused with 422, except on the
  operations (`MEANING_CHECKED`) whose bodies must also name what exists or pass a form.

Nothing is excluded: multipart deployments work (random files are refused with 422). NUL is
not generated: it cannot be stored and is refused everywhere (tests/security/test_input_integrity).

Stateful: sequences that follow the document's links (`app/api/openapi_links.py`), with the
same checks plus ensure_resource_availability and ignored_auth (each call is also sent without
the token and with a wrong one), derandomized and bounded (STATEFUL_EXAMPLES sequences of at most
STATEFUL_STEPS calls), on both backends.

Why not `schema.parametrize()`: with a database made in a fixture the schema has to be loaded
lazily (`schemathesis.pytest.from_fixture`), which fails under pytest 9 ('Function' object has
no attribute '_nodeid'); so the test walks the operations itself and reports every failing
one at the end, each with schemathesis' own description and a curl command to reproduce it.

The stateless run is SQLite only: the schema does not depend on the backend and the run is the
slowest test here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, CheckFunction, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    ensure_resource_availability,
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.clock import ManualClock
from app.db.migrate import upgrade
from app.main import create_app
from app.services.context import ServiceContext, build_context
from app.settings import Settings
from tests.conftest import PROCESSES, START, route_files, token_for

ALL_ROLES = ("board_manager", "chair", "panel_member", "reviewer", "agency_lead", "designer",
             "auditor", "admin")
MAX_EXAMPLES = 15
STATEFUL_EXAMPLES = 20
STATEFUL_STEPS = 6
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          negative_data_rejection]
STATEFUL = [ensure_resource_availability, ignored_auth]
MEANING_CHECKED = {
    # operations whose schema-valid bodies can still be refused (422) for what they mean:
    # names that must exist in the database, files that must be BPMN, a scenario that must run
    "POST /api/v1/deployments",
    "POST /api/v1/definitions/{key}/simulate",
    "POST /api/v1/referrals",
    "POST /api/v1/instances",  # the process runs on the data until it waits: it may refuse it
    "POST /api/v1/tasks/{task_id}/complete",  # the task's form validates the data
    "POST /api/v1/tasks/{task_id}/assign",  # to a user who must exist
    "POST /api/v1/publications",
    "POST /api/v1/learning-events",
}
"""Exempt from positive_data_acceptance only; every other check still runs on them."""


def checks_for(operation: APIOperation) -> list[CheckFunction]:
    return CHECKS if operation.label in MEANING_CHECKED else [*CHECKS, positive_data_acceptance]


class AsServed:
    """Serve the app as uvicorn would: an exception raised after the app sent its 500 response
    is the app's to log, not the client's to see, so schemathesis gets the 500 as a response
    (and reports it with a reproduction) instead of the exception."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if not started:
                raise


@dataclass(frozen=True)
class Served:
    app: ASGIApp
    config: schemathesis.Config
    process_keys: list[str]
    headers: dict[str, str]


def serve(ctx: ServiceContext) -> Served:
    """The app on `ctx`'s database, with something to find: the Board's processes and a case
    with open tasks."""
    app = create_app(context=ctx)
    token = token_for(ctx, *ALL_ROLES, agency="police", name="schemathesis")
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        files = [("files", (p.name, p.read_bytes(), "application/xml")) for p in route_files()]
        assert client.post("/api/v1/deployments", files=files).status_code == 201
        referral = client.post("/api/v1/referrals", json={
            "child_pseudonym": "Child A", "agencies": ["police", "health"],
            "incident_date": "2026-02-20", "summary": "Admitted to hospital.",
            "facts": {"abuse_or_neglect": True, "seriously_harmed": True}})
        assert referral.status_code == 201, referral.text
        keys = sorted({row["process_key"] for row in client.get("/api/v1/definitions").json()})
    config = schemathesis.Config.from_dict({
        "seed": 20260302,
        "headers": {"Authorization": f"Bearer {token}"},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True,
                       "database": "none",
                       # a NUL cannot be stored, and is refused (422) wherever it is sent
                       "allow-x00": False},
    })
    return Served(AsServed(app), config, keys, {"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('schemathesis')) / 'reviewflow.db'}"
    upgrade(url)
    ctx = build_context(Settings(database_url=url, processes_dir=PROCESSES),
                        clock=ManualClock(START))
    yield serve(ctx)
    ctx.close()


@pytest.fixture(scope="module")
def api_schema(served: Served) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", served.app, config=served.config)


def stateful_schema(served: Served) -> schemathesis.BaseSchema:
    """The document, with the names a request must give narrowed to ones the service knows
    (a deployed process, the agencies of the token's case, a past incident date), so that
    sequences get past creating a case or an instance and on to what follows it."""
    document = copy.deepcopy(create_app().openapi())
    bodies = document["components"]["schemas"]
    bodies["ReferralCreate"]["properties"]["agencies"]["items"] = {"enum": ["police", "health"]}
    bodies["ReferralCreate"]["properties"]["incident_date"] = {"enum": ["2026-02-20"]}
    bodies["InstanceCreate"]["properties"]["process_key"] = {"enum": served.process_keys}
    schema = schemathesis.openapi.from_dict(document, config=served.config)
    schema.app = served.app
    return schema


def _run(operation: APIOperation, mode: GenerationMode) -> None:
    checks = checks_for(operation)

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=checks)

    run()


def test_every_operation_conforms_to_the_openapi_document(
        api_schema: schemathesis.BaseSchema) -> None:
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _run(operation, mode)
            except Unsatisfiable:
                pass  # no request can break the schema of an operation without parameters
            except (Exception, FailureGroup) as failure:
                failures.append(f"[{mode.value}] {operation.label}: {failure}")
    assert operations >= 26
    assert not failures, f"{len(failures)} operation(s) fail:\n\n" + "\n\n".join(failures)


def test_stateful_sequences_find_no_server_error(ctx: ServiceContext) -> None:
    """Follow the document's links (a referral to its case and tasks, an instance to its
    timeline, a page of tasks to completing one), each step checked as above plus the stateful
    checks: a resource a response names can be read, and a call without the token is refused."""
    served = serve(ctx)
    base = stateful_schema(served).as_state_machine()
    assert len(base.bundles) >= 10, "the document declares too few links to follow"
    answered: list[tuple[str, int]] = []

    class Workflow(base):  # type: ignore[misc, valid-type]
        def validate_response(self, response: Response, case: schemathesis.Case,
                              additional_checks: list[CheckFunction] | None = None,
                              **kwargs: object) -> None:
            answered.append((case.operation.label, response.status_code))
            case.validate_response(response, checks=[*checks_for(case.operation), *STATEFUL],
                                   headers=served.headers, transport_kwargs=kwargs or None,
                                   recorder=self.recorder)

    Workflow.run(settings=settings(max_examples=STATEFUL_EXAMPLES,
                                   stateful_step_count=STATEFUL_STEPS, derandomize=True,
                                   database=None, deadline=None, phases=[Phase.generate],
                                   suppress_health_check=list(HealthCheck)))
    # the links were followed: a case was referred, then read, and one of its tasks opened
    assert {("POST /api/v1/referrals", 201), ("GET /api/v1/cases/{reference}", 200),
            ("GET /api/v1/tasks/{task_id}", 200)} <= set(answered)
