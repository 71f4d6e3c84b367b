"""The Jinja environment the pages share, with the filters they use (`app.rendering`'s)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from app.rendering.templating import FILTERS

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters.update(FILTERS)
