"""The timer loop run by `reviewflow worker`, and inside `reviewflow serve` unless disabled.

No exception ends the loop: one on an instance becomes an incident on it (`timers.fire_due`),
any other is logged and the next poll tries again. Each poll is written down as a heartbeat,
which `/health` reads.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from app.services import heartbeats, incidents, timers
from app.services.context import ServiceContext

log = logging.getLogger("reviewflow.worker")


class Worker:
    name = "timer"

    def __init__(self, ctx: ServiceContext, poll_seconds: float) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self.stop_event = threading.Event()
        self.process = heartbeats.this_process()
        self.started_at = ctx.clock.now()

    def poll_once(self) -> int:
        """Fire what is due and record the heartbeat; return how many instances ran."""
        try:
            fired = timers.fire_due(self.ctx)
        except SQLAlchemyError as exc:
            log.exception("timer worker could not reach the database; retrying")
            self._beat(exc)
            return 0
        except Exception as exc:
            log.exception("timer worker poll failed; polling again")
            self._beat(exc)
            return 0
        self._beat(None)
        return fired

    def _beat(self, error: Exception | None) -> None:
        try:
            heartbeats.beat(self.ctx, self.name, self.process, self.started_at,
                            ": ".join(incidents.describe(error)) if error else None)
        except Exception:
            log.warning("timer worker could not record its heartbeat", exc_info=True)

    def run(self) -> None:
        """Fire due timers until stopped; sleep between polls only when nothing was due."""
        log.info("timer worker started (poll every %ss)", self.poll_seconds)
        try:
            heartbeats.forget_stale(self.ctx, self.name)
        except SQLAlchemyError:
            log.warning("timer worker could not clear stale heartbeats", exc_info=True)
        while not self.stop_event.is_set():
            fired = self.poll_once()
            if fired:
                log.info("fired timers of %d instances", fired)
            else:
                self.stop_event.wait(self.poll_seconds)
        try:
            heartbeats.forget(self.ctx, self.name, self.process)
        except SQLAlchemyError:
            log.warning("timer worker could not remove its heartbeat", exc_info=True)
        log.info("timer worker stopped")

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="reviewflow-worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stop_event.set()
