"""Dependency aliases shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.services.context import ServiceContext


def get_context(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


def current_actor() -> str:
    """Who is acting. Until authentication lands every API caller acts as `api`."""
    return "api"


ContextDep = Annotated[ServiceContext, Depends(get_context)]
ActorDep = Annotated[str, Depends(current_actor)]
