"""Issue 17, point 7: replays create nothing twice. The API's `Idempotency-Key` answers a command
sent again with its first result; the referral form's token is single use."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import httpx
import lxml.html
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, insert, select

from app.clock import ManualClock
from app.db.models import Event, IdempotencyKey, ProcessInstance, ReviewCase
from app.main import create_app
from app.services import idempotency, retention
from app.services.context import ServiceContext
from tests.conftest import FIXTURES, ClientFactory, route_files, token_for, upload
from tests.grading.test_referral_page import browser  # noqa: F401  (a fixture)

KEY = "Idempotency-Key"
REFERRAL = {"child_pseudonym": "Child A", "agencies": ["police", "health"],
            "incident_date": "2026-02-20", "summary": "Child A was admitted to hospital.",
            "facts": {"abuse_or_neglect": True, "seriously_harmed": True}}
WAITING = {"process_key": "message_wait", "business_key": "CASE-1"}
MESSAGE = {"name": "agency_response", "business_key": "CASE-1", "data": {"answer_count": 4}}


def count(ctx: ServiceContext, model: type, *where: object) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def twice(client: TestClient, path: str, body: dict, key: str) -> tuple[httpx.Response, ...]:
    return tuple(client.post(path, json=body, headers={KEY: key}) for _ in range(2))


def assert_replayed(first: httpx.Response, again: httpx.Response, status: int) -> None:
    assert first.status_code == again.status_code == status, again.text
    assert again.content == first.content  # the first answer, byte for byte
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


def test_a_referral_sent_twice_with_one_key_opens_one_case(client: TestClient,
                                                           ctx: ServiceContext) -> None:
    upload(client, *route_files())
    first, again = twice(client, "/api/v1/referrals", REFERRAL, "referral-1")
    assert_replayed(first, again, 201)
    assert count(ctx, ReviewCase) == 1
    # another key is another referral; a key is the caller's own
    other = client.post("/api/v1/referrals", json=REFERRAL, headers={KEY: "referral-2"})
    assert other.status_code == 201
    assert other.json()["reference"] != first.json()["reference"]
    assert count(ctx, ReviewCase) == 2


def test_an_instance_started_twice_with_one_key_starts_once(
        client: TestClient, ctx: ServiceContext, make_client: ClientFactory) -> None:
    upload(client, FIXTURES / "message_wait.bpmn")
    first, again = twice(client, "/api/v1/instances", WAITING, "start-1")
    assert_replayed(first, again, 201)
    assert count(ctx, ProcessInstance) == 1
    # the same key from another caller is theirs: it starts their own instance
    other = make_client("board_manager", name="another-system")
    theirs = other.post("/api/v1/instances", json=WAITING, headers={KEY: "start-1"})
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert count(ctx, ProcessInstance) == 2


def test_a_message_sent_twice_with_one_key_is_delivered_once(client: TestClient,
                                                             ctx: ServiceContext) -> None:
    upload(client, FIXTURES / "message_wait.bpmn")
    started = client.post("/api/v1/instances", json=WAITING).json()
    first, again = twice(client, "/api/v1/messages", MESSAGE, "answer-1")
    assert_replayed(first, again, 200)
    assert [t["bpmn_id"] for t in first.json()["ready_tasks"]] == ["read_answer"]
    assert count(ctx, Event, Event.instance_id == started["id"],
                 Event.type == "message_received") == 1
    # without a key, the same message is delivered again: here, to no one (404)
    assert client.post("/api/v1/messages", json=MESSAGE).status_code == 404


def test_the_same_key_with_another_body_is_refused(client: TestClient,
                                                   ctx: ServiceContext) -> None:
    upload(client, FIXTURES / "message_wait.bpmn")
    assert client.post("/api/v1/instances", json=WAITING, headers={KEY: "k"}).status_code == 201
    # the same content in another order and spacing is the same request
    same = client.post("/api/v1/instances", headers={KEY: "k", "content-type": "application/json"},
                       content=b'{ "business_key": "CASE-1",  "process_key": "message_wait" }')
    assert same.status_code == 201 and same.headers["Idempotent-Replayed"] == "true"
    changed = client.post("/api/v1/instances", json={**WAITING, "business_key": "CASE-2"},
                          headers={KEY: "k"})
    assert changed.status_code == 422, changed.text
    assert changed.json()["field"] == KEY and KEY in changed.json()["detail"]
    assert count(ctx, ProcessInstance) == 1


@pytest.mark.parametrize("key", [b"", b"x" * 256, "cl\xe9".encode("latin-1"), b"a\x7fb"],
                         ids=["empty", "too-long", "not-ascii", "control"])
def test_a_bad_key_is_refused_naming_the_header(client: TestClient, ctx: ServiceContext,
                                                key: bytes) -> None:
    upload(client, FIXTURES / "message_wait.bpmn")
    response = client.post("/api/v1/instances", json=WAITING, headers={KEY: key})
    assert response.status_code == 422, response.text
    assert KEY in response.text
    assert count(ctx, ProcessInstance) == 0


def test_a_command_that_fails_does_not_use_its_key(client: TestClient,
                                                   ctx: ServiceContext) -> None:
    refused = client.post("/api/v1/instances", json=WAITING, headers={KEY: "early"})
    assert refused.status_code == 404  # not deployed yet: nothing committed, the key is free
    assert count(ctx, IdempotencyKey) == 0
    upload(client, FIXTURES / "message_wait.bpmn")
    started = client.post("/api/v1/instances", json=WAITING, headers={KEY: "early"})
    assert started.status_code == 201 and "Idempotent-Replayed" not in started.headers
    with ctx.uow() as uow:  # kept with the instance, its answer in the same transaction
        row = uow.session.scalars(select(IdempotencyKey)).one()
    assert (row.status_code, row.instance_id) == (201, started.json()["id"])
    assert row.response_body is not None and row.response_body.encode() == started.content


def _fail_once(ctx: ServiceContext, name: str, fragment: str = "") -> Callable[[], None]:
    """Fail the engine's first `commit`, or its first statement holding `fragment`."""
    armed = [True]

    def fail(_conn: Any, *args: Any) -> None:
        if armed[0] and (name == "commit" or fragment in args[1]):
            armed[0] = False
            raise RuntimeError(f"injected failure at {name} {fragment}")

    event.listen(ctx.engine, name, fail)
    return lambda: event.remove(ctx.engine, name, fail)


@pytest.mark.parametrize("point", [("before_cursor_execute", "INSERT INTO idempotency_key"),
                                   ("before_cursor_execute", "INSERT INTO process_instance"),
                                   ("commit", "")], ids=["key and answer", "instance", "commit"])
def test_a_failure_keeps_neither_the_key_nor_what_it_created(
        client: TestClient, ctx: ServiceContext, point: tuple[str, str]) -> None:
    """The key, its answer and the instance are one transaction: a 5xx leaves none of them,
    and the same request then runs as new."""
    upload(client, FIXTURES / "message_wait.bpmn")
    token = token_for(ctx, "board_manager", name="crashing-system")
    with TestClient(create_app(context=ctx), raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {token}"}) as caller:
        stop = _fail_once(ctx, *point)
        try:
            failed = caller.post("/api/v1/instances", json=WAITING, headers={KEY: "crash"})
        finally:
            stop()
        assert failed.status_code == 500, failed.text
        assert count(ctx, ProcessInstance) == count(ctx, IdempotencyKey) == 0
        again = caller.post("/api/v1/instances", json=WAITING, headers={KEY: "crash"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert count(ctx, ProcessInstance) == count(ctx, IdempotencyKey) == 1


def test_the_answer_is_kept_with_the_key_in_one_statement(client: TestClient,
                                                          ctx: ServiceContext) -> None:
    """No second write after the commit: a key is never committed without its answer."""
    upload(client, FIXTURES / "message_wait.bpmn")
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "idempotency_key" in statement and not statement.startswith("SELECT"):
            seen.append(statement.split(" (")[0].split(" SET")[0])

    event.listen(ctx.engine, "before_cursor_execute", before)
    try:
        first = client.post("/api/v1/instances", json=WAITING, headers={KEY: "kept"})
    finally:
        event.remove(ctx.engine, "before_cursor_execute", before)
    assert first.status_code == 201, first.text
    assert seen == ["INSERT INTO idempotency_key"]
    with ctx.uow() as uow:
        [kept] = uow.session.scalars(select(IdempotencyKey.response_body))
    assert kept == first.text


def test_a_key_whose_first_answer_is_missing_is_a_409(client: TestClient,
                                                      ctx: ServiceContext) -> None:
    """A key committed without its answer (the first request is still being answered, or its
    process stopped in between) never runs the command again."""
    upload(client, FIXTURES / "message_wait.bpmn")
    first = client.post("/api/v1/instances", json=WAITING, headers={KEY: "pending"})
    with ctx.uow() as uow:
        row = uow.session.scalars(select(IdempotencyKey)).one()
        uow.session.execute(insert(IdempotencyKey).values(
            caller=row.caller, operation=row.operation, key="stopped",
            fingerprint=row.fingerprint, status_code=201, response_body=None,
            instance_id=first.json()["id"], created_at=row.created_at))
        uow.commit()
    response = client.post("/api/v1/instances", json=WAITING, headers={KEY: "stopped"})
    assert response.status_code == 409, response.text
    assert response.json()["field"] == KEY
    assert response.json()["instance_id"] == first.json()["id"]
    assert count(ctx, ProcessInstance) == 1


def test_a_key_is_free_again_after_a_day(client: TestClient, ctx: ServiceContext,
                                         clock: ManualClock) -> None:
    upload(client, FIXTURES / "message_wait.bpmn")
    first = client.post("/api/v1/instances", json=WAITING, headers={KEY: "daily"})
    clock.advance(dt.timedelta(hours=23))
    assert client.post("/api/v1/instances", json=WAITING,
                       headers={KEY: "daily"}).content == first.content
    clock.advance(dt.timedelta(hours=1))  # 24 hours: kept no longer
    later = client.post("/api/v1/instances", json=WAITING, headers={KEY: "daily"})
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert later.json()["id"] != first.json()["id"]
    assert count(ctx, ProcessInstance) == 2
    assert count(ctx, IdempotencyKey) == 1


def test_keys_past_their_lifetime_are_forgotten(client: TestClient, ctx: ServiceContext,
                                               clock: ManualClock) -> None:
    upload(client, FIXTURES / "message_wait.bpmn")
    client.post("/api/v1/instances", json=WAITING, headers={KEY: "old"})
    clock.advance(dt.timedelta(hours=23))
    client.post("/api/v1/instances", json={**WAITING, "business_key": "other"},
                headers={KEY: "young"})
    assert idempotency.forget_expired(ctx) == 0
    clock.advance(dt.timedelta(hours=1))
    assert idempotency.forget_expired(ctx) == 1
    with ctx.uow() as uow:
        assert list(uow.session.scalars(select(IdempotencyKey.key))) == ["young"]


def test_erasing_a_case_erases_the_answers_kept_for_its_keys(client: TestClient,
                                                              ctx: ServiceContext) -> None:
    """A kept answer holds case data (the pseudonym, the summary): retention erases it too."""
    upload(client, *route_files())
    first = client.post("/api/v1/referrals", json=REFERRAL, headers={KEY: "to-erase"})
    kept = client.post("/api/v1/referrals", json=REFERRAL, headers={KEY: "to-keep"})
    assert count(ctx, IdempotencyKey) == 2
    reference = first.json()["reference"]
    retention.erase(ctx, retention.Expired(reference, None, ctx.clock.now(),
                                           ctx.clock.now().date()))
    with ctx.uow() as uow:
        assert list(uow.session.scalars(select(IdempotencyKey.key))) == ["to-keep"]
    assert kept.status_code == 201


def race(client: TestClient, path: str, body: dict, key: str,
         threads: int = 6) -> list[httpx.Response]:
    """POST the same command with the same key from several threads at once."""
    barrier = threading.Barrier(threads)
    responses: list[httpx.Response | None] = [None] * threads

    def run(index: int) -> None:
        barrier.wait()
        responses[index] = client.post(path, json=body, headers={KEY: key})

    started = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=120)
    assert all(response is not None for response in responses)
    return [response for response in responses if response is not None]


def assert_one_winner(responses: list[httpx.Response], status: int) -> None:
    codes = sorted(response.status_code for response in responses)
    assert set(codes) <= {status, 409}, [r.text for r in responses]
    answered = [r for r in responses if r.status_code == status]
    assert len([r for r in answered if "Idempotent-Replayed" not in r.headers]) == 1
    assert len({r.content for r in answered}) == 1
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["field"] == KEY


def test_racing_starts_with_one_key_start_one_instance(client: TestClient,
                                                       ctx: ServiceContext) -> None:
    upload(client, FIXTURES / "message_wait.bpmn")
    assert_one_winner(race(client, "/api/v1/instances", WAITING, "racing-start"), 201)
    assert count(ctx, ProcessInstance) == 1


def test_racing_referrals_with_one_key_open_one_case(client: TestClient,
                                                     ctx: ServiceContext) -> None:
    upload(client, *route_files())
    assert_one_winner(race(client, "/api/v1/referrals", REFERRAL, "racing-referral"), 201)
    assert count(ctx, ReviewCase) == 1


def test_racing_messages_with_one_key_deliver_once(client: TestClient,
                                                   ctx: ServiceContext) -> None:
    upload(client, FIXTURES / "message_wait.bpmn")
    started = client.post("/api/v1/instances", json=WAITING).json()
    assert_one_winner(race(client, "/api/v1/messages", MESSAGE, "racing-message"), 200)
    assert count(ctx, Event, Event.instance_id == started["id"],
                 Event.type == "message_received") == 1


def filled_form(page: TestClient) -> dict[str, Any]:
    response = page.get("/ui/referrals/new")
    [form] = lxml.html.fromstring(response.text).xpath('//form[contains(@class, "task-form")]')
    values: dict[str, Any] = dict(form.form_values())
    values.update({"child_pseudonym": "Child A", "agencies": ["police", "health"],
                   "incident_date-day": "20", "incident_date-month": "2",
                   "incident_date-year": "2026", "summary": "Child A was badly hurt.",
                   "abuse_or_neglect": "yes", "seriously_harmed": "yes"})
    return values


def test_the_referral_form_posted_twice_opens_one_case(browser: TestClient,  # noqa: F811
                                                       ctx: ServiceContext) -> None:
    values = filled_form(browser)
    assert values["submission_token"]
    first = browser.post("/ui/referrals/new", data=values, follow_redirects=False)
    again = browser.post("/ui/referrals/new", data=values, follow_redirects=False)
    assert first.status_code == again.status_code == 303, again.text
    location = first.headers["location"]
    assert location.endswith("?notice=referred")
    assert again.headers["location"].split("?")[0] == location.split("?")[0]
    assert "already" in again.headers["location"]
    assert count(ctx, ReviewCase) == 1
    # the same token with other answers refers nothing, and offers a new token
    edited = browser.post("/ui/referrals/new", data={**values, "summary": "Something else."},
                          follow_redirects=False)
    assert edited.status_code == 409
    assert "sent already" in edited.text
    assert values["submission_token"] not in edited.text
    assert count(ctx, ReviewCase) == 1
    # a fresh page refers another case
    another = browser.post("/ui/referrals/new", data=filled_form(browser),
                           follow_redirects=False)
    assert another.status_code == 303
    assert count(ctx, ReviewCase) == 2


@pytest.mark.parametrize("token", ["", "made-up", "nonce.0123456789abcdef0123456789abcdef"])
def test_the_referral_form_needs_the_token_its_page_issued(browser: TestClient,  # noqa: F811
                                                           ctx: ServiceContext,
                                                           token: str) -> None:
    values = {**filled_form(browser), "submission_token": token}
    response = browser.post("/ui/referrals/new", data=values, follow_redirects=False)
    assert response.status_code == 422
    assert "expired" in response.text
    assert count(ctx, ReviewCase) == 0
    [fresh] = lxml.html.fromstring(response.text).xpath('//input[@name="submission_token"]')
    resent = browser.post("/ui/referrals/new", data={**values, "submission_token":
                                                     fresh.get("value")},
                          follow_redirects=False)
    assert resent.status_code == 303
    assert count(ctx, ReviewCase) == 1
