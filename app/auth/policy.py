"""Every authorization rule, in one place. Services call these; routers and pages never decide.

Lanes are roles: a task is seen, claimed and completed by holders of its lane's role, and a task
bound to an agency only by that agency's leads. Board managers, auditors and admins see every
task (board managers assign them); auditors read and never write.

Existence is not disclosed: a task, case or action that exists but is not the caller's is
refused with `Concealed`, which the edges answer exactly as a missing one (404, the same body),
while the log and the audit entry keep the real reason. Refusals by role alone stay 403.

Need to know: a task's data is cut to what its form names and what its BPMN declares it reads
(`task_data`); agency leads never receive the panel's or the chair's reasoning, nor what other
agencies wrote (`AGENCY_WITHHELD`), on a task, a case or the timeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, false, or_, true

from app.auth.errors import Forbidden
from app.auth.principal import Principal
from app.db.models import HumanTask, ReviewCase

CASE_READERS = ("board_manager", "chair", "panel_member", "reviewer", "auditor", "admin")
SEE_ALL_TASKS = ("board_manager", "auditor", "admin")
AGENCY_LANE = "agency_lead"

ACTIONS: dict[str, tuple[str, ...]] = {
    "deploy": ("designer",),
    "simulate": ("designer", "admin"),
    "migrate": ("designer", "admin"),
    "read_definitions": ("board_manager", "chair", "panel_member", "reviewer", "agency_lead",
                         "designer", "auditor", "admin"),
    "evaluate_decision": ("board_manager", "chair", "panel_member", "reviewer", "agency_lead",
                          "designer", "auditor", "admin"),
    "start_instance": ("board_manager", "admin"),
    "read_instances": CASE_READERS,
    "terminate": ("board_manager", "admin"),
    "retry": ("board_manager", "admin"),
    "send_message": ("board_manager", "agency_lead", "admin"),
    "refer": ("agency_lead", "board_manager", "admin"),
    "read_cases": (*CASE_READERS, "agency_lead"),
    "escalate": ("panel_member", "chair"),
    "raise_concern": ("board_manager", "chair", "panel_member", "reviewer", "agency_lead"),
    "read_tasks": ("board_manager", "chair", "panel_member", "reviewer", "agency_lead",
                   "auditor", "admin"),
    "work_tasks": ("board_manager", "chair", "panel_member", "reviewer", "agency_lead"),
    "assign": ("board_manager",),
    "read_audit": ("auditor", "admin"),
    "read_actions": (*CASE_READERS, "agency_lead"),
    "update_action": ("agency_lead",),
    "sign_off_action": ("panel_member",),
    "read_learning": ("board_manager", "chair", "panel_member", "reviewer", "agency_lead",
                      "designer", "auditor", "admin"),
    "record_learning": ("board_manager", "reviewer"),
    "record_publication": ("board_manager",),
    "write_briefings": ("board_manager", "reviewer"),
    "read_incidents": ("board_manager", "auditor", "admin"),
    "resolve_incidents": ("board_manager", "admin"),
    "manage_people": ("admin",),
}
ACTION_WORDS = {
    "deploy": "deploy process definitions", "simulate": "simulate processes",
    "migrate": "migrate instances to a new version",
    "read_definitions": "read process definitions",
    "evaluate_decision": "evaluate decisions", "start_instance": "start process instances",
    "read_instances": "read process instances", "terminate": "terminate instances",
    "retry": "retry instances", "send_message": "send messages", "refer": "refer cases",
    "read_cases": "read cases", "escalate": "escalate a case's grade",
    "raise_concern": "raise an urgent concern", "read_tasks": "read tasks",
    "work_tasks": "work on tasks", "assign": "assign tasks", "read_audit": "read the audit log",
    "read_actions": "read actions", "update_action": "update an action",
    "sign_off_action": "sign off an action", "read_learning": "read the learning registers",
    "record_learning": "record learning events", "record_publication": "record publications",
    "write_briefings": "generate, edit or publish a 7-minute briefing",
    "read_incidents": "read worker incidents", "resolve_incidents": "resolve worker incidents",
    "manage_people": "manage people, their roles and agencies",
}


class Concealed(Forbidden):
    """A refusal that depends on the resource existing: answered as its absence would be.

    `message` is the real reason (for the log and the audit entry); `absent_message` and
    `absent_detail` are exactly what the service says when no such resource exists.
    """

    def __init__(self, reason: str, absent: tuple[str, dict[str, Any]]) -> None:
        super().__init__(reason)
        self.absent_message, self.absent_detail = absent


def missing_task(task_id: str) -> tuple[str, dict[str, Any]]:
    """The message and detail of a task that does not exist (shared by the services)."""
    return f"no task with id '{task_id}'", {"task_id": task_id}


def missing_case(reference: str) -> tuple[str, dict[str, Any]]:
    return f"no case with the reference '{reference}'", {"reference": reference}


def missing_action(action_id: int) -> tuple[str, dict[str, Any]]:
    return f"no action with id {action_id}", {"action_id": action_id}


def missing_waiting_instance(name: str, business_key: str) -> tuple[str, dict[str, Any]]:
    """No instance with the business key waits for the message."""
    return (f"no instance with business key '{business_key}' waits for the message '{name}'",
            {"name": name, "business_key": business_key})


BOARD_MESSAGES = frozenset({"national_panel_advice"})
"""Messages only the Board itself records (board manager, admin): an agency's system cannot
stand in for the national panel."""


ROLE_WORDS = {
    "board_manager": "a board manager", "chair": "the chair", "panel_member": "a panel member",
    "reviewer": "a reviewer", "agency_lead": "an agency lead", "designer": "a process designer",
    "auditor": "an auditor", "admin": "an administrator",
}
"""Each role as a sentence names the person who holds it ("You need to be a board manager")."""


def role_words(role: str) -> str:
    return ROLE_WORDS.get(role, "a " + role.replace("_", " "))


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def require(principal: Principal, action: str) -> None:
    allowed = ACTIONS[action]
    if not principal.has(*allowed):
        held = sorted(principal.roles)
        you = (f"you are {_either([role_words(role) for role in held]).replace(' or ', ' and ')}"
               if held else "you have no role")
        raise Forbidden(f"You need to be {_either([role_words(role) for role in allowed])} "
                        f"to {ACTION_WORDS[action]}; {you}.")


# ---- tasks -------------------------------------------------------------------------------

def holds_lane(principal: Principal, lane: str | None, agency: str | None) -> bool:
    if lane is None or lane not in principal.roles:
        return False
    return lane != AGENCY_LANE or agency is None or agency == principal.agency


def can_see_task(principal: Principal, task: HumanTask) -> bool:
    return principal.has(*SEE_ALL_TASKS) or holds_lane(principal, task.lane, task.agency)


def visible_tasks(principal: Principal) -> ColumnElement[bool]:
    """A SQL condition selecting the tasks the principal may see."""
    if principal.has(*SEE_ALL_TASKS):
        return true()
    lanes = sorted(principal.roles - {AGENCY_LANE})
    conditions: list[ColumnElement[bool]] = [HumanTask.lane.in_(lanes)] if lanes else []
    if AGENCY_LANE in principal.roles:
        conditions.append(and_(HumanTask.lane == AGENCY_LANE,
                               or_(HumanTask.agency == principal.agency,
                                   HumanTask.agency.is_(None))))
    return or_(*conditions) if conditions else false()


def check_task_read(principal: Principal, task: HumanTask) -> None:
    if not can_see_task(principal, task):
        raise Concealed(_not_your_task(task), missing_task(task.id))


def check_task_work(principal: Principal, task: HumanTask) -> None:
    """Complete or claim: the lane's role (and agency), and not claimed by someone else."""
    require(principal, "work_tasks")
    check_task_read(principal, task)
    if not holds_lane(principal, task.lane, task.agency):
        raise Forbidden(_not_your_task(task))
    if task.assignee and task.assignee != principal.name:
        raise Forbidden(f"the task is claimed by {task.assignee}")


def check_unclaim(principal: Principal, task: HumanTask) -> None:
    if task.assignee != principal.name and not principal.has("board_manager"):
        raise Forbidden("only the person who claimed the task, or a board manager, can "
                        "release it")


def _not_your_task(task: HumanTask) -> str:
    agency = (f" of {task.agency.replace('_', ' ')}" if task.lane == AGENCY_LANE and task.agency
              else "")
    return f"this task is for {role_words(task.lane or '')}{agency}"


# ---- cases -------------------------------------------------------------------------------

def is_case_reader(principal: Principal) -> bool:
    return principal.has(*CASE_READERS)


def check_case_read(principal: Principal, case: ReviewCase) -> None:
    require(principal, "read_cases")
    if is_case_reader(principal):
        return
    if principal.agency not in case.agencies:
        raise Concealed(f"the case does not involve your agency ({principal.agency})",
                        missing_case(case.reference))


def visible_cases(principal: Principal) -> ColumnElement[bool]:
    """A SQL condition selecting the cases the principal may read."""
    if is_case_reader(principal):
        return true()
    if principal.agency is None:
        return false()
    needle = principal.agency.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(ReviewCase.agencies, String).like(f'%"{needle}"%', escape="\\")


def check_case_write(principal: Principal, case: ReviewCase, action: str) -> None:
    """Call `require(principal, action)` before looking the case up, so that a refusal by
    role says nothing about whether the case exists."""
    require(principal, action)
    if not is_case_reader(principal) and principal.agency not in case.agencies:
        raise Concealed(f"the case does not involve your agency ({principal.agency})",
                        missing_case(case.reference))


AGENCY_TIMELINE_TYPES = frozenset({"started", "case_updated", "completed", "terminated"})


def event_visible(principal: Principal, event_type: str, task_agency: str | None,
                  has_task: bool) -> bool:
    """Agency leads see their agency's tasks and the case's status changes, nothing else."""
    if is_case_reader(principal):
        return True
    if has_task:
        return task_agency is not None and task_agency == principal.agency
    return event_type in AGENCY_TIMELINE_TYPES


def outcome_for(principal: Principal, outcome: dict[str, Any]) -> dict[str, Any]:
    if is_case_reader(principal):
        return outcome
    actions = [a for a in outcome.get("actions", []) if isinstance(a, dict)
               and a.get("owner_agency") == principal.agency]
    return {"findings": outcome.get("findings", []), "actions": actions}


# ---- need to know ------------------------------------------------------------------------

PANEL_AND_CHAIR_REASONING = frozenset({
    "recommended_route", "recommendation_reason", "grade_change_reason", "endorsement",
    "endorsement_reasons", "chair_comments", "more_information_request", "scr_decision",
    "previous_scr_decision", "scr_not_held_reasons", "scr_not_held_reason", "not_held_route",
    "against_advice_reasons", "advice", "advice_recommendation", "advice_received",
    "escalation_reason", "escalation_decision", "escalation_decline_reasons",
    "family_not_involved_reason", "staff_not_involved_reason", "conflict_decision",
    "conflict_decision_reason", "author_decision", "author_decision_reason",
    "late_publication_reason", "late_publication_agreed", "late_publication_decision_reason",
    "scr_not_published_reason", "not_published_reason", "learning_not_agreed_reason",
    "changes_required", "feedback", "reason",
})
"""What the panel and the chair decided and why: never for an agency lead."""
OTHER_AGENCIES_CONTENT = frozenset({
    "agency_reviews", "kept_agency_reviews", "redo_agency_reviews", "review_agencies",
    "conflicted_review", "conflicted_reviews", "agency_review_authors", "merged_chronology",
    "key_practice_episodes", "lessons", "family_names",
})
"""What the agencies wrote, together: an agency lead sees only its own task's answers."""
AGENCY_WITHHELD = PANEL_AND_CHAIR_REASONING | OTHER_AGENCIES_CONTENT
_FORM_DATA_KEYWORDS = {"x-not-after": "date", "x-same-as": "data"}


def _nodes(schema: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(schema, Mapping):
        yield schema
        for value in schema.values():
            yield from _nodes(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _nodes(item)


def form_keys(schema: Mapping[str, Any] | None) -> frozenset[str]:
    """The data a form needs: its properties, and the process values its keywords compare
    answers with (`x-not-after`, `x-same-as`)."""
    if not schema:
        return frozenset()
    keys = set(schema.get("properties") or {})
    for node in _nodes(schema):
        for keyword, part in _FORM_DATA_KEYWORDS.items():
            target = node.get(keyword)
            if isinstance(target, Mapping) and isinstance(target.get(part), str):
                keys.add(target[part])
    return frozenset(keys)


def readable_keys(principal: Principal, schema: Mapping[str, Any] | None,
                  reads: Iterable[str]) -> frozenset[str]:
    """The keys of a task's data the principal receives: what the form names and what the
    BPMN declares the task reads; for an agency lead, never the withheld ones (except the
    answers its own form asks for)."""
    keys = form_keys(schema) | frozenset(reads)
    if is_case_reader(principal):
        return keys
    own = frozenset((schema or {}).get("properties") or {})
    return frozenset(key for key in keys if key in own or key not in AGENCY_WITHHELD)


def task_data(principal: Principal, schema: Mapping[str, Any] | None, reads: Iterable[str],
              data: Mapping[str, Any]) -> dict[str, Any]:
    keys = readable_keys(principal, schema, reads)
    return {key: value for key, value in data.items() if key in keys}


def event_detail(principal: Principal, detail: Mapping[str, Any]) -> dict[str, Any]:
    """A timeline event's detail as the principal may read it."""
    if is_case_reader(principal):
        return dict(detail)
    return {key: value for key, value in detail.items() if key not in AGENCY_WITHHELD}


def case_withheld(principal: Principal, case: ReviewCase) -> dict[str, Any]:
    """The case fields to replace before the principal sees the case."""
    if is_case_reader(principal):
        return {}
    return {"scr_not_held_reason": None, "outcome": outcome_for(principal, case.outcome or {})}


def can_read_instance_data(principal: Principal) -> bool:
    return principal.has(*ACTIONS["read_instances"])
