"""The timer loop run by `reviewflow worker`, and inside `reviewflow serve` unless disabled."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from app.services import timers
from app.services.context import ServiceContext

log = logging.getLogger("reviewflow.worker")


class Worker:
    def __init__(self, ctx: ServiceContext, poll_seconds: float) -> None:
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self.stop_event = threading.Event()

    def run(self) -> None:
        """Fire due timers until stopped; sleep between polls only when nothing was due."""
        log.info("timer worker started (poll every %ss)", self.poll_seconds)
        while not self.stop_event.is_set():
            try:
                fired = timers.fire_due(self.ctx)
            except SQLAlchemyError:
                log.exception("timer worker could not reach the database; retrying")
                fired = 0
            if fired:
                log.info("fired timers of %d instances", fired)
            else:
                self.stop_event.wait(self.poll_seconds)
        log.info("timer worker stopped")

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="reviewflow-worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stop_event.set()
