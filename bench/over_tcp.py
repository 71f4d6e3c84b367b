"""The API over real TCP, for information: `reviewflow serve` (uvicorn) in a process of its own,
on a database of its own, called from the benchmark's process by a keep-alive httpx client.

What it adds to the in-process API runner is what a deployment pays on top of the service:
uvicorn's HTTP parsing and access log, the socket round trips and the client's own work.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
from _support import Requester

STARTUP_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def served(database_url: str) -> Iterator[str]:
    """`reviewflow serve` on `database_url` (migrated and deployed already); yields its base
    URL once /health answers, and stops the server afterwards."""
    port = _free_port()
    command = [str(Path(sys.executable).with_name("reviewflow")), "serve",
               "--host", "127.0.0.1", "--port", str(port)]
    environment = {**os.environ, "REVIEWFLOW_DATABASE_URL": database_url}
    server = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(server, base_url)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_up(server: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"reviewflow serve stopped at start (exit {server.returncode})")
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # a benchmark's start-up wait, not a test's
    raise RuntimeError(f"reviewflow serve did not answer on {base_url} within "
                       f"{STARTUP_SECONDS:.0f} s")


@contextlib.asynccontextmanager
async def tcp_client(base_url: str) -> AsyncIterator[Requester]:
    """`await request(method, path, json=..., params=..., token=...)` over one kept-alive
    connection to the server."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:

        async def request(method: str, path: str, json: Any = None, params: Any = None,
                          token: str | None = None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"} if token else None
            return await client.request(method, path, json=json, params=params,
                                        headers=headers)

        yield request
