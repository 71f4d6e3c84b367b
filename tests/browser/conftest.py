"""A real server on a free port, Debian's chromium driven by Playwright, and the Board's people.

The browser tests need /usr/bin/chromium (`.ci/run` installs it with apt); without it they skip.
Every page a test opens can be checked with axe-core (npm, `make setup`) against WCAG 2.2 AA:
`assert_accessible(page)`. Screenshots are kept under var/screenshots as the walk's record.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app.auth import users
from app.auth.principal import SYSTEM
from app.engine.definitions import SourceFile
from app.main import create_app
from app.services import deployments
from app.services.context import ServiceContext, build_context
from app.settings import Settings
from tests.conftest import PROCESSES, route_files

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
PASSWORD = "a-long-test-password"
PEOPLE = {
    "pat.panel": (["panel_member"], None),
    "chris.chair": (["chair"], None),
    "bea.manager": (["board_manager"], None),
    "pol.lead": (["agency_lead"], "police"),
    "hel.lead": (["agency_lead"], "health"),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_ctx(database_url: str) -> Iterator[ServiceContext]:
    context = build_context(Settings(database_url=database_url, processes_dir=PROCESSES,
                                     cookie_secure=True))
    deployments.deploy(context, SYSTEM, [SourceFile(p.name, p.read_bytes())
                                         for p in route_files()])
    with context.uow() as uow:
        for name, (roles, agency) in PEOPLE.items():
            users.create(uow.session, name, PASSWORD, roles, agency, context.clock.now())
        uow.commit()
    yield context
    context.close()


@pytest.fixture
def server(live_ctx: ServiceContext) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(create_app(context=live_ctx), host="127.0.0.1", port=port,
                            log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(200):
        if running.started:
            break
        time.sleep(0.05)  # waiting for the server socket, not for application time
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield launched
        launched.close()


@pytest.fixture
def page_for(browser: Any, server: str) -> Iterator[Any]:
    """A fresh browser context per person, logged in."""
    contexts: list[Any] = []

    def login(name: str, width: int = 1280, height: int = 900) -> Any:
        context = new_context(browser, server, width, height)
        contexts.append(context)
        page = context.new_page()
        page.goto("/ui/login")
        page.get_by_label("User name").fill(name)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/ui/login" not in url)  # their inbox, or first section
        return page

    yield login
    for context in contexts:
        context.close()


def new_context(browser: Any, server: str, width: int = 1280, height: int = 900) -> Any:
    """A browser context whose every page carries axe-core (added as the page is created, by
    the browser, so the pages' Content-Security-Policy stays as it is)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make setup` (it installs the npm packages)")
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=server)
    context.add_init_script(path=str(AXE))
    return context


def assert_accessible(page: Any) -> None:
    """No axe-core violation of WCAG 2.2 A or AA on the page as it now stands."""
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_22_AA)
    problems = [f"{violation['id']} ({violation['impact']}): {violation['help']} at "
                + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
                for violation in result["violations"]]
    assert not problems, f"{page.url} fails WCAG 2.2 AA:\n" + "\n".join(problems)


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
