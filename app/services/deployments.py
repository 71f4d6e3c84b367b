"""Deploy BPMN/DMN files and forms; each changed process becomes a new version."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from app.auth import policy
from app.auth.principal import Principal
from app.db.models import DecisionVersion, Deployment, DeploymentFile, ProcessVersion
from app.db.uow import UnitOfWork
from app.engine.decisions import LoadedDecision
from app.engine.definitions import ParsedProcess, SourceFile
from app.services.context import ServiceContext
from app.services.errors import Conflict, Invalid, NotFound
from app.services.validation import Validation, validate


@dataclass(frozen=True)
class DeployedProcess:
    key: str
    version: int
    name: str
    created: bool


@dataclass(frozen=True)
class DeploymentResult:
    deployment_id: int | None
    processes: list[DeployedProcess]


def _forms_for(process: ParsedProcess,
               forms: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The forms a process's user tasks name (validation made sure each exists)."""
    return {name: forms[name] for name in sorted(set(process.forms.values())) if name in forms}


def _version_hash(process: ParsedProcess, forms: dict[str, dict[str, Any]]) -> str:
    digest = hashlib.sha256(process.content_hash.encode())
    digest.update(json.dumps(forms, sort_keys=True).encode())
    return digest.hexdigest()


def check(files: list[SourceFile]) -> Validation:
    """Validate a deployment without storing anything; raise `Invalid` with every problem."""
    validation = validate(files)
    problems = validation.problems
    if problems:
        raise Invalid("the deployment is not valid",
                      problems=[problem.as_dict() for problem in problems])
    return validation


def deploy(ctx: ServiceContext, principal: Principal, files: list[SourceFile]) -> DeploymentResult:
    policy.require(principal, "deploy")
    actor = principal.name
    checked = check(files)
    parsed, forms = checked.processes, checked.forms
    now = ctx.clock.now()
    results: list[DeployedProcess] = []
    with ctx.uow() as uow:
        session = uow.session
        deployment = Deployment(deployed_at=now, deployed_by=actor,
                                file_names=[source.name for source in files])
        session.add(deployment)
        session.flush()
        for source in files:
            session.add(DeploymentFile(deployment_id=deployment.id, name=source.name,
                                       sha256=hashlib.sha256(source.content).hexdigest(),
                                       content=source.content))
        for process in parsed:
            process_forms = _forms_for(process, forms)
            content_hash = _version_hash(process, process_forms)
            latest = _latest(uow, process.key)
            if latest is not None and latest.content_hash == content_hash:
                results.append(DeployedProcess(process.key, latest.version, latest.name, False))
                continue
            version = (latest.version if latest else 0) + 1
            session.add(ProcessVersion(
                process_key=process.key, version=version, name=process.name,
                content_hash=content_hash, source_file=process.source_file,
                deployment_id=deployment.id, spec_json=process.spec_json, forms=process_forms,
                deployed_at=now, deployed_by=actor,
            ))
            results.append(DeployedProcess(process.key, version, process.name, True))
        decisions_created = _store_decisions(uow, files, checked.decisions, deployment.id, now)
        if not decisions_created and not any(result.created for result in results):
            return DeploymentResult(None, results)
        try:
            uow.commit()
        except IntegrityError:
            raise Conflict("another deployment of the same process finished first; "
                           "deploy again") from None
    return DeploymentResult(deployment.id, results)


def _store_decisions(uow: UnitOfWork, files: list[SourceFile],
                     decisions: dict[str, LoadedDecision], deployment_id: int,
                     now: dt.datetime) -> bool:
    """Record a new version of each decision whose DMN file changed; True if any did."""
    contents = {source.name: source.content for source in files}
    created = False
    for decision_id, loaded in sorted(decisions.items()):
        content_hash = hashlib.sha256(contents.get(loaded.file, b"")).hexdigest()
        latest = latest_decision(uow, decision_id)
        if latest is not None and latest.content_hash == content_hash:
            continue
        uow.session.add(DecisionVersion(
            decision_id=decision_id, version=(latest.version if latest else 0) + 1,
            name=loaded.name, content_hash=content_hash, source_file=loaded.file,
            deployment_id=deployment_id, deployed_at=now))
        created = True
    return created


def latest_decision(uow: UnitOfWork, decision_id: str) -> DecisionVersion | None:
    return uow.session.scalars(
        select(DecisionVersion).where(DecisionVersion.decision_id == decision_id)
        .order_by(DecisionVersion.version.desc()).limit(1)).first()


def deployment_file(uow: UnitOfWork, deployment_id: int, name: str) -> bytes:
    content = uow.session.scalars(select(DeploymentFile.content).where(
        DeploymentFile.deployment_id == deployment_id, DeploymentFile.name == name)).first()
    if content is None:
        raise NotFound(f"the file '{name}' of deployment {deployment_id} is missing")
    return content


def _latest(uow: UnitOfWork, key: str) -> ProcessVersion | None:
    return uow.session.scalars(
        select(ProcessVersion).where(ProcessVersion.process_key == key)
        .order_by(ProcessVersion.version.desc()).limit(1)
        # The spec and forms are read (and cached) by version id only when they are needed.
        .options(defer(ProcessVersion.spec_json), defer(ProcessVersion.forms))
    ).first()


class VersionRef(NamedTuple):
    id: int
    process_key: str
    version: int


_LATEST_REF = (
    select(ProcessVersion.id, ProcessVersion.process_key, ProcessVersion.version)
    .where(ProcessVersion.process_key == bindparam("key"))
    .order_by(ProcessVersion.version.desc()).limit(1))
"""Every start runs it: built once, its compilation cached by SQLAlchemy."""


def latest_ref(uow: UnitOfWork, key: str) -> VersionRef:
    """Which version of `key` is the latest: what starting an instance needs, and no more."""
    row = uow.session.connection().execute(_LATEST_REF, {"key": key}).first()
    if row is None:
        raise NotFound(f"no process is deployed with the key '{key}'", process_key=key)
    return VersionRef(*row)


def latest_version(uow: UnitOfWork, key: str) -> ProcessVersion:
    version = _latest(uow, key)
    if version is None:
        raise NotFound(f"no process is deployed with the key '{key}'", process_key=key)
    return version


def list_latest(uow: UnitOfWork) -> list[tuple[ProcessVersion, int]]:
    counts = (select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("latest"),
                     func.count().label("versions"))
              .group_by(ProcessVersion.process_key).subquery())
    rows = uow.session.execute(
        select(ProcessVersion, counts.c.versions)
        .join(counts, (ProcessVersion.process_key == counts.c.process_key)
              & (ProcessVersion.version == counts.c.latest))
        .order_by(ProcessVersion.process_key)
    ).all()
    return [(row[0], row[1]) for row in rows]


def list_versions(uow: UnitOfWork, key: str) -> list[ProcessVersion]:
    versions = list(uow.session.scalars(
        select(ProcessVersion).where(ProcessVersion.process_key == key)
        .order_by(ProcessVersion.version)))
    if not versions:
        raise NotFound(f"no process is deployed with the key '{key}'", process_key=key)
    return versions


def get_version(uow: UnitOfWork, key: str, version: int) -> ProcessVersion:
    row = uow.session.scalars(select(ProcessVersion).where(
        ProcessVersion.process_key == key, ProcessVersion.version == version)).first()
    if row is None:
        raise NotFound(f"process '{key}' has no version {version}", process_key=key,
                       version=version)
    return row


def version_source(uow: UnitOfWork, version: ProcessVersion) -> bytes:
    return deployment_file(uow, version.deployment_id, version.source_file)
