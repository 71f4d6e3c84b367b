"""Property-based tests of every operation in the app's OpenAPI document (schemathesis 4).

Stateless: for each operation, MAX_EXAMPLES generated requests that match the schema
(positive) and MAX_EXAMPLES that break it (negative), derandomized so that every run sends the
same requests, authenticated with a token that holds every role. Each response is checked:

* not_a_server_error: no 5xx;
* response_schema_conformance: the body matches the documented schema for its status;
* status_code_conformance: the status is one the operation documents.

Nothing is excluded: multipart deployments work (random files are refused with 422).

Why not `schema.parametrize()`: with a database made in a fixture the schema has to be loaded
lazily (`schemathesis.pytest.from_fixture`), which fails under pytest 9 ('Function' object has
no attribute '_nodeid'); so the test walks the operations itself and reports every failing
one at the end, each with schemathesis' own description and a curl command to reproduce it.

SQLite only: the schema does not depend on the backend and the run is the slowest test here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.clock import ManualClock
from app.db.migrate import upgrade
from app.main import create_app
from app.services.context import build_context
from app.settings import Settings
from tests.conftest import PROCESSES, START, route_files, token_for
from tests.security import cheap_hashing  # noqa: F401  (an autouse fixture)

ALL_ROLES = ("board_manager", "chair", "panel_member", "reviewer", "agency_lead", "designer",
             "auditor", "admin")
MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


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


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('schemathesis')) / 'reviewflow.db'}"
    upgrade(url)
    ctx = build_context(Settings(database_url=url, processes_dir=PROCESSES),
                        clock=ManualClock(START))
    app = create_app(context=ctx)
    token = token_for(ctx, *ALL_ROLES, agency="police", name="schemathesis")
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        # something to find: the Board's processes and a case with open tasks
        files = [("files", (p.name, p.read_bytes(), "application/xml")) for p in route_files()]
        assert client.post("/api/v1/deployments", files=files).status_code == 201
        referral = client.post("/api/v1/referrals", json={
            "child_pseudonym": "Child A", "agencies": ["police", "health"],
            "incident_date": "2026-02-20", "summary": "Admitted to hospital.",
            "facts": {"abuse_or_neglect": True, "seriously_harmed": True}})
        assert referral.status_code == 201, referral.text
    config = schemathesis.Config.from_dict({
        "seed": 20260302,
        "headers": {"Authorization": f"Bearer {token}"},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True,
                       "database": "none"},
    })
    yield schemathesis.openapi.from_asgi("/openapi.json", AsServed(app), config=config)
    ctx.close()


def test_every_operation_conforms_to_the_openapi_document(
        api_schema: schemathesis.BaseSchema) -> None:
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
                      database=None, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                case.call_and_validate(checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                pass  # no request can break the schema of an operation without parameters
            except (Exception, FailureGroup) as failure:
                failures.append(f"[{mode.value}] {operation.label}: {failure}")
    assert operations >= 26
    assert not failures, f"{len(failures)} operation(s) fail:\n\n" + "\n\n".join(failures)
