"""The administrator's pages: people and their roles, agencies and their addresses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.services.context import ServiceContext
from app.web.session import PageUser, page_user

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


