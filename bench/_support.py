"""Helpers shared by the benchmarks: throw-away databases, the demo files, percentiles.

Every benchmark database is temporary: SQLite lives in a temporary directory, PostgreSQL gets a
database named `reviewflow_bench_<random>` that is dropped at the end, even after a failure.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db.migrate import upgrade
from app.engine.definitions import SourceFile

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def demo_files() -> list[SourceFile]:
    """processes/*.bpmn, *.dmn and forms/*.json, as `reviewflow deploy processes` reads them."""
    paths = [*sorted(PROCESSES.glob("*.bpmn")), *sorted(PROCESSES.glob("*.dmn")),
             *sorted((PROCESSES / "forms").glob("*.json"))]
    return [SourceFile(path.name, path.read_bytes()) for path in paths]


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    """A migrated SQLite database in a temporary file; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="reviewflow_bench_") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        yield url


def postgres_problem(admin_url: str) -> str | None:
    """Why PostgreSQL cannot be used (None when it can)."""
    try:
        engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"{exc.__class__.__name__}: {first_line}"
    finally:
        engine.dispose()
    return None


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A migrated temporary PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"reviewflow_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(url)
            yield url
        finally:
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :name AND pid <> pg_backend_pid()"),
                             {"name": name})
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (pct in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
