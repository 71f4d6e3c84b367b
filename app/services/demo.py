"""Demo logins and tokens for each role, so a new user of `make run` can try every inbox.

Agency leads cover the agencies a demo case names (police, health, children's social care,
education): a review cannot give a task to an agency nobody can act for."""

from __future__ import annotations

from sqlalchemy import select

from app.auth import tokens, users
from app.db.models import ApiToken, AppUser
from app.services import agencies
from app.services.context import ServiceContext

DEMO_PASSWORD_SUFFIX = "-demo-pass"
DEMO_ACCOUNTS: list[tuple[str, list[str], str | None]] = [
    ("demo-board-manager", ["board_manager"], None),
    ("demo-chair", ["chair"], None),
    ("demo-panel-member", ["panel_member"], None),
    ("demo-reviewer", ["reviewer"], None),
    ("demo-police-lead", ["agency_lead"], "police"),
    ("demo-health-lead", ["agency_lead"], "health"),
    ("demo-social-care-lead", ["agency_lead"], "childrens_social_care"),
    ("demo-education-lead", ["agency_lead"], "education"),
    ("demo-designer", ["designer"], None),
    ("demo-auditor", ["auditor"], None),
    ("demo-admin", ["admin"], None),
]


def ensure(ctx: ServiceContext) -> list[str]:
    """Create what is missing; print logins, and tokens only when they are new."""
    lines = ["Demo logins (user / password, roles):"]
    new_tokens: list[str] = []
    now = ctx.clock.now()
    for _name, _roles, agency in DEMO_ACCOUNTS:
        agencies.check_for_account(ctx.settings.agencies_file, agency)
    with ctx.uow() as uow:
        for name, roles, agency in DEMO_ACCOUNTS:
            password = name + DEMO_PASSWORD_SUFFIX
            if uow.session.scalars(select(AppUser).where(AppUser.name == name)).first() is None:
                users.create(uow.session, name, password, roles, agency, now)
            where = f" ({agency})" if agency else ""
            lines.append(f"  {name} / {password}  {', '.join(roles)}{where}")
            if uow.session.scalars(select(ApiToken).where(ApiToken.name == name)).first() is None:
                token = tokens.create(uow.session, name, roles, agency, now)
                new_tokens.append(f"  {name}: {token}")
        uow.commit()
    if new_tokens:
        lines.append("Demo API tokens (shown once; use as 'Authorization: Bearer <token>'):")
        lines.extend(new_tokens)
    return lines
