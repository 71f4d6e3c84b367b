"""OpenAPI links: which response gives the identifier that another operation takes.

Clients (and schemathesis' stateful tests) follow them: a referral's response names the case,
a started instance its id, a page of tasks its tasks. Links a tool can infer from the schemas
alone (an `id` field matching an `{..._id}` path parameter) are declared all the same, so that
the document says what the service means rather than what a tool may guess.
"""

from __future__ import annotations

from typing import Any

CASE = "/api/v1/cases/{reference}"
INSTANCE = "/api/v1/instances/{instance_id}"
TASK = "/api/v1/tasks/{task_id}"
REFERENCE = {"reference": "$response.body#/reference"}
INSTANCE_ID = {"instance_id": "$response.body#/id"}

LINKS: list[tuple[tuple[str, str, str], tuple[str, str], dict[str, str]]] = [
    # (source method, path, status), (target method, path), target parameter -> expression
    (("post", "/api/v1/referrals", "201"), ("get", CASE), REFERENCE),
    (("post", "/api/v1/referrals", "201"), ("get", f"{CASE}/timeline"), REFERENCE),
    (("post", "/api/v1/referrals", "201"), ("get", f"{CASE}/deadlines"), REFERENCE),
    (("post", "/api/v1/referrals", "201"), ("post", f"{CASE}/escalations"), REFERENCE),
    (("post", "/api/v1/referrals", "201"), ("get", TASK),
     {"task_id": "$response.body#/current_tasks/0/id"}),
    (("get", "/api/v1/cases", "200"), ("get", CASE),
     {"reference": "$response.body#/items/0/reference"}),
    (("post", "/api/v1/instances", "201"), ("get", INSTANCE), INSTANCE_ID),
    (("post", "/api/v1/instances", "201"), ("get", f"{INSTANCE}/timeline"), INSTANCE_ID),
    (("post", "/api/v1/instances", "201"), ("get", TASK),
     {"task_id": "$response.body#/ready_tasks/0/id"}),
    (("get", "/api/v1/tasks", "200"), ("get", TASK), {"task_id": "$response.body#/items/0/id"}),
    (("get", "/api/v1/tasks", "200"), ("post", f"{TASK}/complete"),
     {"task_id": "$response.body#/items/0/id"}),
    (("get", TASK, "200"), ("post", f"{TASK}/complete"), {"task_id": "$request.path.task_id"}),
]


def add_links(schema: dict[str, Any]) -> None:
    """Declare `LINKS` on the responses they start from (an absent operation is skipped)."""
    paths = schema.get("paths", {})
    for (method, path, status), (target_method, target_path), parameters in LINKS:
        source = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        target = paths.get(target_path, {}).get(target_method)
        if source is None or target is None or "operationId" not in target:
            continue
        name = target["operationId"]
        source.setdefault("links", {})[name] = {"operationId": name, "parameters": parameters}
