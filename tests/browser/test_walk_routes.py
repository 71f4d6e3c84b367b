"""Issue 19, Tests: a whole case of each review route walked in the browser, from the referral to
its end, each step by the person whose role holds it, through what the pages show only (the data
and the order of the steps are those of tests/routes/test_routes.py's API walk). axe-core runs on
every page visited; the screenshots are kept under var/screenshots (walk-<route>-*).

Services only read the end state, with one exception: the national panel's advice, which comes
from outside the Board as a message (there is no page for it). The live server runs on the real
clock, so deadlines are set from today (`Walk.ahead`): past ones would start chase tasks."""

from __future__ import annotations

from typing import Any

from app.auth.principal import SYSTEM
from app.services import cases, messages
from app.services.context import ServiceContext
from tests.browser.walk import Walk

HEALTH = "Health (NHS trusts and the integrated care board)"


def _screen(walk: Walk, route_label: str) -> None:
    page = walk.open_task("pat.panel", "Screen the referral")
    walk.radio(page, "Do you confirm the proposed grade?", "Yes")
    walk.radio(page, "Type of review recommended", route_label)
    walk.text(page, "Reasons for the recommendation", f"The sub-group recommends {route_label}.")
    walk.submit(page, "screening")


def _endorse(walk: Walk) -> None:
    page = walk.open_task("chris.chair", "Endorse the decision to hold a review")
    walk.radio(page, "Your decision", "Endorse the review")
    walk.submit(page, "endorsement")


def test_walk_audit_best_practice_case_study(live_ctx: ServiceContext, page_for: Any) -> None:
    walk = Walk(live_ctx, page_for, "audit")
    walk.refer("bea.manager", "Child A", ["Police", HEALTH], "2026-02-20",
               "Child A was seen by a health visitor and a police officer together.",
               ["Good practice worth sharing"])
    case = cases.get(live_ctx, SYSTEM, walk.reference).case
    assert (case.grade, case.route) == ("best_practice", "audit")
    _screen(walk, "Audit")
    _endorse(walk)

    page = walk.open_task("pat.panel", "Set the audit questions")
    walk.radio(page, "Kind of audit", "Best-practice case study")
    walk.text(walk.group(page, "Audit questions"), "Question 1",
              "What made the joint visit work?")
    walk.text(page, "Who carries out the audit", "Practice manager")
    walk.submit(page, "audit-questions")

    page = walk.open_task("rita.reviewer", "Complete the audit")
    answer = walk.group(walk.group(page, "Answers"), "Entry 1")
    walk.text(answer, "Question", "What made the joint visit work?")
    walk.text(answer, "Answer", "Planning")
    finding = walk.group(walk.group(page, "Findings"), "Entry 1")
    walk.text(finding, "Finding", "Joint planning")
    walk.tick(finding, "Themes", "Assessment")
    walk.text(page, "Why the audit sets no actions",
              "Good practice to share; nothing to change.")
    walk.submit(page, "audit")

    page = walk.open_task("rita.reviewer", "Write the case study to cascade")
    walk.text(page, "The case study", "Joint visits planned the day before worked well.")
    walk.tick(page, "Where it will be shared", "Newsletter")
    walk.submit(page, "case-study")

    page = walk.open_task("pat.panel", "Agree the learning from the audit")
    walk.radio(page, "Does the sub-group agree the learning?", "Yes")
    walk.text(page, "Summary of the learning", "Plan jointly")
    walk.submit(page, "learning")

    assert walk.final_status("bea.manager") == "closed"
    case = cases.get(live_ctx, SYSTEM, walk.reference).case
    assert case.status == "closed"
    assert case.outcome["learning_summary"] == "Plan jointly"


def _single_agency_review(walk: Walk) -> None:
    page = walk.open_task("hel.lead", "Carry out the single agency review")
    entry = walk.group(walk.group(page, "Chronology of significant events"), "Entry 1")
    walk.date(entry, "Date", "2026-01-05")
    walk.text(entry, "What happened", "Visit")
    walk.text(entry, "Source (record or person)", "Notes")
    walk.text(page, "Analysis of the agency's practice", "a")
    finding = walk.group(walk.group(page, "Findings"), "Entry 1")
    walk.text(finding, "Finding", "Concerns were not escalated")
    walk.tick(finding, "Themes", "Escalation", "Information sharing")
    actions = walk.group(page, "SMART actions")
    if not walk.group(actions, "Entry 1").count():
        walk.add(page, actions, "Add entry to SMART actions", "action")
    action = walk.group(walk.group(page, "SMART actions"), "Entry 1")
    walk.text(action, "Action", "Train health visitors on escalation")
    walk.agency(action, "Owner agency", HEALTH)
    walk.text(action, "Lead", "Named nurse")
    walk.date(action, "Target date", "2027-06-30")
    walk.text(action, "Measure of success", "90% of health visitors trained")
    author = walk.group(page, "Author of this agency review")
    walk.text(author, "Name", "A. Reviewer")
    walk.text(author, "Role", "Safeguarding lead")
    walk.radio(author, "Do you have line responsibility for any of the staff involved in the "
                       "case?", "No")
    walk.submit(page, "single-agency-review")


def test_walk_single_agency_review(live_ctx: ServiceContext, page_for: Any) -> None:
    walk = Walk(live_ctx, page_for, "single-agency")
    walk.refer("bea.manager", "Child A", ["Police", HEALTH], "2026-02-20",
               "Child A was admitted to hospital.", ["Parents charged with neglect"])
    case = cases.get(live_ctx, SYSTEM, walk.reference).case
    assert (case.grade, case.route) == ("moderate", "single_agency")
    _screen(walk, "Single agency review")
    _endorse(walk)

    page = walk.open_task("pat.panel", "Commission the single agency review")
    walk.agency(page, "Agency reviewing its own practice", HEALTH)
    walk.text(page, "Terms of reference", "Health visiting in 2025")
    walk.date(page, "Findings due", walk.ahead(60))
    walk.submit(page, "commission")

    _single_agency_review(walk)
    page = walk.open_task("pat.panel", "Receive the agency's findings and actions")
    walk.radio(page, "Does the sub-group accept the findings and actions?", "No")
    walk.text(page, "What the agency must add or change", "Add supervision.")
    walk.submit(page, "findings-sent-back")

    _single_agency_review(walk)
    page = walk.open_task("pat.panel", "Receive the agency's findings and actions")
    walk.radio(page, "Does the sub-group accept the findings and actions?", "Yes")
    walk.submit(page, "findings-accepted")

    case = cases.get(live_ctx, SYSTEM, walk.reference).case
    assert case.status == "monitoring"
    assert walk.final_status("bea.manager") == "monitoring"
    assert [a["owner_agency"] for a in case.outcome["actions"]] == ["health"]


def _entry(walk: Walk, page: Any, legend: str, n: int, add: str) -> Any:
    """Row `n` of the list under `legend`, pressing its "Add" button when it is not shown."""
    if not walk.group(walk.group(page, legend), f"Entry {n}").count():
        walk.add(page, walk.group(page, legend), add, _slug(legend))
    return walk.group(walk.group(page, legend), f"Entry {n}")


def _slug(text: str) -> str:
    return "-".join(text.lower().split()[:3])


def _action(walk: Walk, action: Any) -> None:
    walk.text(action, "Action", "Train health visitors on escalation")
    walk.agency(action, "Owner agency", HEALTH)
    walk.text(action, "Lead", "Named nurse")
    walk.date(action, "Target date", "2027-06-30")
    walk.text(action, "Measure of success", "90% of health visitors trained")


def _terms_of_reference(walk: Walk) -> None:
    page = walk.open_task("pat.panel", "Agree the terms of reference")
    walk.text(page, "Terms of reference",
              "How agencies worked together in the year before the incident.")
    team = "Overview author and reviewers (people independent of the case)"
    add_member = "Add entry to overview author and reviewers (people independent of the case)"
    author = _entry(walk, page, team, 1, add_member)
    walk.text(author, "Name", "Dr Jane Author")
    walk.radio(author, "Role in the review", "Overview author")
    walk.text(author, "Organisation", "Independent")
    walk.radio(author, "Independence", "Independent of the case and of the agencies reviewed")
    walk.radio(author, "Conflict of interest", "None")
    reviewer = _entry(walk, page, team, 2, add_member)
    walk.text(reviewer, "Name", "Sam Reviewer")
    walk.radio(reviewer, "Role in the review", "Reviewer")
    walk.text(reviewer, "Organisation", "Neighbouring Board")
    walk.radio(reviewer, "Independence",
               "A professional independent of the case, with the skills it needs")
    walk.text(reviewer, "The skills and interest they bring to this case",
              "Designated nurse with experience of infant injuries")
    walk.radio(reviewer, "Conflict of interest", "None")
    walk.radio(page, "Was the overview author involved in finalising them?", "Yes")
    walk.radio(page, "Methodology", "Welsh model with SCIE Learning Together")
    for n, agency in ((1, "Police"), (2, HEALTH)):
        taking_part = _entry(walk, page, "Agencies taking part", n,
                             "Add entry to agencies taking part")
        walk.agency(taking_part, "Agency", agency)
        walk.radio(taking_part, "Writes an individual agency review?", "Yes")
    walk.date(page, "Period under review: from", "2025-02-01")
    walk.date(page, "Period under review: to", "2026-02-20")
    walk.submit(page, "terms-of-reference")


def _involvement(walk: Walk, family: bool) -> None:
    page = walk.open_task("pat.panel", "Decide family and staff involvement")
    walk.radio(page, "Will the child and family be involved?", "Yes" if family else "No")
    if not family:
        walk.text(page, "Why the family will not be involved (this goes in the report)",
                  "The family declined to take part.")
    walk.radio(page, "Will front-line staff and volunteers be involved (at minimum a direct "
                     "discussion of their involvement)?", "Yes")
    walk.tick(page, "How staff will be involved (a direct discussion at minimum)",
              "Direct discussion")
    walk.submit(page, "involvement")


def _publication_plan(walk: Walk) -> None:
    page = walk.open_task("bea.manager", "Set the publication plan and deadlines")
    walk.radio(page, "Who the report is for", "The whole report")
    walk.text(page, "How the report will be published", "On the Board's website")
    walk.date(page, "Agency reviews due", walk.ahead(30))
    walk.date(page, "Overview report due", walk.ahead(90))
    walk.date(page, "Publication due", walk.ahead(150))
    walk.submit(page, "publication-plan")


def _agency_review(walk: Walk, lead: str) -> None:
    page = walk.open_task(lead, "Write the agency review")
    entry = _entry(walk, page, "Chronology of significant events", 1,
                   "Add entry to chronology of significant events")
    walk.date(entry, "Date", "2026-05-02")
    walk.text(entry, "What happened", "Home visit; concerns about supervision")
    walk.text(entry, "Action taken (optional)", "Strategy discussion")
    walk.text(entry, "Source (record or person)", "Case notes")
    people = walk.group(walk.group(page, "Genogram"), "People")
    for n, (name, relationship, age) in enumerate((("Child A", "self", "2"),
                                                   ("Adult B", "mother", "")), start=1):
        if not walk.group(people, f"Entry {n}").count():
            walk.add(page, people, "Add entry to people", "genogram-person")
            people = walk.group(walk.group(page, "Genogram"), "People")
        person = walk.group(people, f"Entry {n}")
        walk.text(person, "Name or pseudonym", name)
        walk.text(person, "Relationship to the child", relationship)
        if age:
            walk.text(person, "Age (optional)", age)
    walk.text(page, "Analysis of agency and inter-agency work",
              "Information was not shared between the health visitor and the school nurse.")
    walk.text(walk.group(page, "Lessons learned"), "Lesson 1",
              "Share concerns about supervision promptly")
    if not walk.group(page, "Action points").get_by_label("Action point 1").count():
        walk.add(page, walk.group(page, "Action points"), "Add action point", "action-point")
    walk.text(walk.group(page, "Action points"), "Action point 1",
              "Review the information sharing protocol")
    author = walk.group(page, "Author of this agency review")
    walk.text(author, "Name", "A. Reviewer")
    walk.text(author, "Role", "Safeguarding lead")
    walk.radio(author, "Do you have line responsibility for any of the staff involved in the "
                       "case?", "No")
    walk.submit(page, f"agency-review-{lead}")


def _full_review_to_end(walk: Walk, extended: bool, family: bool) -> None:
    """tests/routes/driver.py's `full_review_to_end`, page by page."""
    _terms_of_reference(walk)
    _involvement(walk, family)
    _publication_plan(walk)
    _agency_review(walk, "pol.lead")
    _agency_review(walk, "hel.lead")
    if extended:
        page = walk.open_task("rita.reviewer", "Merge the chronologies")
        entry = _entry(walk, page, "Merged chronology", 1, "Add entry to merged chronology")
        walk.date(entry, "Date", "2026-05-02")
        walk.agency(entry, "Agency", HEALTH)
        walk.text(entry, "Event", "Home visit")
        walk.text(page, "Key practice episodes", "The missed escalation in May.")
        walk.submit(page, "merged-chronology")

    page = walk.open_task("rita.reviewer", "Hold the practitioners' learning event")
    walk.date(page, "Date of the learning event", "2026-06-01")
    attendance = _entry(walk, page, "Attendance by agency", 1,
                        "Add entry to attendance by agency")
    walk.agency(attendance, "Agency", HEALTH)
    walk.text(attendance, "People", "4")
    walk.text(page, "What practitioners said and learned",
              "Practitioners did not know whom to escalate to.")
    walk.submit(page, "learning-event")

    page = walk.open_task("rita.reviewer", "Draft the overview report")
    walk.text(page, "Summary of the report", "Agencies did not share what they knew.")
    finding = _entry(walk, page, "Findings", 1, "Add entry to findings")
    walk.text(finding, "Finding", "Concerns were not escalated")
    walk.tick(finding, "Themes", "Escalation", "Information sharing")
    recommendation = _entry(walk, page, "Recommendations", 1, "Add entry to recommendations")
    walk.text(recommendation, "Recommendation", "Strengthen escalation")
    actions = walk.group(recommendation, "SMART actions")
    if not walk.group(actions, "Entry 1").count():
        walk.add(page, actions, "Add entry to SMART actions", "recommendation-action")
    recommendation = walk.group(walk.group(page, "Recommendations"), "Entry 1")
    _action(walk, walk.group(walk.group(recommendation, "SMART actions"), "Entry 1"))
    walk.submit(page, "draft-report")

    page = walk.open_task("rita.reviewer", "Record staff comments on the draft")
    walk.text(page, "Comments from staff and volunteers on accuracy", "Dates corrected.")
    walk.submit(page, "staff-comments")
    if family:
        page = walk.open_task("rita.reviewer", "Record the family's comments on the draft")
        walk.text(page, "The family's comments", "The family felt heard.")
        walk.radio(page, "Are the family's views reflected in the report?", "Yes")
        walk.submit(page, "family-comments")

    page = walk.open_task("pat.panel", "Sign off the report")
    walk.radio(page, "Does the panel sign off the report?", "Yes")
    walk.submit(page, "sign-off")
    page = walk.open_task("chris.chair", "Write the Board's response")
    walk.text(page, "The Board's response to the findings", "The Board accepts the findings.")
    walk.submit(page, "board-response")


def test_walk_concise_review_without_family(live_ctx: ServiceContext, page_for: Any) -> None:
    walk = Walk(live_ctx, page_for, "concise")
    walk.refer("pol.lead", "Child A", ["Police", HEALTH], "2026-02-20",
               "Child A was admitted to hospital.",
               ["Abuse or neglect is known or suspected", "The child was seriously harmed"],
               concern="Curiosity")
    case = cases.get(live_ctx, SYSTEM, walk.reference).case
    assert case.route == "concise"
    _screen(walk, "Concise review")
    _endorse(walk)
    _full_review_to_end(walk, extended=False, family=False)

    page = walk.open_task("bea.manager", "Decide on publication")
    walk.radio(page, "Will the report be published?", "No")
    walk.text(page, "Why it will not be published", "Family would be identified.")
    walk.submit(page, "publication-decision")

    case = cases.get(live_ctx, SYSTEM, walk.reference).case
    assert case.status == "monitoring"
    assert walk.final_status("bea.manager") == "monitoring"
    assert case.outcome["board_response"] == "The Board accepts the findings."


def test_walk_extended_review_scr_with_national_panel(live_ctx: ServiceContext,
                                                      page_for: Any) -> None:
    walk = Walk(live_ctx, page_for, "extended")
    walk.refer("bea.manager", "Child A", ["Police", HEALTH], "2026-02-20",
               "Child A died in hospital.",
               ["Abuse or neglect is known or suspected", "The child died"])
    case = cases.get(live_ctx, SYSTEM, walk.reference).case
    assert (case.grade, case.route, case.statutory) == ("catastrophic", "extended", True)
    _screen(walk, "Extended review (SCR)")
    assert walk.final_status("chris.chair") == "awaiting national panel"
    # The national panel is outside the Board: its advice arrives as a message, not a page.
    messages.deliver(live_ctx, SYSTEM, "national_panel_advice", walk.reference, {
        "advice": "Proceed with a Serious Case Review using the Welsh model."})

    page = walk.open_task("chris.chair", "Decide whether to hold a Serious Case Review")
    assert "Proceed with a Serious Case Review" in page.locator("main").inner_text()
    walk.radio(page, "Your decision", "Hold a Serious Case Review")
    walk.submit(page, "scr-decision")
    assert page.locator("#case-status").inner_text() == "in review"

    _full_review_to_end(walk, extended=True, family=True)
    page = walk.open_task("bea.manager", "Publish the report")
    walk.radio(page, "Is the report published?", "Yes")
    walk.date(page, "Final report sent to the national panel on (at least a week before "
                    "publication)", walk.ahead(-8))
    walk.date(page, "Published on", walk.ahead(0))
    walk.radio(page, "What was published", "Whole")
    walk.text(page, "Where it is published", "Board website")
    walk.submit(page, "publication")

    case = cases.get(live_ctx, SYSTEM, walk.reference).case
    assert (case.status, case.scr_held) == ("monitoring", True)
    assert walk.final_status("bea.manager") == "monitoring"
    assert case.outcome["board_response"] == "The Board accepts the findings."
    assert [a["recommendation"] for a in case.outcome["actions"]] == ["Strengthen escalation"]
