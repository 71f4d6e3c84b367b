"""7-minute briefings end to end: a concise review is driven to its end, then its briefing is
generated, edited, downloaded and published through the REST API."""

from __future__ import annotations

import base64
import datetime as dt
import re
import zlib

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db.models import Briefing, Publication
from app.services import briefings
from app.services.context import ServiceContext
from tests.conftest import ClientFactory
from tests.routes.driver import CaseDriver


def reviewed_case(client: TestClient) -> CaseDriver:
    """A concise review at its end: the report signed off, its findings recorded."""
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    driver.screen("concise")
    driver.endorse()
    driver.full_review_to_end(extended=False)  # the genograms name "Adult B"
    driver.submit("decide_publication", {"publish": False,
                                         "not_published_reason": "Family would be identified."})
    return driver


def edit_body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "background": "A concise learning review about Child A.",
        "what_happened": "Agencies did not share what they knew.",
        "learning": ["Concerns were not escalated"],
        "questions": ["Who needs to know?", "How do you escalate?", "What would you change?"]}
    return {**body, **changes}


def pdf_text(pdf: bytes) -> str:
    """The text drawn on the pages (reportlab writes ASCII85 + Flate content streams)."""
    lines: list[str] = []
    for stream in re.findall(rb"stream\n(.*?)endstream", pdf, re.S):
        data = zlib.decompress(base64.a85decode(stream.strip().removesuffix(b"~>")))
        lines += [line.decode("latin-1").replace("\\(", "(").replace("\\)", ")")
                  for line in re.findall(rb"\((.*?)\) Tj", data)]
    return "\n".join(lines)


def publications(ctx: ServiceContext, reference: str) -> list[Publication]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(Publication).where(
            Publication.case_reference == reference)))


def test_a_briefing_is_generated_edited_downloaded_and_published(
        client: TestClient, ctx: ServiceContext) -> None:
    driver = reviewed_case(client)
    path = f"/api/v1/cases/{driver.reference}/briefing"
    assert client.get(path).status_code == 404

    response = client.post(path)
    assert response.status_code == 201, response.text
    briefing = response.json()
    assert briefing["status"] == "draft"
    assert briefing["child_pseudonym"] == "Child A"
    assert "Child A" in briefing["background"]
    assert "concise learning review" in briefing["background"]
    assert "Child A was admitted to hospital." in briefing["background"]
    assert briefing["what_happened"] == "Agencies did not share what they knew."
    assert briefing["learning"] == [
        "Concerns were not escalated (themes: escalation, information sharing)"]
    assert briefing["questions"] == [briefings.THEME_QUESTIONS["escalation"][0],
                                     briefings.THEME_QUESTIONS["information_sharing"][0],
                                     briefings.THEME_QUESTIONS["escalation"][1]]
    assert briefing["publication"] is None

    again = client.post(path)
    assert again.status_code == 409
    assert "replace=true" in again.json()["detail"]
    assert client.put(path, json=edit_body()).status_code == 200
    replaced = client.post(path, params={"replace": "true"})
    assert replaced.status_code == 201
    assert replaced.json()["background"] == briefing["background"]
    assert client.get(path).json() == replaced.json()
    with ctx.uow() as uow:
        assert [row.case_reference for row in uow.session.scalars(select(Briefing))] == \
            [driver.reference]

    short = client.put(path, json=edit_body(questions=["One?", "Two?"]))
    assert short.status_code == 422
    assert [error["field"] for error in short.json()["errors"]] == ["questions"]
    blank = client.put(path, json=edit_body(background=" ", learning=[]))
    assert blank.status_code == 422
    assert {error["field"] for error in blank.json()["errors"]} == {"background", "learning"}

    named = edit_body(what_happened="ADULT B did not attend appointments.")
    edited = client.put(path, json=named)
    assert edited.status_code == 200, edited.text
    assert edited.json()["what_happened"] == "ADULT B did not attend appointments."
    assert edited.json()["updated_by"] == "tester"

    page = client.get(f"{path}.html")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for heading in ("Background", "What happened", "Learning", "Reflective questions"):
        assert f">{heading}</h2>" in page.text
    assert page.text.count("<li>") == 4  # one learning point, three questions
    for question in named["questions"]:  # type: ignore[union-attr]
        assert f"<li>{question}</li>" in page.text
    assert "Child A" in page.text
    assert "Draft" in page.text

    pdf = client.get(f"{path}.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == \
        f'attachment; filename="{driver.reference}-7-minute-briefing.pdf"'
    assert pdf.content.startswith(b"%PDF")
    assert len(pdf.content) > 1500
    assert pdf.content.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf.content)
    for line in ("7-minute briefing: Child A", "Background", "What happened", "Learning",
                 "Reflective questions", "ADULT B did not attend appointments.",
                 "How do you escalate?", "Draft"):
        assert line in text

    marked_up = edit_body(learning=["<script>alert(1)</script> & <b>bold"])
    assert client.put(path, json=marked_up).status_code == 200
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold</li>" in \
        client.get(f"{path}.html").text
    drawn = "".join(pdf_text(client.get(f"{path}.pdf").content).split())
    assert "<script>alert(1)</script>&<b>bold" in drawn  # drawn as text, not markup
    assert client.put(path, json=named).status_code == 200

    publish = {"location": "Board website", "published_on": "2026-10-01"}
    refused = client.post(f"{path}/publish", json=publish)
    assert refused.status_code == 422
    assert refused.json()["names"] == ["Adult B"]
    assert "Adult B" in refused.json()["detail"]
    assert client.get(path).json()["status"] == "draft"
    assert publications(ctx, driver.reference) == []

    assert client.put(path, json=edit_body()).status_code == 200
    published = client.post(f"{path}/publish", json=publish)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert published.json()["publication"]["available_until"] == "2027-10-01"
    [row] = publications(ctx, driver.reference)
    assert (row.kind, row.published_on, row.available_until, row.location, row.readership,
            row.recorded_by) == ("seven_minute_briefing", dt.date(2026, 10, 1),
                                 dt.date(2027, 10, 1), "Board website", "practitioners",
                                 "tester")
    assert row.title == f"7-minute briefing: Child A ({driver.reference})"
    assert client.get(path).json()["publication"]["id"] == row.id
    assert "Published" in client.get(f"{path}.html").text

    assert client.put(path, json=edit_body()).status_code == 409
    assert client.post(f"{path}/publish", json=publish).status_code == 409
    assert client.post(path, params={"replace": "true"}).status_code == 409
    assert len(publications(ctx, driver.reference)) == 1

    events = [event["type"] for event in driver.timeline()
              if event["type"].startswith("briefing_")]
    assert events == ["briefing_generated", "briefing_edited", "briefing_generated",
                      "briefing_edited", "briefing_edited", "briefing_edited", "briefing_edited",
                      "briefing_published"]
    [generated, _edit, regenerated, *_rest, done] = [
        event for event in driver.timeline() if event["type"].startswith("briefing_")]
    assert generated["detail"]["replaced"] is False
    assert regenerated["detail"]["replaced"] is True
    assert done["detail"]["publication_id"] == row.id
    assert done["actor"] == "tester"


def test_who_may_read_and_write_a_briefing(client: TestClient,
                                          make_client: ClientFactory) -> None:
    driver = reviewed_case(client)
    path = f"/api/v1/cases/{driver.reference}/briefing"
    reviewer = make_client("reviewer", name="a-reviewer")
    generated = reviewer.post(path)
    assert generated.status_code == 201, generated.text
    assert generated.json()["updated_by"] == "a-reviewer"

    outsider = make_client("agency_lead", agency="education")
    for response in (outsider.get(path), outsider.get(f"{path}.html"),
                     outsider.get(f"{path}.pdf")):
        # A case not involving the agency answers as one that does not exist.
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert "education" not in response.json()["detail"]

    involved = make_client("agency_lead", agency="health")
    assert involved.get(path).status_code == 200
    assert involved.get(f"{path}.pdf").status_code == 200
    chair = make_client("chair")
    assert chair.get(path).status_code == 200
    for caller in (involved, chair, make_client("auditor")):
        for response in (caller.post(path, params={"replace": "true"}),
                         caller.put(path, json=edit_body()),
                         caller.post(f"{path}/publish", json={
                             "location": "Board website", "published_on": "2026-10-01"})):
            assert response.status_code == 403
            assert "a board manager or a reviewer" in response.json()["detail"]
    assert make_client("designer").get(path).status_code == 403
    assert client.get(path).json()["status"] == "draft"

    manager = make_client("board_manager")
    assert manager.put(path, json=edit_body()).status_code == 200
    assert manager.post(f"{path}/publish", json={
        "location": "Board website", "published_on": "2026-10-01"}).status_code == 200


def test_a_briefing_needs_the_review_findings(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True)
    path = f"/api/v1/cases/{driver.reference}/briefing"
    response = client.post(path)
    assert response.status_code == 409
    assert "no findings" in response.json()["detail"]
    assert client.get(path).status_code == 404
    assert client.get(f"{path}.pdf").status_code == 404
    assert client.put(path, json=edit_body()).status_code == 404
    assert client.post("/api/v1/cases/LIR-2026-9999/briefing").status_code == 404
    assert "briefing" not in " ".join(event["type"] for event in driver.timeline())


def test_questions_follow_the_most_frequent_themes() -> None:
    questions = briefings.THEME_QUESTIONS
    assert briefings.choose_questions(["neglect", "Voice of the child", "voice_of_the_child",
                                       "housing"]) == [
        questions["voice_of_the_child"][0], questions["neglect"][0],
        questions["voice_of_the_child"][1]]
    assert briefings.choose_questions(["supervision"] * 2) == list(questions["supervision"])
    assert briefings.choose_questions(["housing", "education"]) == \
        list(briefings.GENERIC_QUESTIONS)
    assert briefings.choose_questions(["neglect"]) == list(questions["neglect"])
    assert briefings.choose_questions([]) == list(briefings.GENERIC_QUESTIONS)
    many = ["assessment", "escalation", "mental_health", "domestic_abuse", "escalation"]
    assert briefings.choose_questions(many) == [
        questions["escalation"][0], questions["assessment"][0], questions["mental_health"][0]]
    for theme_questions in questions.values():
        assert len(theme_questions) == 3
    assert set(questions) == {"information_sharing", "neglect", "domestic_abuse",
                              "mental_health", "escalation", "voice_of_the_child",
                              "assessment", "supervision"}


def test_a_briefing_stays_available_for_twelve_months() -> None:
    assert briefings.add_months(dt.date(2026, 10, 1), 12) == dt.date(2027, 10, 1)
    assert briefings.add_months(dt.date(2028, 2, 29), 12) == dt.date(2029, 2, 28)
    assert briefings.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)

