"""What every use case needs: the database, the spec cache, the clock and the settings."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from app.auth.tokens import TokenVerifier
from app.clock import Clock, SystemClock
from app.db.session import LONE_STATEMENT, READS_ONLY, make_engine, make_session_factory
from app.db.uow import UnitOfWork
from app.engine.calendar import WorkingCalendar
from app.engine.clock_rules import EMPTY_RULES, ClockRules, load_rules
from app.engine.decisions import LoadedDecision
from app.engine.scripting import EngineEnv
from app.engine.spec_cache import LRUCache, SpecCache
from app.settings import Settings


@dataclass
class ServiceContext:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)
    specs: SpecCache = field(default_factory=SpecCache)
    decisions: LRUCache[int, dict[str, LoadedDecision]] = field(default_factory=LRUCache)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    clock_rules: ClockRules = field(default_factory=lambda: EMPTY_RULES)
    tokens: TokenVerifier = field(default_factory=TokenVerifier)
    forms: LRUCache[tuple[int, str], Any] = field(default_factory=LRUCache)

    @property
    def engine_env(self) -> EngineEnv:
        return EngineEnv(now=self.clock.now, calendar=self.calendar,
                         clock_rules=self.clock_rules,
                         memory_limit=self.settings.script_memory_bytes)

    def uow(self, read_only: bool = False) -> UnitOfWork:
        """A unit of work. One that only reads (`read_only`) takes no lock on SQLite, where
        any other begins by taking the one write lock (see `app.db.session`); on PostgreSQL
        both are the same."""
        if read_only and self._sqlite:
            return UnitOfWork(self._reads_session_factory)
        return UnitOfWork(self.session_factory)

    @functools.cached_property
    def _sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @functools.cached_property
    def _reads_session_factory(self) -> sessionmaker[Session]:
        """Sessions whose transactions only read: on SQLite they begin DEFERRED."""
        return make_session_factory(self.engine.execution_options(**{READS_ONLY: True}))

    def lone_statement(self) -> Connection:
        """A connection for one read or one insert that needs no transaction around it (a
        token check, an audit entry). On PostgreSQL it runs in autocommit mode: one round trip
        instead of three (BEGIN, the statement, COMMIT). Use it as a context manager and call
        `commit()` after a write (SQLite still runs a transaction)."""
        connection = self.engine.connect()
        if self._sqlite:
            return connection.execution_options(**{LONE_STATEMENT: True})
        return connection.execution_options(isolation_level="AUTOCOMMIT")

    def close(self) -> None:
        self.engine.dispose()


def build_context(settings: Settings, clock: Clock | None = None) -> ServiceContext:
    engine = make_engine(settings.database_url, settings.sqlite_busy_timeout_seconds,
                         settings.database_connect_timeout_seconds,
                         settings.database_statement_timeout_seconds)
    return ServiceContext(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=clock or SystemClock(),
        specs=SpecCache(settings.spec_cache_size),
        calendar=WorkingCalendar(settings.calendar_region),
        clock_rules=load_rules(settings.clocks_file) if settings.clocks_file.exists()
        else EMPTY_RULES,
    )
