"""SQLite's one write lock: a transaction that may write takes it when it begins, one that only
reads takes none (see `app.db.session`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.db.models import ApiToken
from app.services.context import ServiceContext


@pytest.fixture
def sqlite_ctx(ctx: ServiceContext) -> ServiceContext:
    if ctx.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    return ctx


@pytest.fixture
def other_writer(sqlite_ctx: ServiceContext) -> Iterator[sqlite3.Connection]:
    """Another connection to the same file that gives up at once when the lock is taken."""
    connection = sqlite3.connect(str(sqlite_ctx.engine.url.database), timeout=0,
                                 isolation_level=None)
    yield connection
    connection.close()


def lock_is_free(connection: sqlite3.Connection) -> bool:
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    connection.execute("ROLLBACK")
    return True


def test_a_unit_of_work_takes_the_write_lock_at_its_first_read(
        sqlite_ctx: ServiceContext, other_writer: sqlite3.Connection) -> None:
    assert lock_is_free(other_writer)
    with sqlite_ctx.uow() as uow:
        uow.session.scalars(select(ApiToken)).all()
        assert not lock_is_free(other_writer)
    assert lock_is_free(other_writer)


def test_a_read_only_request_takes_no_lock(sqlite_ctx: ServiceContext,
                                           other_writer: sqlite3.Connection) -> None:
    with sqlite_ctx.request_session(reads_only=True) as session:
        assert session is not None
        session.scalars(select(ApiToken)).all()
        assert lock_is_free(other_writer)
        with sqlite_ctx.uow() as uow:  # the use case continues the request's transaction
            assert uow.session is session
            uow.session.scalars(select(ApiToken)).all()
            assert lock_is_free(other_writer)


def test_a_write_request_holds_the_lock_from_its_token_check_until_released(
        sqlite_ctx: ServiceContext, other_writer: sqlite3.Connection) -> None:
    """The audit entry is written on another connection: the request's untaken session must
    let go of the lock first, or the entry would wait for it (for the whole busy timeout)."""
    with sqlite_ctx.request_session(reads_only=False) as session:
        session.scalars(select(ApiToken)).all()  # the token check
        assert not lock_is_free(other_writer)
        sqlite_ctx.release_request_session()
        assert lock_is_free(other_writer)
        with sqlite_ctx.uow() as uow:  # a later unit of work opens a session of its own
            assert uow.session is not session
    assert lock_is_free(other_writer)
