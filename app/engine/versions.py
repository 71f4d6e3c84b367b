"""Compare two versions of a process, and move a running workflow onto a newer version.

Both rest on SpiffWorkflow's spec diff, which aligns task specs by BPMN id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.task import TaskState

from app.engine.serializer import REGISTRY
from app.engine.spec_cache import SpecBundle

KEPT_STATES = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.WAITING \
    | TaskState.ERROR


@dataclass
class VersionDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)

    def merge(self, other: VersionDiff, prefix: str) -> None:
        self.added += [f"{prefix}/{name}" for name in other.added]
        self.removed += [f"{prefix}/{name}" for name in other.removed]
        self.changed.update({f"{prefix}/{k}": v for k, v in other.changed.items()})


def _bpmn_ids(specs: list[object]) -> list[str]:
    return sorted({bpmn_id for spec in specs if (bpmn_id := getattr(spec, "bpmn_id", None))})


def _spec_diff(old: BpmnProcessSpec, new: BpmnProcessSpec) -> VersionDiff:
    diff = SpecDiff(REGISTRY, old, new)
    changed = {spec.bpmn_id: sorted(str(attr) for attr in attrs)
               for spec, attrs in diff.changed.items() if getattr(spec, "bpmn_id", None)}
    return VersionDiff(_bpmn_ids(diff.added), _bpmn_ids(diff.removed), dict(sorted(
        changed.items())))


def diff_versions(old: SpecBundle, new: SpecBundle) -> VersionDiff:
    """Elements added, removed and changed (with the attributes that changed)."""
    result = _spec_diff(old[0], new[0])
    old_subs, new_subs = old[1], new[1]
    for name in sorted(set(old_subs) | set(new_subs)):
        if name not in new_subs:
            result.removed.append(f"{name} (called process)")
        elif name not in old_subs:
            result.added.append(f"{name} (called process)")
        else:
            result.merge(_spec_diff(old_subs[name], new_subs[name]), name)
    return result


def migration_blockers(workflow: BpmnWorkflow, new: SpecBundle) -> list[str]:
    """Elements that have run or are active in the workflow but are missing from `new`."""
    spec, subprocess_specs = new
    top, subprocesses = diff_workflow(REGISTRY, workflow, spec, subprocess_specs)
    blockers = {task.task_spec.bpmn_id for task in top.removed
                if task.has_state(KEPT_STATES) and getattr(task.task_spec, "bpmn_id", None)}
    for sub_id, sub_diff in subprocesses.items():
        subprocess = workflow.subprocesses[sub_id]
        if sub_diff is None:
            blockers.add(f"{subprocess.spec.name} (called process)")
            continue
        blockers |= {task.task_spec.bpmn_id for task in sub_diff.removed
                     if task.has_state(KEPT_STATES) and getattr(task.task_spec, "bpmn_id", None)}
    return sorted(blockers)


def migrate(workflow: BpmnWorkflow, new: SpecBundle) -> None:
    """Move the workflow onto `new`; call only when `migration_blockers` is empty."""
    spec, subprocess_specs = new
    top, subprocesses = diff_workflow(REGISTRY, workflow, spec, subprocess_specs)
    for sub_id, sub_diff in subprocesses.items():
        if sub_diff is not None:
            subprocess = workflow.subprocesses[sub_id]
            migrate_workflow(sub_diff, subprocess, subprocess_specs[subprocess.spec.name])
    migrate_workflow(top, workflow, spec)
    workflow.subprocess_specs = subprocess_specs
