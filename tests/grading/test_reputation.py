"""Appendix 3's Reputation column, in its own decision (`processes/reputation.dmn`): who must be
told of a case of each grade, read whenever the grade is set or changes."""

from __future__ import annotations

import pytest

from app.engine.decisions import evaluate, load_decisions
from app.engine.definitions import SourceFile
from tests.engine.test_grading import EXPECTED, REPUTATION_DMN


@pytest.mark.parametrize("grade", sorted(EXPECTED))
def test_every_grade_says_who_must_be_told(grade: str) -> None:
    decisions = load_decisions([SourceFile("reputation.dmn", REPUTATION_DMN.read_bytes())])
    result = evaluate(decisions, "reputation", {"grade": grade})
    assert result.outputs["notify"].split(",") == EXPECTED[grade][3].split(",")
    assert result.matched_rules[0]["id"] == f"reputation_{grade}"
    assert ("publication" in result.outputs["notify"]) is (grade == "catastrophic")
