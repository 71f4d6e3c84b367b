"""A PostgreSQL server of the test's own, in a temporary directory, to stop, freeze and restart.

`initdb` and `pg_ctl` come from the PostgreSQL installation; the test is skipped without them.
PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SEARCH = ["/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/pgsql-*/bin"]


def find_bin(name: str) -> Path | None:
    """The newest installed PostgreSQL's `name` (initdb, pg_ctl), or the one on PATH."""
    for pattern in SEARCH:
        found = sorted(glob.glob(f"{pattern}/{name}"),
                       key=lambda path: [int(p) if p.isdigit() else 0
                                         for p in Path(path).parts[-3].split(".")])
        if found:
            return Path(found[-1])
    on_path = shutil.which(name)
    return Path(on_path) if on_path else None


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    bindir: Path
    data: Path
    port: int
    run_as: str | None
    """The user the server runs as when the tests run as root."""

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str, timeout: float = 60) -> None:
        argv = list(command)
        if self.run_as:
            argv = ["runuser", "-u", self.run_as, "--", *argv]
        subprocess.run(argv, check=True, timeout=timeout, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def init(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")

    def start(self) -> None:
        # fsync off is safe here (a stopped server's writes are still in the OS's cache), but
        # commits must reach the WAL before they are acknowledged: with synchronous_commit off,
        # an immediate stop loses the last ones, and the tests would read a database that
        # forgot what they saw committed.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} "
                   "-c fsync=off -c full_page_writes=off")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.data / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        """Stop at once, as a crash or a lost host would (no shutdown checkpoint)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                  "-w", "stop")

    def pids(self) -> list[int]:
        """The postmaster and every process it started (its backends and helpers)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        pids = [postmaster]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                # the command name is in parentheses and may hold spaces: split after it
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:
                    pids.append(int(stat.parent.name))
        return pids

    def signal_all(self, signum: int) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def freeze(self) -> None:
        self.signal_all(signal.SIGSTOP)

    def thaw(self) -> None:
        self.signal_all(signal.SIGCONT)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A running server on a free port; stopped (and thawed first) and removed afterwards."""
    bindir = find_bin("initdb")
    if bindir is None or not (bindir.parent / "pg_ctl").exists():
        pytest.skip("initdb and pg_ctl are not installed")
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run the server as")
        run_as = "postgres"
    # Not pytest's tmp_path: under root it lies in a directory the postgres user cannot enter.
    root = Path(tempfile.mkdtemp(prefix="reviewflow-pg-"))
    try:
        data = root / "data"
        if run_as:
            entry = pwd.getpwnam(run_as)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        server = PostgresServer(bindir.parent, data, free_port(), run_as)
        server.init()
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(Exception):
                server.thaw()
            with contextlib.suppress(Exception):
                server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
