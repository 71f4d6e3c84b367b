"""Sign-in resists guessing: throttled per account and per address in the database, audited
with the name tried, the same time for unknown and known names, a CSRF token that must match
its cookie, sessions a person can see and end, and no password under 12 characters."""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.auth import secrets, throttle, users
from app.cli import cli
from app.clock import ManualClock
from app.db.models import AppUser, AuditEntry, LoginSession, SignInThrottle
from app.main import create_app
from app.services.context import ServiceContext, build_context
from app.settings import Settings, get_settings
from app.web.session import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import PROCESSES

PASSWORD = "the right password"
WRONG = "not the password"


def _make_user(ctx: ServiceContext, name: str = "bea.manager") -> None:
    with ctx.uow() as uow:
        users.create(uow.session, name, PASSWORD, ["board_manager"], None, ctx.clock.now())
        uow.commit()


def _browser(ctx: ServiceContext, address: str = "192.0.2.10", agent: str = "Browser A",
             app: Any = None) -> TestClient:
    browser = TestClient(app or create_app(context=ctx), base_url="https://testserver",
                         client=(address, 50000), headers={"User-Agent": agent})
    assert browser.get("/ui/login").status_code == 200
    return browser


def _sign_in(browser: TestClient, name: str, password: str) -> Any:
    return browser.post("/ui/login", follow_redirects=False, data={
        "name": name, "password": password, "csrf_token": browser.cookies[LOGIN_CSRF_COOKIE],
        "next": "/ui/inbox"})


def _statuses(browser: TestClient, count: int, name: str = "bea.manager",
              password: str = WRONG) -> list[int]:
    return [_sign_in(browser, name, password).status_code for _ in range(count)]


@pytest.fixture
def user(ctx: ServiceContext) -> str:
    _make_user(ctx)
    return "bea.manager"


def test_five_failures_then_a_growing_delay_then_a_fifteen_minute_lock(
        ctx: ServiceContext, clock: ManualClock, user: str) -> None:
    browser = _browser(ctx)
    assert _statuses(browser, 5) == [401] * 5
    refused = _sign_in(browser, user, PASSWORD)  # even the right password waits
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2"
    assert "Too many failed sign-ins" in refused.text and "2 seconds" in refused.text
    for delay in (2, 4, 8, 16):
        clock.advance(dt.timedelta(seconds=delay - 1))
        assert _sign_in(browser, user, WRONG).status_code == 429  # not yet
        clock.advance(dt.timedelta(seconds=1))
        assert _sign_in(browser, user, WRONG).status_code == 401
        assert _sign_in(browser, user, WRONG).headers.get("Retry-After") == str(delay * 2)
    clock.advance(dt.timedelta(seconds=32))
    assert _sign_in(browser, user, WRONG).status_code == 401  # the tenth failure: locked
    locked = _sign_in(browser, user, PASSWORD)
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "900"
    clock.advance(dt.timedelta(minutes=15) - dt.timedelta(seconds=1))
    assert _sign_in(browser, user, PASSWORD).status_code == 429
    clock.advance(dt.timedelta(seconds=1))
    assert _sign_in(browser, user, PASSWORD).status_code == 303
    with ctx.uow() as uow:
        assert throttle.failures(uow.session, throttle.ACCOUNT, user) == 0


def test_a_successful_sign_in_clears_the_accounts_failures(ctx: ServiceContext,
                                                          user: str) -> None:
    browser = _browser(ctx)
    assert _statuses(browser, 4) == [401] * 4
    assert _sign_in(browser, user, PASSWORD).status_code == 303
    browser.cookies.delete(SESSION_COOKIE)
    assert browser.get("/ui/login").status_code == 200
    assert _statuses(browser, 6) == [401] * 5 + [429]


def test_unknown_names_are_throttled_like_known_ones(ctx: ServiceContext, user: str) -> None:
    browser = _browser(ctx)
    assert _statuses(browser, 6, name="no.such.person") == [401] * 5 + [429]
    assert _sign_in(browser, user, PASSWORD).status_code == 303  # another name is not held


def test_failures_are_forgotten_after_a_quiet_period(ctx: ServiceContext, clock: ManualClock,
                                                     user: str) -> None:
    browser = _browser(ctx)
    assert _statuses(browser, 4) == [401] * 4
    clock.advance(dt.timedelta(minutes=15))
    assert _statuses(browser, 6) == [401] * 5 + [429]


@pytest.fixture
def strict_ctx(database_url: str, clock: ManualClock) -> Iterator[ServiceContext]:
    """Few failures per client address, so the address's limit comes before any account's."""
    context = build_context(Settings(database_url=database_url, processes_dir=PROCESSES,
                                     sign_in_address_free_failures=3,
                                     sign_in_address_lock_failures=4), clock=clock)
    yield context
    context.close()


def test_failures_from_one_address_are_throttled_whatever_the_names(
        strict_ctx: ServiceContext, clock: ManualClock) -> None:
    _make_user(strict_ctx)
    sprayer = _browser(strict_ctx, address="198.51.100.7")
    assert [_sign_in(sprayer, f"guess.{n}", WRONG).status_code for n in range(3)] == [401] * 3
    held = _sign_in(sprayer, "bea.manager", PASSWORD)
    assert held.status_code == 429 and held.headers["Retry-After"] == "2"
    # another address is not held, and the account itself has no failures
    assert _sign_in(_browser(strict_ctx), "bea.manager", PASSWORD).status_code == 303
    clock.advance(dt.timedelta(seconds=2))
    assert _sign_in(sprayer, "guess.4", WRONG).status_code == 401  # the fourth: locked
    assert _sign_in(sprayer, "bea.manager", PASSWORD).headers["Retry-After"] == "900"


def test_signing_in_often_from_one_address_is_not_held(strict_ctx: ServiceContext) -> None:
    """Each attempt is counted before its check and taken back when it signs in."""
    _make_user(strict_ctx)
    office = _browser(strict_ctx, address="203.0.113.5")
    for _ in range(6):
        assert _sign_in(office, "bea.manager", PASSWORD).status_code == 303
        office.cookies.delete(SESSION_COOKIE)
        office.get("/ui/login")


def test_the_count_is_held_in_the_database_across_processes(
        database_url: str, clock: ManualClock) -> None:
    """Two apps with engines of their own stand for two server processes."""
    contexts = [build_context(Settings(database_url=database_url, processes_dir=PROCESSES),
                              clock=clock) for _ in range(2)]
    try:
        _make_user(contexts[0])
        first, second = (_browser(context) for context in contexts)
        assert _statuses(first, 3) == [401] * 3
        assert _statuses(second, 2) == [401] * 2
        assert _sign_in(first, "bea.manager", PASSWORD).status_code == 429
        assert _sign_in(second, "bea.manager", PASSWORD).status_code == 429
    finally:
        for context in contexts:
            context.close()


def test_attempts_sent_at_once_get_no_more_than_the_free_failures(ctx: ServiceContext,
                                                                   user: str) -> None:
    app = create_app(context=ctx)
    browsers = [_browser(ctx, app=app) for _ in range(12)]
    statuses: list[int] = []
    start = threading.Barrier(len(browsers))

    def guess(browser: TestClient) -> None:
        start.wait()
        statuses.append(_sign_in(browser, user, WRONG).status_code)

    threads = [threading.Thread(target=guess, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * 5 + [429] * 7


def test_every_failure_is_audited_with_the_name_tried(ctx: ServiceContext, user: str) -> None:
    browser = _browser(ctx, address="192.0.2.44")
    assert _statuses(browser, 2) == [401, 401]
    assert _statuses(browser, 1, name="mallory") == [401]
    assert _statuses(browser, 4) == [401, 401, 401, 429]
    assert _sign_in(browser, "\x00odd name", WRONG).status_code == 401
    assert _sign_in(browser, user, PASSWORD).status_code == 429
    with ctx.uow() as uow:
        rows = uow.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "sign_in_failed").order_by(AuditEntry.id)).all()
    assert [(r.target_id, r.status, r.detail["reason"]) for r in rows] == [
        (user, 401, "wrong name or password"), (user, 401, "wrong name or password"),
        ("mallory", 401, "wrong name or password"),
        (user, 401, "wrong name or password"), (user, 401, "wrong name or password"),
        (user, 401, "wrong name or password"), (user, 429, "throttled"),
        ("\\0odd name", 401, "wrong name or password"), (user, 429, "throttled")]
    assert {r.detail["name_tried"] for r in rows} == {user, "mallory", "\\0odd name"}
    assert {r.detail["client_address"] for r in rows} == {"192.0.2.44"}
    assert {r.actor for r in rows} == {None}
    assert {(r.status, r.outcome) for r in rows} == {(401, "denied"), (429, "failed")}


def _median_seconds(browser: TestClient, name: str, tries: int) -> float:
    timings = []
    for _ in range(tries):
        began = time.perf_counter()
        assert _sign_in(browser, name, WRONG).status_code == 401
        timings.append(time.perf_counter() - began)
    return statistics.median(timings)


def test_unknown_and_known_names_take_the_same_time(database_url: str, clock: ManualClock,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """With argon2's real parameters: at the cheapest ones (the `cheap_hashing` fixture) a
    check takes about a millisecond, and a second hash for unknown names would go unseen.
    """
    monkeypatch.setattr(secrets, "_HASHER", PasswordHasher())
    context = build_context(Settings(database_url=database_url, processes_dir=PROCESSES,
                                     sign_in_free_failures=1000, sign_in_lock_failures=1000,
                                     sign_in_address_free_failures=1000,
                                     sign_in_address_lock_failures=1000), clock=clock)
    try:
        _make_user(context)
        browser = _browser(context)
        hash_time = time.perf_counter()
        secrets.hash_secret("what one hash costs")
        hash_time = time.perf_counter() - hash_time
        _median_seconds(browser, "no.such.person", 1)  # the dummy hash is made once
        known = _median_seconds(browser, "bea.manager", 7)
        unknown = _median_seconds(browser, "no.such.person", 7)
    finally:
        context.close()
    # One argon2 run must dominate the attempt, or the ratio would say nothing.
    assert hash_time > 0.01, hash_time
    assert 0.7 < unknown / known < 1.4, (known, unknown)


@pytest.mark.parametrize("token", ["", "not-the-token", "jeton-étrange"])
def test_the_login_form_needs_the_token_of_its_cookie(ctx: ServiceContext, user: str,
                                                      token: str) -> None:
    browser = _browser(ctx)
    response = browser.post("/ui/login", follow_redirects=False, data={
        "name": user, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 403
    assert "The form has expired" in response.text
    assert SESSION_COOKIE not in response.cookies


@pytest.mark.parametrize("cookie", [None, ""])
def test_the_login_form_is_refused_without_its_cookie(ctx: ServiceContext, user: str,
                                                      cookie: str | None) -> None:
    browser = TestClient(create_app(context=ctx), base_url="https://testserver")
    if cookie is not None:
        browser.cookies.set(LOGIN_CSRF_COOKIE, cookie, domain="testserver", path="/ui")
    for token in ("", "anything"):
        response = browser.post("/ui/login", follow_redirects=False, data={
            "name": user, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 403


def _signed_in(ctx: ServiceContext, agent: str, address: str) -> TestClient:
    browser = _browser(ctx, address=address, agent=agent)
    assert _sign_in(browser, "bea.manager", PASSWORD).status_code == 303
    return browser


def _session_ids(ctx: ServiceContext) -> dict[str, int]:
    with ctx.uow() as uow:
        return {row.user_agent: row.id for row in uow.session.scalars(select(LoginSession))}


def test_a_person_sees_their_sessions_and_ends_another(ctx: ServiceContext, clock: ManualClock,
                                                      user: str) -> None:
    laptop = _signed_in(ctx, "Laptop browser", "192.0.2.1")
    clock.advance(dt.timedelta(minutes=5))
    phone = _signed_in(ctx, "Phone browser", "192.0.2.2")
    _make_user(ctx, "chris.chair")
    other = _browser(ctx, agent="Someone else")
    assert _sign_in(other, "chris.chair", PASSWORD).status_code == 303
    ids = _session_ids(ctx)

    clock.advance(dt.timedelta(minutes=10))
    page = laptop.get("/ui/sessions")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    for text in ("Laptop browser", "Phone browser", "192.0.2.1", "192.0.2.2", "this session"):
        assert text in page.text
    assert "Someone else" not in page.text
    with ctx.uow() as uow:  # the page marked the laptop's session as seen just now
        assert uow.session.get(LoginSession, ids["Laptop browser"]).last_seen_at == clock.now()

    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    # another person's session is not theirs to end, and a form needs the session's token
    assert laptop.post(f"/ui/sessions/{ids['Someone else']}/end", follow_redirects=False,
                       data={"csrf_token": token}).status_code == 404
    assert laptop.post(f"/ui/sessions/{ids['Phone browser']}/end", follow_redirects=False,
                       data={"csrf_token": ""}).status_code == 403
    assert laptop.post("/ui/sessions/99999999999999999999/end",
                       data={"csrf_token": token}).status_code == 422
    assert phone.get("/ui/inbox", follow_redirects=False).status_code == 200

    ended = laptop.post(f"/ui/sessions/{ids['Phone browser']}/end", follow_redirects=False,
                        data={"csrf_token": token})
    assert ended.status_code == 303 and ended.headers["location"] == "/ui/sessions?ended=1"
    assert "1 session ended" in laptop.get(ended.headers["location"]).text
    gone = phone.get("/ui/inbox", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/ui/login")
    assert other.get("/ui/inbox", follow_redirects=False).status_code == 200
    assert laptop.get("/ui/inbox", follow_redirects=False).status_code == 200


def test_ending_every_other_session_and_then_ones_own(ctx: ServiceContext, user: str) -> None:
    browsers = [_signed_in(ctx, f"Browser {n}", "192.0.2.9") for n in range(3)]
    page = browsers[0].get("/ui/sessions")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert browsers[0].post("/ui/sessions/end-others", follow_redirects=False,
                            data={"csrf_token": token}).headers["location"] == \
        "/ui/sessions?ended=2"
    assert [b.get("/ui/inbox", follow_redirects=False).status_code for b in browsers] == \
        [200, 303, 303]
    own = _session_ids(ctx)["Browser 0"]
    out = browsers[0].post(f"/ui/sessions/{own}/end", follow_redirects=False,
                           data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/ui/login"
    with ctx.uow() as uow:
        assert uow.session.scalars(select(LoginSession)).all() == []


def test_passwords_under_twelve_characters_are_refused(ctx: ServiceContext) -> None:
    with ctx.uow() as uow:
        with pytest.raises(ValueError, match="at least 12 characters"):
            users.create(uow.session, "short", "elevenchars", ["chair"], None, ctx.clock.now())
        users.create(uow.session, "long.enough", "twelve chars", ["chair"], None,
                     ctx.clock.now())
        uow.commit()


def test_the_cli_refuses_a_short_password(database_url: str, ctx: ServiceContext,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("REVIEWFLOW_PROCESSES_DIR", str(PROCESSES))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        short = runner.invoke(cli, ["user", "create", "--name", "c.chair", "--password",
                                    "elevenchars", "--roles", "chair"])
        assert short.exit_code == 1 and "at least 12 characters" in short.output
        made = runner.invoke(cli, ["user", "create", "--name", "c.chair", "--password",
                                   "twelve chars", "--roles", "chair"])
        assert made.exit_code == 0, made.output
    finally:
        get_settings.cache_clear()
    with ctx.uow() as uow:
        assert [u.name for u in uow.session.scalars(select(AppUser))] == ["c.chair"]


def test_rows_of_names_sprayed_at_the_form_are_forgotten(ctx: ServiceContext,
                                                         clock: ManualClock) -> None:
    browser = _browser(ctx, address="192.0.2.77")
    for n in range(3):
        assert _sign_in(browser, f"sprayed.{n}", WRONG).status_code == 401
    with ctx.uow() as uow:
        assert uow.session.scalars(select(SignInThrottle)).all() != []
    clock.advance(dt.timedelta(minutes=16))
    assert _sign_in(_browser(ctx, address="192.0.2.78"), "latest", WRONG).status_code == 401
    with ctx.uow() as uow:
        left = {(row.scope, row.key) for row in uow.session.scalars(select(SignInThrottle))}
    assert left == {("account", "latest"), ("address", "192.0.2.78")}
