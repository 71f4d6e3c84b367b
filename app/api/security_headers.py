"""Security headers on every response: API, pages, static files, errors and 404s.

The Content-Security-Policy allows no inline script and no inline style: the pages' styles are
files under /ui/static. One inline stylesheet is allowed by its hash: the fixed one that BPMN
diagrams carry (`app.rendering.diagram_shapes.STYLE`), so that a diagram is styled both inside a
page and as an SVG document of its own; its text never holds request data.

The API's interactive documentation (/docs, /redoc) loads its script and styles from a CDN and
runs an inline script: those paths alone get a wider policy (`DOCS_POLICY`). They show no case
data; the API they call takes a bearer token, which no browser sends by itself.

`Cache-Control: no-store` goes on everything but the static files: pages and API responses
carry case data. HSTS is sent only in production (behind TLS).
"""

from __future__ import annotations

import base64
import hashlib
import json

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.rendering.diagram_shapes import STYLE as DIAGRAM_STYLE


def style_hash(text: str) -> str:
    """A CSP source allowing one inline stylesheet with exactly this text."""
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    f"style-src 'self' {style_hash(DIAGRAM_STYLE)}",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
DOCS_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
    "font-src 'self' https://fonts.gstatic.com",
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
STATIC_PREFIX = "/ui/static/"
PERMISSIONS = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone",
    "payment", "usb"))
HSTS = "max-age=31536000; includeSubDomains"
COMMON = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS,
}
INTERNAL_ERROR = {"detail": "internal error; it has been logged", "code": "internal"}


def headers_for(path: str, production: bool) -> dict[str, str]:
    """The headers a response to `path` carries (they replace any the route set)."""
    headers = {**COMMON, "Content-Security-Policy": DOCS_POLICY if path in DOCS_PATHS
               else POLICY}
    if not path.startswith(STATIC_PREFIX):
        headers["Cache-Control"] = "no-store"
    if production:
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SecurityHeaders:
    """Pure ASGI. Add it last (outermost), so that the answers of the other middleware get the
    headers too. An exception no handler took would be answered by Starlette's outermost error
    middleware, past every other middleware: this one answers it instead, with the same body
    as the app's handler of last resort, and lets the exception go on up to be logged."""

    def __init__(self, app: ASGIApp, production: bool = False) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = headers_for(scope["path"], self.production)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in added.items():
                    headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                body = json.dumps(INTERNAL_ERROR).encode()
                await send_with_headers({
                    "type": "http.response.start", "status": 500,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
            raise
