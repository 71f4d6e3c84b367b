"""The grading matrix (seed, Appendix 3) as processes/grading.dmn, and app.engine.decisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine import runner
from app.engine.decisions import (
    DecisionFailed,
    UnknownDecision,
    decision_ids,
    evaluate,
    evaluate_decision,
    load_decisions,
)
from app.engine.definitions import SourceFile, parse_files
from app.engine.errors import InvalidDefinition, StepFailed
from app.engine.serializer import spec_from_json

GRADING_DMN = Path(__file__).resolve().parents[2] / "processes" / "grading.dmn"
REPUTATION_DMN = GRADING_DMN.with_name("reputation.dmn")

PUBLIC = "media_coverage,political_questions,annual_report,single_agency_governance"
EXPECTED = {
    # grade: (route, statutory, review_type, notify)
    "catastrophic": ("extended", True, "Serious Case Review / CDOP", "publication," + PUBLIC),
    "severe": ("concise", False,
               "Multi-agency management overview report / Critical incident report / CDOP", PUBLIC),
    "significant": ("concise", False, "Critical incident report / Child Death Overview Panel / "
                                      "Serious incident report or review", PUBLIC),
    "moderate": ("single_agency", False, "Front line learning (SCIE) report / Multi-agency audit "
                                         "/ Single agency review", PUBLIC),
    "low": ("audit", False, "Practice manager audit or review", PUBLIC),
    "best_practice": ("audit", False, "Audit / case study to share in newsletters, training or "
                                      "Board events", PUBLIC),
}

ABUSE_HARM = {"abuse_or_neglect": True, "seriously_harmed": True}

# (case id, facts, expected grade, expected rule id): every row of the matrix, every rule.
MATRIX_CASES = [
    # Catastrophic
    ("abuse_and_death", {"abuse_or_neglect": True, "child_died": True},
     "catastrophic", "grading_catastrophic_died_abuse_neglect"),
    ("abuse_and_death_no_interagency_concern",
     {"abuse_or_neglect": True, "child_died": True, "interagency_concern": "none"},
     "catastrophic", "grading_catastrophic_died_abuse_neglect"),
    ("parents_charged_and_death", {"parents_charged_neglect": True, "child_died": True},
     "catastrophic", "grading_catastrophic_died_abuse_neglect"),
    ("abuse_harm_concern", {**ABUSE_HARM, "interagency_concern": "concern"},
     "catastrophic", "grading_catastrophic_harmed_interagency_concern"),
    ("abuse_harm_interagency_not_known", {**ABUSE_HARM, "interagency_concern": "not_known"},
     "catastrophic", "grading_catastrophic_harmed_interagency_not_known"),
    ("abuse_harm_interagency_unanswered", dict(ABUSE_HARM),
     "catastrophic", "grading_catastrophic_harmed_interagency_not_known"),
    ("died_in_custody", {"died_in_custody": True},
     "catastrophic", "grading_catastrophic_died_in_custody"),
    ("died_in_custody_no_abuse_no_concern",
     {"died_in_custody": True, "child_died": True, "abuse_or_neglect": False,
      "interagency_concern": "none"},
     "catastrophic", "grading_catastrophic_died_in_custody"),
    ("suspected_suicide_abuse", {"suspected_suicide": True, "abuse_or_neglect": True},
     "catastrophic", "grading_catastrophic_suspected_suicide_abuse_neglect"),
    ("suspected_suicide_parents_charged",
     {"suspected_suicide": True, "parents_charged_neglect": True},
     "catastrophic", "grading_catastrophic_suspected_suicide_abuse_neglect"),
    # Severe
    ("abuse_harm_curiosity", {**ABUSE_HARM, "interagency_concern": "curiosity"},
     "severe", "grading_severe_harmed_interagency_curiosity"),
    ("hospital_admission", {"hospital_admission_over_24h": True},
     "severe", "grading_severe_hospital_admission"),
    ("permanent_disability", {"permanent_disability": True},
     "severe", "grading_severe_permanent_disability"),
    ("sexual_abuse_or_cse", {"sexual_abuse_or_cse": True},
     "severe", "grading_severe_sexual_abuse_cse"),
    ("domestic_homicide", {"parent_domestic_homicide": True},
     "severe", "grading_severe_domestic_homicide"),
    # Significant
    ("suspected_suicide_without_abuse", {"suspected_suicide": True},
     "significant", "grading_significant_suspected_suicide"),
    ("suspected_suicide_died_without_abuse", {"suspected_suicide": True, "child_died": True},
     "significant", "grading_significant_suspected_suicide"),
    ("death_without_abuse", {"child_died": True},
     "significant", "grading_significant_child_death"),
    ("abuse_harm_no_interagency_concern", {**ABUSE_HARM, "interagency_concern": "none"},
     "significant", "grading_significant_seriously_harmed"),
    ("harm_without_abuse", {"seriously_harmed": True},
     "significant", "grading_significant_seriously_harmed"),
    ("transported_to_hospital", {"transported_to_hospital": True},
     "significant", "grading_significant_transported_to_hospital"),
    ("transported_known_to_services", {"transported_to_hospital": True,
                                       "known_to_services": True},
     "significant", "grading_significant_transported_to_hospital"),
    ("self_harm", {"significant_self_harm": True},
     "significant", "grading_significant_self_harm"),
    ("professional_failure", {"compliance_failure": "professional"},
     "significant", "grading_significant_professional_statutory_failure"),
    ("statutory_failure", {"compliance_failure": "statutory"},
     "significant", "grading_significant_professional_statutory_failure"),
    # Moderate
    ("parents_charged_neglect", {"parents_charged_neglect": True},
     "moderate", "grading_moderate_parents_charged_neglect"),
    ("parents_charged_known", {"parents_charged_neglect": True, "known_to_services": True},
     "moderate", "grading_moderate_parents_charged_neglect"),
    ("missing_education_known", {"missing_education": True, "known_to_services": True},
     "moderate", "grading_moderate_missing_education_known_to_services"),
    ("missing_education_known_internal_failure",
     {"missing_education": True, "known_to_services": True, "compliance_failure": "internal"},
     "moderate", "grading_moderate_missing_education_known_to_services"),
    ("internal_failure", {"compliance_failure": "internal"},
     "moderate", "grading_moderate_internal_failure"),
    # Low
    ("minor_injury", {"minor_injury": True}, "low", "grading_low_minor_injury"),
    ("minor_injury_missing_education", {"minor_injury": True, "missing_education": True},
     "low", "grading_low_minor_injury"),
    ("minor_injury_known", {"minor_injury": True, "known_to_services": True},
     "low", "grading_low_minor_injury"),
    ("minor_injury_missing_education_known",
     {"minor_injury": True, "missing_education": True, "known_to_services": True},
     "low", "grading_low_minor_injury"),
    ("minor_injury_missing_education_known_internal_failure",
     {"minor_injury": True, "missing_education": True, "known_to_services": True,
      "compliance_failure": "internal"},
     "low", "grading_low_minor_injury"),
    ("minor_non_compliance", {"compliance_failure": "minor"},
     "low", "grading_low_minor_non_compliance"),
    ("missing_education_only", {"missing_education": True}, "low", "grading_default_low"),
    ("known_to_services_only", {"known_to_services": True}, "low", "grading_default_low"),
    # Best practice
    ("good_practice", {"good_practice": True}, "best_practice", "grading_best_practice"),
    ("good_practice_with_minor_injury", {"good_practice": True, "minor_injury": True},
     "low", "grading_low_minor_injury"),
]


@pytest.fixture(scope="module")
def grading_file() -> SourceFile:
    return SourceFile("grading.dmn", GRADING_DMN.read_bytes())


@pytest.fixture(scope="module")
def decisions(grading_file: SourceFile):
    return load_decisions([grading_file])


def grade(decisions, facts):
    return evaluate(decisions, "grading", facts)


def assert_grade(result, expected_grade: str, rule_id: str) -> None:
    route, statutory, review_type, _notify = EXPECTED[expected_grade]
    assert result.outputs == {"grade": expected_grade, "review_type": review_type,
                              "route": route, "statutory": statutory}
    assert [rule["id"] for rule in result.matched_rules] == [rule_id]


@pytest.fixture(scope="module")
def reputation():
    return load_decisions([SourceFile("reputation.dmn", REPUTATION_DMN.read_bytes())])


def told(reputation, grade_id: str) -> list[str]:
    """Who must be told of a case of that grade (the Reputation column, `reputation.dmn`)."""
    return evaluate(reputation, "reputation", {"grade": grade_id}).outputs["notify"].split(",")


@pytest.mark.parametrize(("facts", "expected_grade", "rule_id"),
                         [pytest.param(facts, grade_, rule, id=case)
                          for case, facts, grade_, rule in MATRIX_CASES])
def test_matrix(decisions, facts, expected_grade, rule_id):
    assert_grade(grade(decisions, facts), expected_grade, rule_id)


def test_every_rule_is_exercised_and_described(decisions):
    table = decisions["grading"].table
    ids = [rule.id for rule in table.rules]
    assert len(ids) == len(set(ids))
    assert set(ids) == {rule for _, _, _, rule in MATRIX_CASES}
    assert all(rule.description and rule.description.strip() for rule in table.rules)
    assert table.hit_policy == "FIRST"
    assert ids[-1] == "grading_default_low"


def test_empty_facts_give_the_catch_all(decisions):
    assert_grade(grade(decisions, {}), "low", "grading_default_low")


@pytest.mark.parametrize("missing", [
    "abuse_or_neglect", "child_died", "seriously_harmed", "interagency_concern",
    "compliance_failure",
])
def test_missing_facts_mean_false_none_or_not_known(decisions, missing):
    """A missing interagency_concern is "not_known" (a missing answer is not "no concerns");
    a missing compliance_failure is "none"; a missing boolean is false."""
    facts = {"abuse_or_neglect": True, "child_died": True, "seriously_harmed": True,
             "interagency_concern": "concern", "compliance_failure": "internal"}
    with_all = grade(decisions, facts)
    assert with_all.outputs["grade"] == "catastrophic"
    del facts[missing]
    without = grade(decisions, facts)
    default = {"interagency_concern": "not_known", "compliance_failure": "none"}
    explicit = grade(decisions, {**facts, missing: default.get(missing, False)})
    assert without.outputs == explicit.outputs
    assert without.matched_rules == explicit.matched_rules


def test_null_and_false_mean_the_same_as_missing(decisions):
    booleans = ["abuse_or_neglect", "child_died", "seriously_harmed", "died_in_custody",
                "suspected_suicide", "hospital_admission_over_24h", "transported_to_hospital",
                "permanent_disability", "sexual_abuse_or_cse", "parent_domestic_homicide",
                "significant_self_harm", "parents_charged_neglect", "missing_education",
                "known_to_services", "minor_injury", "good_practice"]
    strings = ["interagency_concern", "compliance_failure"]
    all_false = {name: False for name in booleans} | {name: "none" for name in strings}
    all_null = dict.fromkeys(booleans + strings)
    for facts in (all_false, all_null):
        assert_grade(grade(decisions, facts), "low", "grading_default_low")
    for empty in (None, ""):  # a null or empty answer is not known, not "none"
        result = grade(decisions, {**ABUSE_HARM, "interagency_concern": empty})
        assert_grade(result, "catastrophic", "grading_catastrophic_harmed_interagency_not_known")
    # a rule that needs a fact to be false (no minor injury) takes null as false
    result = grade(decisions, {"missing_education": True, "known_to_services": True,
                               "minor_injury": None})
    assert_grade(result, "moderate", "grading_moderate_missing_education_known_to_services")


def test_death_in_custody_is_statutory_alone_and_suicide_is_not(decisions):
    custody = grade(decisions, {"died_in_custody": True})
    assert_grade(custody, "catastrophic", "grading_catastrophic_died_in_custody")
    assert custody.outputs["statutory"] is True
    suicide = grade(decisions, {"suspected_suicide": True})
    assert_grade(suicide, "significant", "grading_significant_suspected_suicide")
    assert suicide.outputs["statutory"] is False


def test_only_catastrophic_is_statutory_and_published(decisions, reputation):
    for _, facts, expected_grade, _ in MATRIX_CASES:
        outputs = grade(decisions, facts).outputs
        assert outputs["statutory"] is (expected_grade == "catastrophic")
        published = "publication" in told(reputation, outputs["grade"])
        assert published is (expected_grade == "catastrophic")


@pytest.mark.parametrize(("facts", "expected_grade", "rule_id"), [
    ({"minor_injury": True, "transported_to_hospital": True, "hospital_admission_over_24h": True},
     "severe", "grading_severe_hospital_admission"),
    ({"good_practice": True, "minor_injury": True, "died_in_custody": True},
     "catastrophic", "grading_catastrophic_died_in_custody"),
    ({"missing_education": True, "known_to_services": True, "significant_self_harm": True},
     "significant", "grading_significant_self_harm"),
    ({"child_died": True, "sexual_abuse_or_cse": True},
     "severe", "grading_severe_sexual_abuse_cse"),
    ({"parents_charged_neglect": True, "seriously_harmed": True, "interagency_concern": "concern"},
     "catastrophic", "grading_catastrophic_harmed_interagency_concern"),
    ({"minor_injury": True, "compliance_failure": "professional"},
     "low", "grading_low_minor_injury"),
    ({"minor_injury": True, "compliance_failure": "internal"},
     "low", "grading_low_minor_injury"),
    ({"parents_charged_neglect": True, "compliance_failure": "statutory"},
     "moderate", "grading_moderate_parents_charged_neglect"),
    ({"transported_to_hospital": True, "compliance_failure": "minor"},
     "significant", "grading_significant_transported_to_hospital"),
    ({"suspected_suicide": True, "died_in_custody": True},
     "catastrophic", "grading_catastrophic_died_in_custody"),
    ({"suspected_suicide": True, "permanent_disability": True},
     "severe", "grading_severe_permanent_disability"),
], ids=["injuries", "custody_beats_everything", "self_harm_over_moderate", "cse_over_death",
        "charged_neglect_harm_concern", "professional_failure_does_not_lift_an_incident",
        "internal_failure_does_not_lift_a_minor_injury",
        "statutory_failure_does_not_lift_an_incident", "minor_non_compliance_does_not_lower",
        "suicide_in_custody", "severe_over_suicide_without_abuse"])
def test_highest_grade_wins(decisions, facts, expected_grade, rule_id):
    assert_grade(grade(decisions, facts), expected_grade, rule_id)


def test_every_fact_at_once_is_catastrophic(decisions):
    booleans = ["abuse_or_neglect", "child_died", "seriously_harmed", "died_in_custody",
                "suspected_suicide", "hospital_admission_over_24h", "transported_to_hospital",
                "permanent_disability", "sexual_abuse_or_cse", "parent_domestic_homicide",
                "significant_self_harm", "parents_charged_neglect", "missing_education",
                "known_to_services", "minor_injury", "good_practice"]
    facts = {name: True for name in booleans} | {"interagency_concern": "concern",
                                                 "compliance_failure": "statutory"}
    assert_grade(grade(decisions, facts), "catastrophic", "grading_catastrophic_died_abuse_neglect")


@pytest.mark.parametrize(("concern", "expected_grade", "rule_id"), [
    (None, "catastrophic", "grading_catastrophic_harmed_interagency_not_known"),
    ("not_known", "catastrophic", "grading_catastrophic_harmed_interagency_not_known"),
    ("none", "significant", "grading_significant_seriously_harmed"),
    ("curiosity", "severe", "grading_severe_harmed_interagency_curiosity"),
    ("concern", "catastrophic", "grading_catastrophic_harmed_interagency_concern"),
])
def test_interagency_concern_moves_serious_harm_between_grades(decisions, concern,
                                                                expected_grade, rule_id):
    facts = dict(ABUSE_HARM)
    if concern is not None:
        facts["interagency_concern"] = concern
    assert_grade(grade(decisions, facts), expected_grade, rule_id)


def test_interagency_concern_needs_abuse_or_neglect(decisions):
    result = grade(decisions, {"seriously_harmed": True, "interagency_concern": "concern"})
    assert_grade(result, "significant", "grading_significant_seriously_harmed")


def test_interagency_concern_does_not_soften_a_death(decisions):
    for concern in ("not_known", "none", "curiosity", "concern"):
        result = grade(decisions, {"abuse_or_neglect": True, "child_died": True,
                                   "interagency_concern": concern})
        assert_grade(result, "catastrophic", "grading_catastrophic_died_abuse_neglect")


def test_good_practice_alone_is_best_practice(decisions):
    result = grade(decisions, {"good_practice": True})
    assert_grade(result, "best_practice", "grading_best_practice")
    assert result.outputs["route"] == "audit"


def test_matched_rule_is_reported_with_its_description(decisions):
    result = grade(decisions, {"hospital_admission_over_24h": True, "minor_injury": True})
    assert result.decision_id == "grading"
    assert len(result.matched_rules) == 1
    rule = result.matched_rules[0]
    assert rule["id"] == "grading_severe_hospital_admission"
    assert "24 hours" in rule["description"]


def test_evaluation_leaves_the_facts_alone(decisions):
    facts = {"died_in_custody": True}
    grade(decisions, facts)
    assert facts == {"died_in_custody": True}


def test_evaluate_decision_parses_and_evaluates(grading_file):
    result = evaluate_decision([grading_file], "grading", {"died_in_custody": True})
    assert result.outputs["grade"] == "catastrophic"


# --- decisions.py: listing, errors --------------------------------------------------------

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def dmn(decision_id: str = "check", input_expression: str = "value", entry: str = "> 1",
        hit_policy: str = "FIRST", extra_decision: str = "") -> SourceFile:
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{DMN_NS}" id="defs_{decision_id}" name="Check" namespace="http://x">
  <decision id="{decision_id}" name="Check">
    <decisionTable id="{decision_id}_table" hitPolicy="{hit_policy}">
      <input id="in_value" label="Value">
        <inputExpression id="in_value_expr" typeRef="number"><text>{input_expression}</text>
        </inputExpression>
      </input>
      <output id="out_big" name="big" typeRef="boolean" />
      <rule id="rule_big">
        <description>big values</description>
        <inputEntry id="rule_big_in"><text>{entry}</text></inputEntry>
        <outputEntry id="rule_big_out"><text>True</text></outputEntry>
      </rule>
      <rule id="rule_any">
        <inputEntry id="rule_any_in"><text>-</text></inputEntry>
        <outputEntry id="rule_any_out"><text>False</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>{extra_decision}
</definitions>"""
    return SourceFile(f"{decision_id}.dmn", text.encode())


def test_decision_ids(grading_file):
    assert decision_ids(grading_file) == ["grading"]
    two = dmn(extra_decision='<decision id="second" name="Second" />')
    assert decision_ids(two) == ["check", "second"]


def test_decision_ids_refuses_what_is_not_dmn():
    bpmn = SourceFile("x.bpmn", b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/'
                                b'MODEL" id="d" />')
    with pytest.raises(InvalidDefinition, match="not a DMN document"):
        decision_ids(bpmn)
    with pytest.raises(InvalidDefinition, match="not well-formed"):
        decision_ids(SourceFile("x.dmn", b"<definitions"))


def test_first_and_collect_report_the_rules_they_apply():
    first = evaluate_decision([dmn()], "check", {"value": 5})
    assert first.outputs == {"big": True}
    assert first.matched_rules == [{"id": "rule_big", "description": "big values"}]
    collect = evaluate_decision([dmn(hit_policy="COLLECT")], "check", {"value": 5})
    assert collect.outputs == {"big": [True, False]}
    assert [rule["id"] for rule in collect.matched_rules] == ["rule_big", "rule_any"]


def test_unknown_decision():
    with pytest.raises(UnknownDecision) as caught:
        evaluate_decision([dmn()], "nope", {})
    assert isinstance(caught.value, StepFailed)
    assert caught.value.element_id == "nope"
    assert "check" in caught.value.message


def test_failing_expression_names_the_decision():
    with pytest.raises(DecisionFailed) as caught:
        evaluate_decision([dmn()], "check", {})  # `value` is not in the data
    assert caught.value.element_id == "check"
    assert "NameError: name 'value' is not defined" in caught.value.message


@pytest.mark.parametrize(("files", "reason"), [
    ([dmn(hit_policy="ANY")], "hit policy ANY is not supported"),
    ([dmn(hit_policy="RULE ORDER")], "hit policy RULE ORDER is not supported"),
    ([dmn(entry="== == 1")], "input entry is not valid"),
    ([dmn(input_expression="value +")], "input expression is not valid"),
    ([dmn(extra_decision='<decision id="second" name="Second" />')], "defines 2 decisions"),
    ([dmn(), dmn()], "decision 'check' is also defined in check.dmn"),
    ([SourceFile("bad.dmn", b"<definitions")], "not well-formed XML"),
    ([SourceFile("bad.dmn", dmn().content.replace(b'hitPolicy="FIRST"', b'hitPolicy="MOST"'))],
     "MOST"),
])
def test_bad_dmn_is_refused(files, reason):
    with pytest.raises(InvalidDefinition) as caught:
        load_decisions(files)
    assert reason in str(caught.value)


# --- the decision inside a BPMN process -----------------------------------------------------

GRADE_PROCESS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="grade_test_definitions" targetNamespace="http://reviewflow.example/bpmn">
  <bpmn:process id="grade_test" name="Grade a referral" isExecutable="true">
    <bpmn:startEvent id="start">
      <bpmn:outgoing>flow_start_grade</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:businessRuleTask id="grade_referral" name="Grade the referral">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>grading</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>flow_start_grade</bpmn:incoming>
      <bpmn:outgoing>flow_grade_screen</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:userTask id="screen_referral" name="Screen the referral">
      <bpmn:incoming>flow_grade_screen</bpmn:incoming>
      <bpmn:outgoing>flow_screen_end</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end">
      <bpmn:incoming>flow_screen_end</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="flow_start_grade" sourceRef="start" targetRef="grade_referral" />
    <bpmn:sequenceFlow id="flow_grade_screen" sourceRef="grade_referral"
                       targetRef="screen_referral" />
    <bpmn:sequenceFlow id="flow_screen_end" sourceRef="screen_referral" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture(scope="module")
def grade_process(grading_file):
    (process,) = parse_files([SourceFile("grade_test.bpmn", GRADE_PROCESS), grading_file])
    assert process.key == "grade_test"
    return spec_from_json(process.spec_json)


@pytest.mark.parametrize(("facts", "expected_grade", "rule_id"), [
    ({"abuse_or_neglect": True, "seriously_harmed": True, "interagency_concern": "curiosity"},
     "severe", "grading_severe_harmed_interagency_curiosity"),
    ({"died_in_custody": True}, "catastrophic", "grading_catastrophic_died_in_custody"),
    ({}, "low", "grading_default_low"),
], ids=["severe", "custody", "no_facts"])
def test_grading_inside_a_process(grade_process, facts, expected_grade, rule_id):
    spec, subprocess_specs = grade_process
    workflow = runner.create(spec, subprocess_specs, facts)
    step = runner.run_engine(workflow)

    route, statutory, review_type, notify = EXPECTED[expected_grade]
    data = runner.data(workflow)
    assert {key: data[key] for key in ("grade", "review_type", "route", "statutory")} \
        == {"grade": expected_grade, "review_type": review_type, "route": route,
            "statutory": statutory}
    assert notify  # who must be told is the reputation decision's (test_every_grade_says...)
    assert [task.bpmn_id for task in runner.ready_tasks(workflow)] == ["screen_referral"]

    (record,) = [item for item in step.items
                 if isinstance(item, runner.StepRecord) and item.kind == "decision_evaluated"]
    assert record.element_id == "grade_referral"
    assert record.detail["decision_table_id"] == "grading_table"
    # FIRST: the first matched rule is the one whose outputs were applied.
    assert record.detail["matched_rules"][0] == rule_id
    assert record.detail["outputs"]["grade"] == expected_grade

    # The same decision evaluated on its own agrees with the process.
    alone = evaluate_decision([SourceFile("grading.dmn", GRADING_DMN.read_bytes())], "grading",
                              facts)
    assert alone.matched_rules[0]["id"] == rule_id
    assert {key: data[key] for key in alone.outputs} == alone.outputs
