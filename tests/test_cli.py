"""The `reviewflow` command: db upgrade and deploy against a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, select

from app.db.models import ProcessVersion
from tests.conftest import FIXTURES, ROOT


def run(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REVIEWFLOW_DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env)


def test_upgrade_then_deploy_folder_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run("db", "upgrade", url=url).returncode == 0
    first = run("deploy", "processes", url=url)
    assert first.returncode == 0, first.stderr
    assert "demo_triage v1 (new version)" in first.stdout
    second = run("deploy", "processes", url=url)
    assert "demo_triage v1 (unchanged)" in second.stdout
    engine = create_engine(url)
    with engine.connect() as conn:
        keys = conn.scalars(select(ProcessVersion.process_key)).all()
    assert len(keys) == len(set(keys))
    assert {"demo_triage", "referral", "extended_review", "concise_review",
            "single_agency_review", "audit_review", "urgent_concern"} <= set(keys)
    engine.dispose()


def test_deploy_reports_problems_and_exits_1(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run("db", "upgrade", url=url)
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes((FIXTURES / "divide.bpmn").read_bytes().replace(
        b'targetRef="end"', b'targetRef="nowhere"'))
    result = run("deploy", str(bad), url=url)
    assert result.returncode == 1
    assert "bad.bpmn" in result.stderr and "[f4]" in result.stderr and "nowhere" in result.stderr
    missing = run("deploy", str(tmp_path / "missing.bpmn"), url=url)
    assert missing.returncode != 0
