"""GET and HEAD requests only read: everything they do runs under `reads_only`, so on SQLite
their units of work take no lock and never wait for a writer (see `app.db.session`)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.services.context import reads_only

READING_METHODS = frozenset({"GET", "HEAD"})


class ReadOnlyRequests:
    """Pure ASGI: the flag is a context variable, which the worker threads serving the request
    inherit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in READING_METHODS:
            with reads_only():
                await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, send)
