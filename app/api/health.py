"""GET /health: is the service up and can it reach its database?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import ContextDep
from app.api.routing import ServiceRoute

router = APIRouter(tags=["health"], route_class=ServiceRoute)


@router.get("/health")
def health(ctx: ContextDep) -> JSONResponse:
    try:
        with ctx.lone_statement() as connection:  # no transaction: never waits for a writer
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "database": "unreachable"},
                            status_code=503)
    return JSONResponse({"status": "ok", "database": ctx.engine.dialect.name})
