"""create_app(): routers, error handlers, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.api import (
    agencies,
    audit,
    audit_trail,
    briefings,
    cases,
    decisions,
    definitions,
    deployments,
    errors,
    health,
    incidents,
    instances,
    learning,
    messages,
    reports,
    tasks,
)
from app.api.limits import BodySizeLimit
from app.api.security_headers import SecurityHeaders
from app.services.context import ServiceContext, build_context
from app.settings import Settings, get_settings
from app.web import (
    admin_pages,
    auth_pages,
    case_list_pages,
    case_pages,
    case_work_pages,
    designer_pages,
    inbox_pages,
    info_pages,
    referral_pages,
    register_pages,
    report_pages,
    session_pages,
    task_pages,
)
from app.web import errors as web_errors
from app.worker import Worker

STATIC = Path(__file__).parent / "web" / "static"
DESCRIPTION = """Runs a Safeguarding Children Board's learning and improvement reviews as BPMN.

Errors are JSON objects with `detail` (plain words) and `code`; validation errors add `errors`,
one per field, and deployment errors add `problems`, one per file and element."""


def create_app(settings: Settings | None = None,
               context: ServiceContext | None = None) -> FastAPI:
    """Build the app. Given a context, the caller owns it; otherwise the lifespan builds one."""
    settings = settings or (context.settings if context else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = context is None
        app.state.context = context or build_context(settings)
        worker = Worker(app.state.context, settings.worker_poll_seconds) \
            if owned and settings.embedded_worker else None
        thread = worker.start_thread() if worker else None
        try:
            yield
        finally:
            if worker and thread:
                worker.stop()
                thread.join(timeout=30)
            if owned:
                app.state.context.close()

    app = FastAPI(title="Reviewflow", version="0.1.0", description=DESCRIPTION,
                  lifespan=lifespan)
    if context is not None:
        app.state.context = context
    errors.install(app)
    errors.document(app)
    web_errors.install(app)
    # Routes are matched in order: the API's come first, as agency systems call it most.
    for module in (tasks, instances, messages, cases, health, deployments, definitions,
                   decisions, audit, briefings, reports, learning, agencies, incidents):
        app.include_router(module.router)
    for page_module in (auth_pages, inbox_pages, task_pages, case_list_pages, case_pages,
                        case_work_pages, referral_pages, session_pages, register_pages,
                        report_pages, designer_pages, admin_pages, info_pages):
        app.include_router(page_module.router)
    app.mount("/ui/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_middleware(audit_trail.AuditMiddleware)
    app.add_middleware(BodySizeLimit, default_limit=settings.max_request_bytes,
                       upload_limit=settings.max_upload_bytes * 20)
    app.add_middleware(SecurityHeaders, production=settings.environment == "production")
    return app
