"""The administrator's use cases: people, their roles and agencies, and the agency register."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.errors import Forbidden
from app.auth.principal import Principal
from app.db.models import AuditEntry
from app.services import accounts, agencies
from app.services.context import ServiceContext
from app.services.errors import Conflict, Invalid

ADMIN = Principal("ada.admin", frozenset({"admin"}), None, "session")
MANAGER = Principal("bea.manager", frozenset({"board_manager"}), None, "session")
PASSWORD = "a-long-first-password"


def _audit(ctx: ServiceContext, action: str) -> list[AuditEntry]:
    with ctx.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_admin_adds_a_person_who_can_sign_in(ctx: ServiceContext) -> None:
    person = accounts.add_person(ctx, ADMIN, " pol.lead ", PASSWORD, ["agency_lead"], "police")
    assert (person.name, person.roles, person.agency, person.active) == \
        ("pol.lead", ("agency_lead",), "police", True)
    assert [p.name for p in accounts.list_people(ctx, ADMIN)] == ["pol.lead"]
    signed = accounts.sign_in(ctx, "pol.lead", PASSWORD, "127.0.0.1", "test")
    assert signed.session_id is not None
    [entry] = _audit(ctx, "person_added")
    assert (entry.actor, entry.target_id, entry.detail) == \
        ("ada.admin", "pol.lead", {"roles": ["agency_lead"], "agency": "police"})


def test_every_problem_of_a_new_person_at_once_in_words(ctx: ServiceContext) -> None:
    with pytest.raises(Invalid) as refused:
        accounts.add_person(ctx, ADMIN, "", "short", [], None)
    assert [(e["field"], e["message"]) for e in refused.value.detail["errors"]] == [
        ("name", "Enter the person's user name"),
        ("password", "Enter a first password of at least 12 characters"),
        ("roles", "Select at least one role")]
    with pytest.raises(Invalid) as refused:
        accounts.add_person(ctx, ADMIN, "x", PASSWORD, ["agency_lead"], None)
    assert refused.value.detail["errors"] == [
        {"field": "agency", "message": "Select the agency this agency lead works for"}]
    with pytest.raises(Invalid) as refused:
        accounts.add_person(ctx, ADMIN, "x", PASSWORD, ["agency_lead"], "the_moon")
    assert refused.value.detail["field"] == "agency"
    with pytest.raises(Invalid) as refused:
        accounts.add_person(ctx, ADMIN, "x", PASSWORD, ["wizard"], None)
    assert refused.value.detail["field"] == "roles"
    accounts.add_person(ctx, ADMIN, "x", PASSWORD, ["chair"], None)
    with pytest.raises(Invalid, match="Someone is already called x"):
        accounts.add_person(ctx, ADMIN, "x", PASSWORD, ["chair"], None)
    assert len(accounts.list_people(ctx, ADMIN)) == 1


def test_roles_and_agency_change_and_take_effect_at_once(ctx: ServiceContext) -> None:
    person = accounts.add_person(ctx, ADMIN, "sam", PASSWORD, ["reviewer"], None)
    session_id = accounts.sign_in(ctx, "sam", PASSWORD, "127.0.0.1", "test").session_id
    assert session_id is not None
    changed = accounts.change_person(ctx, ADMIN, person.id, ["agency_lead", "reviewer"],
                                     "health")
    assert (changed.roles, changed.agency) == (("agency_lead", "reviewer"), "health")
    found = accounts.session_user(ctx, session_id)
    assert found is not None
    assert found.principal.roles == {"agency_lead", "reviewer"}
    assert found.principal.agency == "health"
    [entry] = _audit(ctx, "person_changed")
    assert entry.detail["before"] == {"roles": ["reviewer"], "agency": None}
    with pytest.raises(Invalid) as refused:
        accounts.change_person(ctx, ADMIN, person.id, [], None)
    assert refused.value.detail["field"] == "roles"


def test_deactivated_people_are_signed_out_and_cannot_sign_in(ctx: ServiceContext) -> None:
    person = accounts.add_person(ctx, ADMIN, "sam", PASSWORD, ["reviewer"], None)
    session_id = accounts.sign_in(ctx, "sam", PASSWORD, "127.0.0.1", "test").session_id
    assert session_id is not None
    assert not accounts.set_person_active(ctx, ADMIN, person.id, False).active
    assert accounts.session_user(ctx, session_id) is None
    assert accounts.sign_in(ctx, "sam", PASSWORD, "127.0.0.1", "test").session_id is None
    assert len(_audit(ctx, "person_deactivated")) == 1
    accounts.set_person_active(ctx, ADMIN, person.id, True)
    assert accounts.sign_in(ctx, "sam", PASSWORD, "127.0.0.1", "test").session_id is not None


def test_admins_cannot_lock_themselves_out(ctx: ServiceContext) -> None:
    me = accounts.add_person(ctx, ADMIN, "ada.admin", PASSWORD, ["admin"], None)
    with pytest.raises(Conflict):
        accounts.set_person_active(ctx, ADMIN, me.id, False)
    with pytest.raises(Invalid) as refused:
        accounts.change_person(ctx, ADMIN, me.id, ["chair"], None)
    assert refused.value.detail["field"] == "roles"


def test_only_admins_manage_people(ctx: ServiceContext) -> None:
    person = accounts.add_person(ctx, ADMIN, "sam", PASSWORD, ["reviewer"], None)
    for attempt in (lambda: accounts.list_people(ctx, MANAGER),
                    lambda: accounts.add_person(ctx, MANAGER, "x", PASSWORD, ["chair"], None),
                    lambda: accounts.change_person(ctx, MANAGER, person.id, ["admin"], None),
                    lambda: accounts.set_person_active(ctx, MANAGER, person.id, False),
                    lambda: agencies.overview(ctx, MANAGER)):
        with pytest.raises(Forbidden):
            attempt()


def test_the_register_with_each_agencys_people(ctx: ServiceContext) -> None:
    accounts.add_person(ctx, ADMIN, "pol.lead", PASSWORD, ["agency_lead"], "police")
    accounts.add_person(ctx, ADMIN, "pol.two", PASSWORD, ["reviewer"], "police")
    found = agencies.overview(ctx, ADMIN)
    assert found.problem is None and found.file == "agencies.json"
    police = next(row for row in found.agencies if row.agency.id == "police")
    assert (police.agency.name, police.leads, police.people) == ("Police", 1, 2)
    health = next(row for row in found.agencies if row.agency.id == "health")
    assert (health.leads, health.people) == (0, 0)


def test_a_board_manager_sees_whom_a_task_can_go_to(ctx: ServiceContext) -> None:
    for name, roles, agency in (("pat.panel", ["panel_member"], None),
                                ("pol.lead", ["agency_lead"], "police"),
                                ("hel.lead", ["agency_lead"], "health"),
                                ("old.panel", ["panel_member"], None)):
        accounts.add_person(ctx, ADMIN, name, PASSWORD, roles, agency)
    [old] = [p for p in accounts.list_people(ctx, ADMIN) if p.name == "old.panel"]
    accounts.set_person_active(ctx, ADMIN, old.id, False)
    assert accounts.holders_of(ctx, MANAGER, "panel_member") == ["pat.panel"]
    assert accounts.holders_of(ctx, MANAGER, "agency_lead", "health") == ["hel.lead"]
    with pytest.raises(Forbidden):
        accounts.holders_of(ctx, ADMIN, "panel_member")  # assigning is the board manager's
