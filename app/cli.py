"""The `reviewflow` command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.auth.principal import Principal
from app.engine.definitions import SourceFile
from app.services.errors import ServiceError
from app.settings import get_settings

cli = typer.Typer(help="Reviewflow: learning and improvement reviews as BPMN.",
                  no_args_is_help=True, add_completion=False)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
token_cli = typer.Typer(help="API tokens for agency systems and scripts.", no_args_is_help=True)
cli.add_typer(token_cli, name="token")
user_cli = typer.Typer(help="People who log in to the inbox.", no_args_is_help=True)
cli.add_typer(user_cli, name="user")


def _roles(value: str) -> list[str]:
    return [role.strip() for role in value.split(",") if role.strip()]

DEPLOYABLE = (".bpmn", ".dmn")


def collect_files(paths: list[Path]) -> list[SourceFile]:
    """Files named, and under folders the .bpmn, .dmn and forms/*.json files."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in DEPLOYABLE))
            found.extend(sorted(path.rglob("forms/*.json")))
        elif path.is_file():
            found.append(path)
        else:
            raise typer.BadParameter(f"{path} does not exist", param_hint="PATH")
    return [SourceFile(p.name, p.read_bytes()) for p in found]


def _fail(error: ServiceError) -> None:
    typer.echo(f"error: {error.message}", err=True)
    for problem in error.detail.get("problems", []):
        where = ":".join(str(part) for part in (problem["file"], problem.get("line")) if part)
        element = f" [{problem['element_id']}]" if problem.get("element_id") else ""
        typer.echo(f"  {where}{element}: {problem['reason']}", err=True)
    raise typer.Exit(1)


@cli.command()
def serve(host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
          port: Annotated[int | None, typer.Option(help="Port to listen on")] = None) -> None:
    """Serve the API."""
    import uvicorn

    settings = get_settings()
    uvicorn.run("app.main:create_app", factory=True, host=host or settings.host,
                port=port or settings.port, log_level="info")


@cli.command()
def worker() -> None:
    """Run the timer worker: fire due timers until stopped (Ctrl-C)."""
    import signal

    from app.services.context import build_context
    from app.worker import Worker

    settings = get_settings()
    context = build_context(settings)
    loop = Worker(context, settings.worker_poll_seconds)
    signal.signal(signal.SIGTERM, lambda *_: loop.stop())
    try:
        loop.run()
    except KeyboardInterrupt:
        loop.stop()
    finally:
        context.close()


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database to the latest schema."""
    from app.db.migrate import upgrade

    upgrade(get_settings().database_url, revision)
    typer.echo("database is up to date")


@cli.command()
def deploy(paths: Annotated[list[Path] | None, typer.Argument(
               help="Files or folders to deploy; REVIEWFLOW_PROCESSES_DIR when none")] = None,
           actor: Annotated[str, typer.Option(help="Recorded as the deployer")] = "cli") -> None:
    """Deploy BPMN/DMN files and forms; unchanged processes keep their version."""
    from app.services import deployments
    from app.services.context import build_context

    files = collect_files(paths or [get_settings().processes_dir])
    context = build_context(get_settings())
    try:
        result = deployments.deploy(context, Principal(actor, frozenset({"designer"}), None,
                                                       "system"), files)
    except ServiceError as error:
        _fail(error)
        return
    finally:
        context.close()
    for process in result.processes:
        state = "new version" if process.created else "unchanged"
        typer.echo(f"{process.key} v{process.version} ({state})")


@token_cli.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Who or what uses the token")],
    roles: Annotated[str, typer.Option(help="Comma-separated roles, e.g. agency_lead")],
    agency: Annotated[str | None, typer.Option(help="The agency of an agency lead")] = None,
    expires_days: Annotated[int | None, typer.Option(help="Expire after this many days")] = None,
) -> None:
    """Create a token and print it, and nothing else, once: it cannot be shown again."""
    from app.services import accounts
    from app.services.context import build_context

    context = build_context(get_settings())
    try:
        token = accounts.create_token(context, name, _roles(roles), agency, expires_days)
    except ValueError as error:  # an agency outside the register too (RegisterError)
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        context.close()
    typer.echo(token)


@token_cli.command("revoke")
def token_revoke(name: Annotated[str, typer.Option(help="The token's name")]) -> None:
    """Revoke every live token with this name."""
    from app.services import accounts
    from app.services.context import build_context

    context = build_context(get_settings())
    try:
        count = accounts.revoke_tokens(context, name)
    finally:
        context.close()
    typer.echo(f"revoked {count} token(s)")


@user_cli.command("create")
def user_create(
    name: Annotated[str, typer.Option(help="The login name")],
    password: Annotated[str, typer.Option(help="At least 12 characters")],
    roles: Annotated[str, typer.Option(help="Comma-separated roles")],
    agency: Annotated[str | None, typer.Option(help="The agency of an agency lead")] = None,
) -> None:
    """Create a person who logs in to the inbox."""
    from app.services import accounts
    from app.services.context import build_context

    context = build_context(get_settings())
    try:
        accounts.create_user(context, name, password, _roles(roles), agency)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        context.close()
    typer.echo(f"created user {name}")


retention_cli = typer.Typer(help="Erase case data past its retention period.",
                            no_args_is_help=True)
cli.add_typer(retention_cli, name="retention")


@retention_cli.command("run")
def retention_run(dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="List what has expired; erase nothing")] = False) -> None:
    """List the cases whose retention period has passed, then erase their data; forget
    idempotency keys past their lifetime."""
    from app.services import idempotency, retention
    from app.services.context import build_context

    settings = get_settings()
    rules = retention.load_rules(settings.retention_file)
    context = build_context(settings)
    try:
        found = retention.expired(context, rules)
        for item in found:
            typer.echo(f"{item.reference}  {item.route or '-'}  closed "
                       f"{item.closed_at.date().isoformat()}  expired {item.erase_after}")
        forgotten = 0
        if not dry_run:
            for item in found:
                retention.erase(context, item)
            forgotten = idempotency.forget_expired(context)
    finally:
        context.close()
    action = "would erase" if dry_run else "erased"
    typer.echo(f"{action} {len(found)} case(s)")
    if not dry_run:
        typer.echo(f"forgot {forgotten} idempotency key(s) older than "
                   f"{idempotency.LIFETIME.total_seconds() / 3600:g} hours")


@cli.command()
def demo() -> None:
    """Create demo logins and tokens for each role (once) and print them. Not for production."""
    from app.services import demo as demo_accounts
    from app.services.context import build_context

    settings = get_settings()
    if settings.environment == "production":
        typer.echo("error: demo accounts are not made in production", err=True)
        raise typer.Exit(1)
    context = build_context(settings)
    try:
        lines = demo_accounts.ensure(context)
    finally:
        context.close()
    for line in lines:
        typer.echo(line)


@cli.command()
def validate(
        paths: Annotated[list[Path], typer.Argument(help="Files or folders to check")]) -> None:
    """Report every problem in BPMN/DMN files and forms; exit 1 if there is any."""
    from app.services.validation import validate as check

    result = check(collect_files(paths))
    for problem in result.problems:
        where = ":".join(str(part) for part in (problem.file, problem.line) if part)
        element = f" [{problem.element_id}]" if problem.element_id else ""
        typer.echo(f"{where}{element}: {problem.reason}")
    rows = [(r.file, ", ".join(r.processes) or "-", "yes" if r.deployable else "no",
             str(len(r.problems))) for r in result.reports if r.file.endswith((".bpmn", ".xml"))]
    if rows:
        header = ("file", "processes", "deployable", "problems")
        widths = [min(max(len(row[i]) for row in [header, *rows]), 60) for i in range(4)]
        typer.echo("")
        for row in [header, tuple("-" * w for w in widths), *rows]:
            typer.echo("  ".join(cell[:60].ljust(width) for cell, width in zip(row, widths,
                                                                             strict=True)))
    typer.echo(f"\n{len(result.problems)} problem(s) in {len(result.reports)} file(s)")
    if result.problems:
        raise typer.Exit(1)


@cli.command()
def simulate(process: Annotated[str, typer.Argument(help="The process key")],
             scenario_file: Annotated[Path, typer.Argument(help="The scenario (YAML)")],
             processes: Annotated[Path | None, typer.Option(
                 help="Folder of BPMN/DMN files and forms; REVIEWFLOW_PROCESSES_DIR if not given"
             )] = None) -> None:
    """Run a process in memory from a scenario and report the path; exit 1 if it fails."""
    from app.services import simulations
    from app.services.context import build_context

    settings = get_settings()
    context = build_context(settings)
    try:
        scenario = simulations.parse_scenario(scenario_file.read_text(encoding="utf-8"),
                                              scenario_file.name)
        files = collect_files([processes or settings.processes_dir])
        report = simulations.simulate_files(context, files, process, scenario)
    except ServiceError as error:
        _fail(error)
        return
    finally:
        context.close()
    typer.echo(f"{scenario.name or scenario_file.name}: {process} ended {report.status}")
    typer.echo("path: " + " > ".join(report.path))
    for decision in report.decisions:
        typer.echo(f"decision {decision['element_id']}: {decision['outputs']} "
                   f"(rule {', '.join(decision['matched_rules'])})")
    for failure in report.failures:
        typer.echo(f"FAILED: {failure}")
    typer.echo("passed" if report.passed else "failed")
    if not report.passed:
        raise typer.Exit(1)


@cli.command()
def openapi() -> None:
    """Print the OpenAPI document to stdout."""
    from app.main import create_app

    spec = create_app().openapi()
    sys.stdout.write(json.dumps(spec, indent=2, sort_keys=True) + "\n")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
