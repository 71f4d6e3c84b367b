"""The case page's work forms refuse whoever may not do the work, by role or by agency, the way
the API does (403 by role, 404 for what is not theirs), and show only notices they know."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from app.auth import users
from app.auth.principal import SYSTEM
from app.main import create_app
from app.services import cases, register, tasks
from app.services.context import ServiceContext
from app.web.session import LOGIN_CSRF_COOKIE
from tests.conftest import route_files, token_for, upload
from tests.routes.driver import ACTION, FINDINGS

PASSWORD = "a long enough test password"
PEOPLE = {"pat.panel": (["panel_member"], None), "bea.manager": (["board_manager"], None),
          "pol.lead": (["agency_lead"], "police"), "hel.lead": (["agency_lead"], "health"),
          "edu.lead": (["agency_lead"], "education")}
Pages = Callable[[str], TestClient]


@pytest.fixture
def pages(ctx: ServiceContext) -> Iterator[Pages]:
    app = create_app(context=ctx)
    with TestClient(app, headers={"Authorization": f"Bearer {token_for(ctx, 'designer')}"}) \
            as designer:
        upload(designer, *route_files())
    with ctx.uow() as uow:
        for name, (roles, agency) in PEOPLE.items():
            users.create(uow.session, name, PASSWORD, roles, agency, ctx.clock.now())
        uow.commit()
    opened: list[TestClient] = []

    def signed_in(name: str) -> TestClient:
        page = TestClient(app, base_url="https://testserver").__enter__()
        opened.append(page)
        page.get("/ui/login")
        response = page.post("/ui/login", follow_redirects=False, data={
            "name": name, "password": PASSWORD, "csrf_token": page.cookies[LOGIN_CSRF_COOKIE]})
        assert response.status_code == 303
        return page

    yield signed_in
    for page in opened:
        page.__exit__(None, None, None)


def csrf(page: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get(path).text)
    assert found, path
    return found.group(1)


@pytest.fixture
def reference(ctx: ServiceContext) -> str:
    referral = cases.Referral(child_pseudonym="Child A", agencies=["police", "health"],
                              incident_date=dt.date(2026, 2, 20), summary="Child A was hurt.",
                              facts={"abuse_or_neglect": True, "seriously_harmed": True})
    found = cases.refer(ctx, SYSTEM, referral).case.reference
    with ctx.uow() as uow:
        register.record(uow, found, {"findings": FINDINGS, "recommendations": [
            {"recommendation": "Strengthen escalation", "actions": [ACTION]}]},
            ctx.clock.now())
        uow.commit()
    return found


def test_refused_by_role_with_403(pages: Pages, reference: str, ctx: ServiceContext) -> None:
    lead = pages("pol.lead")
    case_page = lead.get(f"/ui/cases/{reference}")
    assert case_page.status_code == 200
    assert "Escalate the grade" not in case_page.text
    assert "Raise an urgent concern" in case_page.text
    assert lead.get(f"/ui/cases/{reference}/escalate").status_code == 403
    token = csrf(lead, f"/ui/cases/{reference}")
    posted = lead.post(f"/ui/cases/{reference}/escalate", follow_redirects=False,
                       data={"csrf_token": token, "grade": "catastrophic", "reason": "r"})
    assert posted.status_code == 403
    assert lead.post(f"/ui/cases/{reference}/briefing/generate",
                     data={"csrf_token": token}).status_code == 403

    panel = pages("pat.panel")
    [task] = tasks.list_tasks(ctx, SYSTEM, tasks.TaskFilter(business_key=reference),
                              "created_at", 10, 0)[0]
    assert panel.get(f"/ui/cases/{reference}/tasks/{task.id}/assign").status_code == 403
    briefing = panel.get(f"/ui/cases/{reference}/briefing")
    assert briefing.status_code == 200
    assert "Generate a draft briefing" not in briefing.text


def test_what_is_not_theirs_is_not_found(pages: Pages, reference: str) -> None:
    outsider = pages("edu.lead")  # education is not an agency of the case
    assert outsider.get(f"/ui/cases/{reference}/concern").status_code == 404
    police = pages("pol.lead")
    case_page = police.get(f"/ui/cases/{reference}")
    assert ACTION["action"] not in case_page.text  # the health action is not theirs
    found = re.search(r'/actions/(\d+)"', pages("pat.panel").get(f"/ui/cases/{reference}").text)
    assert found
    action_path = f"/ui/cases/{reference}/actions/{found.group(1)}"
    assert police.get(action_path).status_code == 404
    token = csrf(police, f"/ui/cases/{reference}")
    assert police.post(action_path, data={"csrf_token": token, "status": "in_progress",
                                          "progress": "p"}).status_code == 404
    health = pages("hel.lead")
    assert health.get(action_path).status_code == 200
    other = f"/ui/cases/{reference.replace('0001', '0999')}/actions/{found.group(1)}"
    assert health.get(other).status_code == 404  # the action is not that case's
    assert health.get(f"/ui/cases/{reference}/briefing.html").status_code == 404  # none yet


def test_a_form_without_the_session_token_is_refused(pages: Pages, reference: str) -> None:
    lead = pages("pol.lead")
    refused = lead.post(f"/ui/cases/{reference}/concern", data={"description": "worry"})
    assert refused.status_code == 403
    assert "The form has expired" in refused.text


def test_only_known_notices_are_shown(pages: Pages, reference: str) -> None:
    manager = pages("bea.manager")
    odd = manager.get(f"/ui/cases/{reference}", params={"notice": "Call 0800 000 000"})
    assert "0800" not in odd.text and 'id="notice"' not in odd.text
    known = manager.get(f"/ui/cases/{reference}", params={"notice": "concern"})
    assert f"An urgent concern was raised on case {reference}." in known.text
    referred = manager.get(f"/ui/cases/{reference}", params={"notice": "referred"})
    assert f"Case {reference} was referred." in referred.text
