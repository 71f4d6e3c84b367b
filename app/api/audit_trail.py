"""Write the audit entry of every /api/v1 and /ui request: who, what, which target, the outcome.

One middleware covers every route, so no read or write of case data can escape the log. It opens
the request's entry (`RequestAudit`, on `request.state.audit`), and each entry is written before
the response starts: in the step's own transaction for commands that advance an instance, by the
endpoint's worker thread right after any other use case that succeeded (see `app.api.serving`),
otherwise, in a transaction of its own, by the middleware when the response starts, or when the
request fails without one (500).

While the database is unavailable an entry cannot be written: it is logged at once and kept in
memory (bounded), and the next entry written writes the kept ones first, marked `written_late`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import audit
from app.db.faults import is_unavailable
from app.services.context import ServiceContext

log = logging.getLogger("reviewflow.audit")

TARGETS = {"instances": "instance", "tasks": "task", "cases": "case", "definitions": "definition",
           "decisions": "decision", "deployments": "deployment", "messages": "message",
           "referrals": "case", "audit": "audit_log"}


def audited(path: str) -> bool:
    return path.startswith(("/api/v1/", "/ui/")) and not path.startswith("/ui/static/")


def target(path: str, path_params: dict[str, Any]) -> tuple[str | None, str | None]:
    """The kind of thing a request is about (from its path) and its id (the first path param)."""
    parts = path.split("/")
    resource = (parts[2] if parts[1] == "ui" else parts[3]) if len(parts) > 3 else ""
    target_id = next(iter(path_params.values()), None) if path_params else None
    if target_id:
        target_id = str(target_id).replace("\x00", "\\0")[:255]
    return TARGETS.get(resource, resource or None), target_id or None


class Unwritten:
    """Entries that could not be written while the database was unavailable: each is logged at
    once and kept (the newest `limit`) until the next entry is written, which writes them too."""

    def __init__(self, limit: int = 1000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def hold(self, values: dict[str, Any]) -> None:
        log.warning("audit entry not written (database unavailable), kept to write later: "
                    "%s %s by %s answered %s at %s", values["method"], values["path"],
                    values["actor"] or "anonymous", values["status"], values["at"].isoformat())
        with self._lock:
            self._entries.append(values)

    def take(self) -> list[dict[str, Any]]:
        with self._lock:
            taken = list(self._entries)
            self._entries.clear()
        return taken

    def give_back(self, entries: list[dict[str, Any]]) -> None:
        with self._lock:
            self._entries.extendleft(reversed(entries))


_unwritten_lock = threading.Lock()


def unwritten(app_state: Any) -> Unwritten:
    """The app's entries waiting for the database (one list per app)."""
    with _unwritten_lock:
        held: Unwritten | None = getattr(app_state, "unwritten_audit", None)
        if held is None:
            held = Unwritten()
            app_state.unwritten_audit = held
        return held


@dataclass
class RequestAudit:
    """The pending entry of one request; `scope` holds the route, path params and principal."""

    scope: Scope
    context: ServiceContext
    written: bool = False
    after_commit: bool = False
    """The request failed after its entry was written (with a committed step, for a command):
    the failure is logged as well, marked so."""

    def success_status(self) -> int:
        """The status the route answers when it succeeds."""
        return getattr(self.scope.get("route"), "status_code", None) or 200

    def command_entry(self) -> audit.CommandEntry:
        """The entry, for a step command to commit with its step (`app.services.steps`)."""
        return audit.CommandEntry(self.values(self.success_status()))

    def settle(self, command: audit.CommandEntry, status: int) -> None:
        """After a command succeeded: its entry is written, with the step or now."""
        if command.committed:
            self.written = True
        else:
            self.write(status)

    def values(self, status: int) -> dict[str, Any]:
        scope = self.scope
        path: str = scope["path"]
        state = scope.get("state") or {}
        reason = state.get("denied_reason")
        action = getattr(scope.get("route"), "name", None) or "unknown_route"
        target_type, target_id = target(path, scope.get("path_params") or {})
        detail: dict[str, Any] = {"reason": reason} if reason else {}
        if self.after_commit:
            detail["after_commit"] = True
        values = audit.entry(self.context.clock.now(), state.get("principal"), action,
                             scope["method"], path.replace("\x00", "\\0"), status, target_type,
                             target_id, detail)
        if reason and status == 404:  # refused, but answered as missing (existence concealed)
            values["outcome"] = "denied"
        return values

    def write(self, status: int) -> None:
        """Write the entry once (blocking: call it on a worker thread)."""
        if self.written:
            return
        self.written = True
        values = self.values(status)
        held = unwritten(self.scope["app"].state)
        if (self.scope.get("state") or {}).get("database_unavailable"):
            held.hold(values)  # refused for want of the database: no second wait for it
            return
        late: list[dict[str, Any]] = []
        try:
            with self.context.lone_statement() as connection:
                late = held.take()
                for entry in late:
                    entry["detail"] = {**entry["detail"], "written_late": True}
                    audit.insert_entry(connection, entry)
                audit.insert_entry(connection, values)
                connection.commit()
        except SQLAlchemyError as exc:
            log.exception("could not write the audit log for %s %s", self.scope["method"],
                          self.scope["path"])
            if is_unavailable(exc):  # kept for later; anything else would fail again
                held.give_back(late)
                held.hold(values)


class AuditMiddleware:
    """Pure ASGI, so a request costs no extra task or stream (unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not audited(scope["path"]):
            await self.app(scope, receive, send)
            return
        entry = RequestAudit(scope, scope["app"].state.context)
        scope.setdefault("state", {})["audit"] = entry

        async def send_after_audit(message: Message) -> None:
            if message["type"] == "http.response.start" and not entry.written:
                await run_in_threadpool(entry.write, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_after_audit)
        except Exception:
            if entry.written:  # the use case succeeded; answering it did not
                entry.written, entry.after_commit = False, True
            await run_in_threadpool(entry.write, 500)
            raise
