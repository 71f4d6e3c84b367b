"""Simulate a process from a scenario: the deployed version, or files not yet deployed."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from app.auth import policy
from app.auth.principal import Principal
from app.engine.definitions import SourceFile
from app.engine.serializer import spec_from_json
from app.engine.simulation import Scenario, SimulationReport, simulate
from app.services import agencies, deployments, steps, validation
from app.services.context import ServiceContext
from app.services.errors import Invalid, NotFound
from app.services.form_keywords import FormContext
from app.services.forms import validate_submission


def _form_checker(ctx: ServiceContext, forms: dict[str, dict[str, Any]]) -> Any:
    """The forms' schemas and keywords, and agencies from the register. The simulator passes
    neither its clock nor the task's data, and nobody acts for an agency in memory, so the
    keywords that read them (x-not-future, x-not-after, x-same-as, actionable agencies) are
    checked only when the task is completed for real."""
    found, problem = agencies.register_or_problem(ctx)
    context = FormContext(agencies=found, register_problem=problem)

    def check(form: str, data: dict[str, Any]) -> list[dict[str, str]]:
        schema = forms.get(form)
        if schema is None:
            return [{"field": "(form)", "message": f"the form '{form}' is missing"}]
        return validate_submission(schema, data, context=context)

    return check


def parse_scenario(text: str, source: str = "scenario") -> Scenario:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Invalid(f"{source} is not valid YAML: {exc}", field=source) from None
    if not isinstance(raw, dict):
        raise Invalid(f"{source} must be a mapping with steps and expectations", field=source)
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                  for e in exc.errors()]
        raise Invalid(f"{source} does not describe a scenario", errors=errors) from None


def simulate_deployed(ctx: ServiceContext, principal: Principal, key: str,
                      scenario: Scenario) -> SimulationReport:
    policy.require(principal, "simulate")
    with ctx.uow(read_only=True) as uow:
        version = deployments.latest_version(uow, key)
        spec, subprocess_specs = steps.spec_bundle(ctx, uow, version.id)
        forms = dict(version.forms)
    scenario = scenario.model_copy(update={"process": key})
    return simulate(spec, subprocess_specs, scenario, ctx.engine_env, _form_checker(ctx, forms))


def simulate_files(ctx: ServiceContext, files: list[SourceFile], key: str,
                   scenario: Scenario) -> SimulationReport:
    """Simulate a process from files on disk, before they are deployed."""
    checked = validation.validate(files)
    if checked.problems:
        raise Invalid("the files are not valid; run `reviewflow validate` for the problems",
                      problems=[p.as_dict() for p in checked.problems])
    found = [p for p in checked.processes if p.key == key]
    if not found:
        known = ", ".join(sorted(p.key for p in checked.processes))
        raise NotFound(f"no process '{key}' in the files (known: {known})", process_key=key)
    spec, subprocess_specs = spec_from_json(found[0].spec_json)
    scenario = scenario.model_copy(update={"process": key})
    return simulate(spec, subprocess_specs, scenario, ctx.engine_env,
                    _form_checker(ctx, checked.forms))
