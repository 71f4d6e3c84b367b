"""Search: by case reference (partial, any case), child, agency by name and task title, only
among what the person may read; on both backends."""

from __future__ import annotations

import pytest

from app.auth.errors import Forbidden
from app.auth.principal import Principal
from app.services import search
from app.services.context import ServiceContext
from tests.web.test_inbox_service import BEA, PAT, POL, deploy, refer, to_agency_reviews

DESIGNER = Principal("dee.designer", frozenset({"designer"}), None)


@pytest.fixture
def three(ctx: ServiceContext) -> list[str]:
    deploy(ctx)
    return [refer(ctx, "Child A", ("police", "health")),
            refer(ctx, "Baby Blue", ("childrens_social_care", "education")),
            refer(ctx, "Child C", ("police",))]


def found(ctx: ServiceContext, principal: Principal, text: str) -> list[str]:
    hits, total = search.cases(ctx, principal, text)
    assert total == len(hits)
    return sorted(hit.case.reference for hit in hits)


def test_a_reference_is_found_whole_or_in_part_in_any_case(ctx: ServiceContext,
                                                          three: list[str]) -> None:
    second = three[1]
    assert second == "LIR-2026-0002"
    for text in ("LIR-2026-0002", "lir-2026-0002", "0002", "  lir-2026-0002 ", "26-0002"):
        assert found(ctx, BEA, text) == [second], text
    assert found(ctx, BEA, "LIR-2026") == sorted(three)
    [hit], _ = search.cases(ctx, BEA, "0002")
    assert hit.matched == ("reference",)


def test_a_child_an_agency_and_a_task_find_their_cases(ctx: ServiceContext,
                                                       three: list[str]) -> None:
    first, second, third = three
    assert found(ctx, PAT, "baby blue") == [second]
    assert found(ctx, PAT, "child c") == [third]
    assert found(ctx, PAT, "child") == sorted(three)  # Child A, Child C; Children's social care
    assert found(ctx, PAT, "Children's social care") == [second]  # by the register's name
    assert found(ctx, PAT, "police") == [first, third]
    assert found(ctx, PAT, "NHS") == [first]  # Health (NHS trusts and ...)
    assert found(ctx, PAT, "screen the referral") == sorted(three)
    [hit], _ = search.cases(ctx, PAT, "Children's social care")
    assert hit.matched == ("agency",)
    to_agency_reviews(ctx, first)
    [hit], _ = search.cases(ctx, BEA, "agency review")  # the board manager sees every task
    assert (hit.case.reference, hit.matched) == (first, ("task",))
    assert found(ctx, PAT, "agency review") == []  # not the panel's tasks


def test_search_finds_only_what_the_person_may_read(ctx: ServiceContext,
                                                    three: list[str]) -> None:
    first, _second, third = three
    assert found(ctx, POL, "LIR") == [first, third]  # the cases naming the police
    assert found(ctx, POL, "0002") == []
    assert found(ctx, POL, "baby") == []
    assert found(ctx, POL, "education") == []
    # the panel's tasks are not the police lead's to see, nor to search by
    assert found(ctx, POL, "screen the referral") == []
    to_agency_reviews(ctx, first)
    assert found(ctx, POL, "write the agency review") == [first]
    with pytest.raises(Forbidden):
        search.cases(ctx, DESIGNER, "0001")


def test_nothing_typed_or_wildcards_find_nothing(ctx: ServiceContext, three: list[str]) -> None:
    for text in ("", "   ", "%", "_", "\\", "LIR_2026"):
        assert found(ctx, BEA, text) == [], text
    assert search.cleaned("  Baby   Blue ") == "Baby Blue"
    assert len(search.cleaned("x" * 500)) == search.MAX_TEXT
