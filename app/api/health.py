"""GET /health: is the service up, can it reach its database, are its workers polling?"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import ContextDep
from app.services import heartbeats

router = APIRouter(tags=["health"])


class WorkerPublic(BaseModel):
    name: str
    process: str = Field(description="host:pid of the process running the loop")
    last_success_at: dt.datetime | None
    age_seconds: float = Field(description="since its last successful poll (or its start)")
    last_error: str | None = Field(description="why its last poll failed, if it did")
    stale: bool


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded", "unavailable"] = Field(
        description="degraded (still 200): a worker has not polled successfully for "
                    "`REVIEWFLOW_WORKER_STALE_SECONDS`")
    database: str
    workers: list[WorkerPublic] = Field(default_factory=list)


@router.get("/health", response_model=HealthPublic,
            responses={503: {"model": HealthPublic, "description": "The database is "
                             "unreachable"}})
def health(ctx: ContextDep) -> JSONResponse:
    try:
        with ctx.lone_statement() as connection:  # no transaction: never waits for a writer
            connection.execute(text("SELECT 1"))
            workers = heartbeats.read(connection, ctx.clock.now(),
                                      ctx.settings.worker_stale_seconds)
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "database": "unreachable",
                             "workers": []}, status_code=503)
    body = HealthPublic(status="degraded" if any(w.stale for w in workers) else "ok",
                        database=ctx.engine.dialect.name,
                        workers=[WorkerPublic(**vars(w)) for w in workers])
    return JSONResponse(body.model_dump(mode="json"))
