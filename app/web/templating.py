"""The Jinja environment the pages share, with the filters they use (`app.rendering`'s), the
agency names from the Board's register and the service navigation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates

from app.rendering.templating import FILTERS
from app.services import agencies
from app.web import navigation


def _board(request: Any) -> dict[str, Any]:
    """What every page names: the Board whose service it is."""
    return {"board_name": request.app.state.context.settings.board_name}


TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"),
                            context_processors=[_board])
TEMPLATES.env.filters.update(FILTERS)
TEMPLATES.env.globals["navigation"] = navigation.items


@jinja2.pass_context
def agency_name(context: jinja2.runtime.Context, agency_id: str | None) -> str:
    """`police` -> `Police` as the register names it (the page's request gives the context)."""
    request: Any = context["request"]
    return agencies.name_of(request.app.state.context, agency_id)


TEMPLATES.env.filters["agency_name"] = agency_name
