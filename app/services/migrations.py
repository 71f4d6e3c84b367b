"""Version history with change summaries, and moving running instances to a newer version."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.auth import policy
from app.auth.principal import Principal
from app.db.models import ProcessInstance, ProcessVersion
from app.engine import versions
from app.services import deployments, instances, steps, timeline
from app.services.context import ServiceContext
from app.services.errors import Conflict, Invalid

ACTIVE = ("running", "waiting", "error")


@dataclass(frozen=True)
class VersionHistory:
    version: ProcessVersion
    changes: versions.VersionDiff | None


@dataclass(frozen=True)
class MigrationResult:
    instance_id: str
    from_version: int
    to_version: int
    blockers: list[str]
    migrated: bool


def history(ctx: ServiceContext, principal: Principal, key: str) -> list[VersionHistory]:
    """Every version, oldest first, with what changed since the one before."""
    policy.require(principal, "read_definitions")
    with ctx.uow(read_only=True) as uow:
        rows = deployments.list_versions(uow, key)
        bundles = [steps.spec_bundle(ctx, uow, row.id) for row in rows]
    return [VersionHistory(row, versions.diff_versions(bundles[i - 1], bundles[i]) if i else None)
            for i, row in enumerate(rows)]


def diff(ctx: ServiceContext, principal: Principal, key: str, old: int,
         new: int) -> versions.VersionDiff:
    policy.require(principal, "read_definitions")
    with ctx.uow(read_only=True) as uow:
        old_row = deployments.get_version(uow, key, old)
        new_row = deployments.get_version(uow, key, new)
        return versions.diff_versions(steps.spec_bundle(ctx, uow, old_row.id),
                                      steps.spec_bundle(ctx, uow, new_row.id))


def migrate(ctx: ServiceContext, principal: Principal, instance_id: str,
            to_version: int | None, dry_run: bool) -> MigrationResult:
    """Move one instance; a dry run only says whether it can move and what blocks it."""
    policy.require(principal, "migrate")
    now = ctx.clock.now()
    with ctx.uow(read_only=dry_run) as uow:
        instance = instances.get_row(uow, instance_id)
        if instance.status not in ACTIVE:
            raise Conflict(f"a {instance.status} instance cannot be migrated",
                           instance_id=instance_id, status=instance.status)
        target = (deployments.get_version(uow, instance.process_key, to_version) if to_version
                  else deployments.latest_version(uow, instance.process_key))
        if target.version <= instance.version:
            raise Invalid(f"the instance is on version {instance.version}; migrate it to a newer "
                          "one", field="to_version")
        workflow = steps.load_workflow(ctx, uow, instance)
        bundle = steps.spec_bundle(ctx, uow, target.id)
        blockers = versions.migration_blockers(workflow, bundle)
        result = MigrationResult(instance_id, instance.version, target.version, blockers, False)
        if dry_run:
            return result
        if blockers:
            raise Conflict(f"version {target.version} lacks elements this instance has reached: "
                           f"{', '.join(blockers)}", instance_id=instance_id, blockers=blockers)
        old_version = instance.version
        versions.migrate(workflow, bundle)
        instance.process_version_id = target.id
        instance.version = target.version
        timeline.record(uow, instance.id, "migrated", now, principal.name, detail={
            "from_version": old_version, "to_version": target.version})
        steps.save(uow, instance, workflow, now, principal.name,
                   status="error" if instance.status == "error" else None)
        steps.commit(uow, instance.id)
    return MigrationResult(instance_id, old_version, target.version, [], True)


def migrate_all(ctx: ServiceContext, principal: Principal, key: str, from_version: int | None,
                to_version: int | None, dry_run: bool) -> list[MigrationResult]:
    """Every active instance of the process (optionally only those on `from_version`)."""
    policy.require(principal, "migrate")
    with ctx.uow(read_only=True) as uow:
        latest = deployments.latest_version(uow, key)
        target = to_version or latest.version
        query = select(ProcessInstance.id).where(ProcessInstance.process_key == key,
                                                 ProcessInstance.status.in_(ACTIVE),
                                                 ProcessInstance.version < target)
        if from_version is not None:
            query = query.where(ProcessInstance.version == from_version)
        ids = list(uow.session.scalars(query.order_by(ProcessInstance.created_at)))
    results: list[MigrationResult] = []
    for instance_id in ids:
        try:
            results.append(migrate(ctx, principal, instance_id, target, dry_run))
        except Conflict as blocked:
            results.append(MigrationResult(instance_id, from_version or 0, target,
                                           list(blocked.detail.get("blockers", [])), False))
    return results
