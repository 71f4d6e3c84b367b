"""Security headers on every kind of response; no inline script or style in the pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.security_headers import DOCS_POLICY, POLICY, style_hash
from app.main import create_app
from app.services.context import ServiceContext
from app.settings import Settings
from tests.conftest import PROCESSES, ClientFactory, demo_files, upload

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "web" / "templates"
EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "content-security-policy": POLICY,
}


def _boom() -> None:
    raise RuntimeError("an error no handler takes")


def _app(ctx: ServiceContext, production: bool = False) -> FastAPI:
    settings = ctx.settings
    if production:  # the settings of the headers; the test's context keeps its database
        settings = Settings(environment="production", processes_dir=PROCESSES,
                            database_url="postgresql+psycopg://reviewflow@db/reviewflow")
    app = create_app(settings=settings, context=ctx)
    app.add_api_route("/api/v1/test-boom", _boom)
    return app


def _assert_secured(response: object, cached: bool = False) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, (name, headers)
    permissions = headers["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in permissions
    assert ("no-store" not in headers.get("cache-control", "")) if cached \
        else headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in headers


KINDS = {
    # kind: (method, path, expected status, authenticated)
    "api json": ("GET", "/api/v1/tasks", 200, True),
    "api error": ("GET", "/api/v1/instances/no-such-instance", 404, True),
    "api unauthenticated": ("GET", "/api/v1/tasks", 401, False),
    "api invalid": ("GET", "/api/v1/tasks?limit=nonsense", 422, True),
    "api server error": ("GET", "/api/v1/test-boom", 500, True),
    "page": ("GET", "/ui/login", 200, False),
    "page redirect": ("GET", "/ui/inbox", 303, False),
    "page form refused": ("POST", "/ui/login", 403, False),
    "health": ("GET", "/health", None, False),
    "openapi": ("GET", "/openapi.json", 200, False),
    "not found": ("GET", "/no/such/path", 404, False),
    "page not found": ("GET", "/ui/no-such-page", 404, False),
    "method not allowed": ("DELETE", "/health", 405, False),
    "static": ("GET", "/ui/static/style.css", 200, False),
    "static not found": ("GET", "/ui/static/none.css", 404, False),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_response_carries_the_headers(ctx: ServiceContext,
                                                    make_client: ClientFactory,
                                                    kind: str) -> None:
    method, path, status, authenticated = KINDS[kind]
    app = _app(ctx)
    headers = {"Authorization": make_client("board_manager").headers["Authorization"]} \
        if authenticated else {}
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False,
                    headers=headers) as client:
        response = client.request(method, path, follow_redirects=False)
    if status is not None:
        assert response.status_code == status, response.text
    if kind == "api server error":
        assert response.json() == {"detail": "internal error; it has been logged",
                                   "code": "internal"}
    _assert_secured(response, cached=kind.startswith("static"))


def test_a_body_too_large_is_refused_with_the_headers(ctx: ServiceContext) -> None:
    with TestClient(_app(ctx)) as client:
        response = client.post("/api/v1/instances", content=b"x" * (2 * 1024 * 1024 + 1),
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    _assert_secured(response)


def test_route_headers_do_not_weaken_them(client: TestClient) -> None:
    """A route's own Cache-Control is replaced: what it serves carries case data."""
    upload(client, *demo_files())
    response = client.get("/api/v1/definitions/demo_triage/diagram.svg")
    assert response.status_code == 200
    _assert_secured(response)


@pytest.mark.parametrize("production", [False, True])
def test_hsts_only_in_production(ctx: ServiceContext, production: bool) -> None:
    with TestClient(_app(ctx, production=production)) as client:
        responses = [client.get(path, follow_redirects=False)
                     for path in ("/health", "/ui/login", "/ui/static/style.css", "/nowhere")]
    for response in responses:
        hsts = response.headers.get("strict-transport-security")
        assert hsts == ("max-age=31536000; includeSubDomains" if production else None)
        assert response.headers["x-frame-options"] == "DENY"


def test_the_policy_allows_no_inline_script_or_style() -> None:
    directives = dict(d.strip().split(" ", 1) for d in POLICY.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in POLICY and "unsafe-eval" not in POLICY
    # the one inline stylesheet allowed is the diagrams' fixed one, by its hash
    assert re.fullmatch(r"'self' 'sha256-[A-Za-z0-9+/]{43}='", directives["style-src"])


def test_the_docs_alone_get_the_wider_policy(ctx: ServiceContext) -> None:
    with TestClient(_app(ctx)) as client:
        docs = client.get("/docs")
        spec = client.get("/openapi.json")
    assert docs.status_code == 200
    assert docs.headers["content-security-policy"] == DOCS_POLICY
    assert "frame-ancestors 'none'" in DOCS_POLICY
    assert spec.headers["content-security-policy"] == POLICY


def test_the_diagrams_stylesheet_is_the_one_the_policy_allows(client: TestClient) -> None:
    upload(client, *demo_files())
    svg = client.get("/api/v1/definitions/demo_triage/diagram.svg").text
    styles = re.findall(r"<style>(.*?)</style>", svg, re.S)
    assert len(styles) == 1
    assert style_hash(styles[0]) in POLICY
    assert " style=" not in svg  # no style attributes: the policy would block them


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_template_holds_inline_script_or_style(template: str) -> None:
    text = (TEMPLATES / template).read_text()
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", text, re.S)
    assert all(not body.strip() for body in scripts)  # only files, never inline code
    assert all('src="/ui/static/' in tag for tag in re.findall(r"<script\b[^>]*>", text))
    assert "<style" not in text
    assert not re.search(r"\sstyle\s*=", text)
    assert not re.search(r"\son[a-z]+\s*=", text)  # no event handler attributes
    assert "javascript:" not in text
