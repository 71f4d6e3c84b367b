"""openapi/openapi.json is generated from the app and checked in."""

from __future__ import annotations

import json
import subprocess
import sys

from app.main import create_app
from tests.conftest import ROOT


def test_checked_in_openapi_matches_the_app() -> None:
    checked_in = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    assert checked_in == create_app().openapi(), "run `make openapi` and commit the result"


def test_cli_prints_the_same_document() -> None:
    result = subprocess.run([sys.executable, "-m", "app.cli", "openapi"], capture_output=True,
                            text=True, check=True, cwd=ROOT)
    assert json.loads(result.stdout) == create_app().openapi()
