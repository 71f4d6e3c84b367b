"""The pages every service must publish, open to anyone: the accessibility statement, the
privacy notice and the cookies page (linked from every page's footer)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)

PAGES = {"accessibility": "info_accessibility.html", "privacy": "info_privacy.html",
         "cookies": "info_cookies.html"}


def _page(request: Request, name: str) -> Response:
    return TEMPLATES.TemplateResponse(request, PAGES[name], {"user": None})


@router.get("/accessibility", response_class=HTMLResponse)
def accessibility_statement(request: Request) -> Response:
    return _page(request, "accessibility")


@router.get("/privacy", response_class=HTMLResponse)
def privacy_notice(request: Request) -> Response:
    return _page(request, "privacy")


@router.get("/cookies", response_class=HTMLResponse)
def cookies(request: Request) -> Response:
    return _page(request, "cookies")
