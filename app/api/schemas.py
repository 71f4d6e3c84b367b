"""Request and response bodies shared by several routers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.services.form_keywords import REASON_MESSAGE, has_words
from app.services.instances import InstanceState

T = TypeVar("T")
MAX_INT = 2_147_483_647
"""The largest id, offset or version a request may name (what both databases can store)."""


def _words(value: str) -> str:
    if not has_words(value):
        raise ValueError(REASON_MESSAGE)
    return value


ReasonText = Annotated[str, AfterValidator(_words),
                      Field(json_schema_extra={"pattern": r"[^\W_]"})]
"""A reason or explanation the terms of reference ask for: it must contain words, the same
rule as the forms' `x-reason` keyword (a blank or punctuation-only reason is a 422 naming the
field). Add length limits with `Field`. The document says so with a `pattern` (a letter or
digit somewhere), which is documentation only: the validator keeps its own message."""


class ErrorPublic(BaseModel):
    detail: str = Field(description="What went wrong, in plain words.")
    code: str = Field(description="A stable name for the kind of error.")
    model_config = ConfigDict(extra="allow")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class TaskSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    instance_id: str
    process_key: str
    business_key: str | None
    bpmn_id: str
    title: str
    lane: str | None
    agency: str | None
    state: str
    assignee: str | None
    form_name: str | None
    due_at: dt.datetime | None
    created_at: dt.datetime
    completed_at: dt.datetime | None
    completed_by: str | None


class InstancePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status: str
    process_key: str
    version: int
    business_key: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    ended_at: dt.datetime | None
    error: dict[str, Any] | None


class InstanceDetail(InstancePublic):
    data: dict[str, Any]
    ready_tasks: list[TaskSummary]


def instance_detail(state: InstanceState) -> InstanceDetail:
    """An instance as the instance, task and message routes answer it."""
    return InstanceDetail(
        **InstancePublic.model_validate(state.instance).model_dump(),
        data=state.data,
        ready_tasks=[TaskSummary.model_validate(task) for task in state.ready_tasks],
    )


class EventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    type: str
    actor: str | None
    element_id: str | None
    task_id: str | None
    detail: dict[str, Any]


ReferencePath = Path(min_length=1, max_length=20, description="The case reference")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "Not found"},
    409: {"model": ErrorPublic, "description": "Conflict with the current state"},
    422: {"model": ErrorPublic, "description": "Invalid input"},
}
