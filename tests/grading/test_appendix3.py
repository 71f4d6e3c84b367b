"""Appendix 3 of the terms of reference (the grading matrix), sentence by sentence.

Each test's docstring quotes the sentence of the seed it checks. The decision is the deployed
`grading` DMN, evaluated through `POST /api/v1/decisions/grading/evaluate`; the three readings of
issue 16 (not yet known is not "no concerns", suspected suicide, the incident before the
compliance column) are also checked through `POST /api/v1/referrals`, which grades the referral
and opens the case.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PROCESSES, upload
from tests.routes.driver import CaseDriver

ABUSE_HARM = {"abuse_or_neglect": True, "seriously_harmed": True}
ROUTES = {"catastrophic": "extended", "severe": "concise", "significant": "concise",
          "moderate": "single_agency", "low": "audit", "best_practice": "audit"}

# The Reputation column, cell by cell, as audience ids.
FOUR = ["media_coverage", "political_questions", "annual_report", "single_agency_governance"]
REPUTATION = {
    # "-Publication -Media coverage -Political questions local/national -Annual Safeguarding
    #  Report -Single agency governance structure"
    "catastrophic": ["publication", *FOUR],
    # "-Media coverage -Political questions local/national -Annual Safeguarding Children Board
    #  Report -Single agency governance report"
    "severe": FOUR,
    # "-Media coverage -Political questions local/national -Annual Safeguarding Children Board
    #  Report -Single agency governance structure report"
    "significant": FOUR,
    "moderate": FOUR,
    # "-Media coverage -Political questions local/national -Annual Safeguarding Report
    #  -Single agency governance structure report"
    "low": FOUR,
    # "-Media coverage -Political questions local/national -Annual Safeguarding Children Board
    #  Report -Single agency governance structure"
    "best_practice": FOUR,
}

Grade = Any  # a callable: facts -> the evaluate response body


@pytest.fixture
def grade(client: TestClient) -> Grade:
    """Deploy the grading DMN (and who must be told) alone and evaluate it through the API."""
    upload(client, PROCESSES / "grading.dmn", PROCESSES / "reputation.dmn")

    def evaluate(facts: dict[str, Any]) -> dict[str, Any]:
        response = client.post("/api/v1/decisions/grading/evaluate", json={"data": facts})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def reputation(grade_id: str) -> dict[str, Any]:
        response = client.post("/api/v1/decisions/reputation/evaluate",
                               json={"data": {"grade": grade_id}})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    evaluate.reputation = reputation  # type: ignore[attr-defined]
    return evaluate


def graded(body: dict[str, Any], expected: str, rule_id: str) -> None:
    outputs = body["outputs"]
    assert (outputs["grade"], body["matched_rules"][0]["id"]) == (expected, rule_id)
    assert outputs["route"] == ROUTES[expected]
    assert outputs["statutory"] is (expected == "catastrophic")
    assert body["matched_rules"][0]["description"]


# --- Catastrophic ----------------------------------------------------------------------------

def test_catastrophic_abuse_or_neglect_and_the_child_has_died(grade: Grade) -> None:
    """"where abuse or neglect of a child is known or suspected & - either (i) the child has
    died"; "Cases which meet one of these criteria regulation 5(2) (a)&(b)(i) ... must always
    trigger a SCR", whatever is known of inter-agency working."""
    for concern in ("not_known", "none", "curiosity", "concern"):
        graded(grade({"abuse_or_neglect": True, "child_died": True,
                      "interagency_concern": concern}),
               "catastrophic", "grading_catastrophic_died_abuse_neglect")
    graded(grade({"parents_charged_neglect": True, "child_died": True}),
           "catastrophic", "grading_catastrophic_died_abuse_neglect")


def test_catastrophic_seriously_harmed_with_cause_for_concern(grade: Grade) -> None:
    """"(ii) the child has been seriously harmed and there is cause for concern as to the way in
    which the authority, their board partners or other relevant persons have worked together to
    safeguard the child"."""
    graded(grade({**ABUSE_HARM, "interagency_concern": "concern"}),
           "catastrophic", "grading_catastrophic_harmed_interagency_concern")


def test_unless_clear_there_are_no_concerns_not_known_grades_catastrophic(grade: Grade) -> None:
    """"Under r5(2)(b)(ii), unless clear there are no concerns about interagency working, the
    LSCB must commission a SCR": "not known", or no answer at all, is not clear."""
    for facts in ({**ABUSE_HARM, "interagency_concern": "not_known"}, dict(ABUSE_HARM),
                  {**ABUSE_HARM, "interagency_concern": None}):
        graded(grade(facts), "catastrophic", "grading_catastrophic_harmed_interagency_not_known")


def test_unless_clear_there_are_no_concerns_only_none_lowers_it(grade: Grade) -> None:
    """"Under r5(2)(b)(ii), unless clear there are no concerns about interagency working, the
    LSCB must commission a SCR": only an explicit "none" lowers it, to the significant row's "a
    child has been seriously harmed as a result of being subjected to ... neglect"; "curiosity"
    is the severe row."""
    graded(grade({**ABUSE_HARM, "interagency_concern": "none"}),
           "significant", "grading_significant_seriously_harmed")
    graded(grade({**ABUSE_HARM, "interagency_concern": "curiosity"}),
           "severe", "grading_severe_harmed_interagency_curiosity")


def test_an_scr_always_when_a_child_dies_in_custody(grade: Grade) -> None:
    """"A SCR should always be carried out if a child dies in custody, police custody, on remand
    or following sentencing, in a Youth Offender Institution, secure training centre or a secure
    children's home, or where the child was detained under the Mental Capacity Act 2005":
    without abuse or neglect, and with no concerns about inter-agency working, too."""
    for facts in ({"died_in_custody": True},
                  {"died_in_custody": True, "child_died": True, "abuse_or_neglect": False,
                   "interagency_concern": "none"},
                  {"died_in_custody": True, "suspected_suicide": True}):
        graded(grade(facts), "catastrophic", "grading_catastrophic_died_in_custody")


def test_suspected_suicide_with_abuse_or_neglect_is_catastrophic(grade: Grade) -> None:
    """"Regulation 5(2)(b)(i) includes where a child dies by suspected suicide": a death under
    (b)(i), so with abuse or neglect known or suspected (5(2)(a)) it "must always trigger a
    SCR"."""
    graded(grade({"suspected_suicide": True, "abuse_or_neglect": True}),
           "catastrophic", "grading_catastrophic_suspected_suicide_abuse_neglect")


def test_suspected_suicide_without_abuse_or_neglect_is_a_childs_death(grade: Grade) -> None:
    """"Regulation 5(2)(b)(i) includes where a child dies by suspected suicide": without abuse
    or neglect known or suspected (5(2)(a)) there is no SCR trigger, and it is the significant
    row's "Death of a child"."""
    for facts in ({"suspected_suicide": True},
                  {"suspected_suicide": True, "child_died": True,
                   "interagency_concern": "concern"}):
        graded(grade(facts), "significant", "grading_significant_suspected_suicide")


# --- Severe ----------------------------------------------------------------------------------

def test_severe_seriously_harmed_with_curiosity(grade: Grade) -> None:
    """"where abuse or neglect of a child is known or suspected & ... (ii) the child has been
    seriously harmed and there is curiosity or concern as to the way in which the authority,
    their board partners or other relevant persons have worked together to safeguard the
    child"."""
    graded(grade({**ABUSE_HARM, "interagency_concern": "curiosity"}),
           "severe", "grading_severe_harmed_interagency_curiosity")
    graded(grade({"parents_charged_neglect": True, "seriously_harmed": True,
                  "interagency_concern": "curiosity"}),
           "severe", "grading_severe_harmed_interagency_curiosity")


def test_severe_hospital_admission_for_more_than_24_hours(grade: Grade) -> None:
    """"Injury requiring immediate hospital admission for more than 24 hours (RIDDOR
    reportable)"."""
    graded(grade({"hospital_admission_over_24h": True}),
           "severe", "grading_severe_hospital_admission")


def test_severe_permanent_disability_or_disease(grade: Grade) -> None:
    """"Permanent disability/disease"."""
    graded(grade({"permanent_disability": True}), "severe", "grading_severe_permanent_disability")


def test_severe_seriously_harmed_by_sexual_abuse_or_cse(grade: Grade) -> None:
    """"a child has been seriously harmed as a result of being subjected to sexual abuse/child
    sexual exploitation": in the severe and the significant rows; the higher grade wins."""
    graded(grade({"sexual_abuse_or_cse": True}), "severe", "grading_severe_sexual_abuse_cse")


def test_severe_parent_murdered_domestic_homicide(grade: Grade) -> None:
    """"the parent has been murdered due to domestic homicide": in the severe and the
    significant rows; the higher grade wins."""
    graded(grade({"parent_domestic_homicide": True}), "severe",
           "grading_severe_domestic_homicide")


# --- Significant -----------------------------------------------------------------------------

def test_significant_death_of_a_child(grade: Grade) -> None:
    """"Death of a child", where abuse or neglect is not known or suspected."""
    graded(grade({"child_died": True}), "significant", "grading_significant_child_death")


def test_significant_transportation_to_hospital(grade: Grade) -> None:
    """"Injury requiring transportation to hospital for treatment": in the significant and the
    moderate rows; the higher grade wins, whatever the compliance column says."""
    for compliance in ("none", "minor", "internal"):
        graded(grade({"transported_to_hospital": True, "known_to_services": True,
                      "compliance_failure": compliance}),
               "significant", "grading_significant_transported_to_hospital")


def test_significant_episode_of_self_harm(grade: Grade) -> None:
    """"Significant episode of self harm by child": in the significant and the moderate rows;
    the higher grade wins."""
    graded(grade({"significant_self_harm": True, "missing_education": True,
                  "known_to_services": True}),
           "significant", "grading_significant_self_harm")


def test_significant_seriously_harmed_without_abuse_or_neglect(grade: Grade) -> None:
    """"a child has been seriously harmed as a result of being subjected to ... neglect" with no
    concerns, or serious harm with no abuse or neglect known or suspected: the catastrophic and
    severe rows need "abuse or neglect of a child is known or suspected"."""
    for concern in ("not_known", "concern"):
        graded(grade({"seriously_harmed": True, "interagency_concern": concern}),
               "significant", "grading_significant_seriously_harmed")


def test_significant_failure_to_meet_professional_standards(grade: Grade) -> None:
    """"Failure to meet professional standards and/or statutory requirements", with no incident
    of the matrix reported."""
    for compliance in ("professional", "statutory"):
        graded(grade({"compliance_failure": compliance}),
               "significant", "grading_significant_professional_statutory_failure")


# --- Moderate --------------------------------------------------------------------------------

def test_moderate_parents_charged_with_neglect(grade: Grade) -> None:
    """"Parents charged with neglect"."""
    graded(grade({"parents_charged_neglect": True}),
           "moderate", "grading_moderate_parents_charged_neglect")


def test_moderate_child_missing_education_and_on_a_plan(grade: Grade) -> None:
    """"child missing education and child on a child protection plan, child in need and/or
    receiving significant services"."""
    graded(grade({"missing_education": True, "known_to_services": True}),
           "moderate", "grading_moderate_missing_education_known_to_services")


def test_moderate_failure_to_meet_internal_standards(grade: Grade) -> None:
    """"Failure to meet internal standards and policy, procedure", with no incident of the
    matrix reported."""
    graded(grade({"compliance_failure": "internal"}),
           "moderate", "grading_moderate_internal_failure")


# --- Low -------------------------------------------------------------------------------------

def test_low_abrasions_bruises(grade: Grade) -> None:
    """"-Abrasions/bruises"."""
    graded(grade({"minor_injury": True}), "low", "grading_low_minor_injury")


def test_low_minor_injuries_to_a_child_missing_education_even_with_internal_failure(
        grade: Grade) -> None:
    """"Minor injuries to a child who is missing education/ child on a child protection plan/
    child in need and/or receiving significant services": the incident column decides before
    the compliance column, so "Failure to meet internal standards and policy, procedure" (in
    the moderate and the low rows) cannot lift a minor injury to moderate."""
    for compliance in ("none", "minor", "internal", "professional"):
        graded(grade({"minor_injury": True, "missing_education": True, "known_to_services": True,
                      "compliance_failure": compliance}),
               "low", "grading_low_minor_injury")


def test_low_minor_non_compliance(grade: Grade) -> None:
    """"Minor non compliance"."""
    graded(grade({"compliance_failure": "minor"}), "low", "grading_low_minor_non_compliance")


# --- Best practice ---------------------------------------------------------------------------

def test_best_practice_examples_of_good_practice(grade: Grade) -> None:
    """"Examples of good practice in work with vulnerable children and their families that can
    be cascaded to the multi agency partnership": only when nothing above applies."""
    graded(grade({"good_practice": True}), "best_practice", "grading_best_practice")
    graded(grade({"good_practice": True, "minor_injury": True}), "low", "grading_low_minor_injury")


def test_reputation_column_is_who_must_be_told(grade: Grade) -> None:
    """The Reputation column: only the catastrophic row names "Publication"; every row names
    "Media coverage", "Political questions local/national", the Annual Safeguarding (Children
    Board) Report and the single agency governance structure."""
    examples = {"catastrophic": {"died_in_custody": True},
                "severe": {"permanent_disability": True}, "significant": {"child_died": True},
                "moderate": {"parents_charged_neglect": True}, "low": {"minor_injury": True},
                "best_practice": {"good_practice": True}}
    for expected, facts in examples.items():
        assert grade(facts)["outputs"]["grade"] == expected
        told = grade.reputation(expected)  # type: ignore[attr-defined]
        assert told["outputs"]["notify"].split(",") == REPUTATION[expected]
        assert told["matched_rules"][0]["description"]


# --- The three readings through a referral ---------------------------------------------------

def referred(driver: CaseDriver, **facts: Any) -> tuple[dict[str, Any], list[str]]:
    """Refer through the API; the case as returned, and the rules its grading matched."""
    case = driver.refer(**facts)
    event, told = driver.events("decision_evaluated")
    assert event["detail"]["outputs"]["grade"] == case["grade"]
    assert told["element_id"] == "who_must_be_told"
    assert told["detail"]["outputs"]["notify"].split(",") == REPUTATION[case["grade"]]
    assert case["notify"] == REPUTATION[case["grade"]]  # the case shows who must be told
    return case, event["detail"]["matched_rules"]


def test_referral_not_yet_known_is_an_scr_and_only_no_concerns_lowers_it(
        client: TestClient) -> None:
    """"Under r5(2)(b)(ii), unless clear there are no concerns about interagency working, the
    LSCB must commission a SCR": a referral that says "not known", or does not say, is
    catastrophic and statutory; one that says "none" is significant."""
    driver = CaseDriver(client)
    driver.deploy()
    for facts in ({"interagency_concern": "not_known"}, {}):
        case, rules = referred(driver, **ABUSE_HARM, **facts)
        assert (case["grade"], case["route"], case["statutory"]) == (
            "catastrophic", "extended", True)
        assert case["facts"]["interagency_concern"] == "not_known"
        assert rules[0] == "grading_catastrophic_harmed_interagency_not_known"
    case, rules = referred(driver, **ABUSE_HARM, interagency_concern="none")
    assert (case["grade"], case["statutory"]) == ("significant", False)
    assert rules[0] == "grading_significant_seriously_harmed"


def test_referral_suspected_suicide_and_death_in_custody(client: TestClient) -> None:
    """"Regulation 5(2)(b)(i) includes where a child dies by suspected suicide" (catastrophic
    only with abuse or neglect known or suspected) and "A SCR should always be carried out if a
    child dies in custody ..." (with or without)."""
    driver = CaseDriver(client)
    driver.deploy()
    expected = [({"suspected_suicide": True}, "significant",
                 "grading_significant_suspected_suicide"),
                ({"suspected_suicide": True, "abuse_or_neglect": True}, "catastrophic",
                 "grading_catastrophic_suspected_suicide_abuse_neglect"),
                ({"died_in_custody": True, "interagency_concern": "none"}, "catastrophic",
                 "grading_catastrophic_died_in_custody")]
    for facts, grade_, rule_id in expected:
        case, rules = referred(driver, **facts)
        assert (case["grade"], case["statutory"], rules[0]) == (
            grade_, grade_ == "catastrophic", rule_id)


def test_referral_minor_injury_missing_education_internal_failure_is_low(
        client: TestClient) -> None:
    """"Minor injuries to a child who is missing education/ child on a child protection plan/
    child in need and/or receiving significant services" is low: "Failure to meet internal
    standards and policy, procedure" does not lift it to moderate."""
    driver = CaseDriver(client)
    driver.deploy()
    case, rules = referred(driver, minor_injury=True, missing_education=True,
                           known_to_services=True, compliance_failure="internal")
    assert (case["grade"], case["route"], case["statutory"]) == ("low", "audit", False)
    assert rules == ["grading_low_minor_injury"]
