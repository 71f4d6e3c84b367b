"""How an endpoint reaches the services: one worker-thread call per request.

An endpoint is an `async def` that awaits `answer` (or `command`, for a use case that advances an
instance) with the use case to run. On the worker thread the use case runs, builds its answer
before it commits, and the request's audit entry is written: committed with the step for a
command, right after the use case otherwise. FastAPI then validates and sends the answer on the
event loop, as it does for any `async def` endpoint (`response_model_*` options apply).

    @router.post("/{task_id}/complete", response_model=InstanceDetail)
    async def complete_task(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                            body: TaskComplete, task_id: str = IdPath) -> InstanceDetail:
        return await serving.command(audit, lambda command: instance_detail(
            tasks.complete(ctx, principal, task_id, body.data, command)))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.api.audit_trail import RequestAudit
from app.services.steps import Command

ResultT = TypeVar("ResultT")


async def answer(audit: RequestAudit, use_case: Callable[[], ResultT],
                 response: Response | None = None) -> ResultT:
    """Run `use_case` on a worker thread and write the request's audit entry there.

    `response`, the endpoint's `Response` parameter, when the use case may change its status."""
    return await run_in_threadpool(_answer, audit, use_case, response)


async def command(audit: RequestAudit, use_case: Callable[[Command], ResultT]) -> ResultT:
    """Run a use case that commits a step (`app.services.steps.commit`) on a worker thread,
    handing it the request's audit entry to commit with the step."""
    return await run_in_threadpool(_command, audit, use_case)


def _answer(audit: RequestAudit, use_case: Callable[[], ResultT],
            response: Response | None) -> ResultT:
    result = use_case()
    audit.write(_status(audit, result, response))
    return result


def _command(audit: RequestAudit, use_case: Callable[[Command], ResultT]) -> ResultT:
    entry = audit.command_entry()
    try:
        result = use_case(Command(audit=entry))
    except BaseException:
        # The step may have committed (with its entry) before a later part failed: the
        # middleware then logs the failed response as well, marked as after the commit.
        audit.after_commit = entry.committed
        raise
    audit.settle(entry, _status(audit, result, None))
    return result


def _status(audit: RequestAudit, result: object, response: Response | None) -> int:
    for answered in (result, response):
        if isinstance(answered, Response) and answered.status_code:
            return answered.status_code
    return audit.success_status()
