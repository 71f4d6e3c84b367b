"""The Board's agency register: the partner agencies every agency field takes one of.

The register is configuration (`processes/agencies.json`), not code: a Board edits the file.
It is read once and again only when the file changes (its modification time), so every
context sharing a file shares one parsed register.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.auth import policy
from app.auth.principal import Principal
from app.db.models import ApiToken, AppUser
from app.services.context import ServiceContext
from app.services.errors import Invalid

AgencyKind = Literal["police", "health", "social_care", "education", "justice", "housing",
                     "local_authority", "voluntary", "other"]
LEAD_ROLE = "agency_lead"


class Agency(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,99}$")
    name: str = Field(min_length=1, max_length=200)
    kind: AgencyKind

    @model_validator(mode="after")
    def _named(self) -> Agency:
        if not self.name.strip():
            raise ValueError(f"agency '{self.id}' needs a name")
        return self


class AgencyRegister(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    comment: str | None = Field(None, alias="$comment")
    agencies: tuple[Agency, ...]

    @model_validator(mode="after")
    def _unique(self) -> AgencyRegister:
        ids = [agency.id for agency in self.agencies]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"agency ids must be unique; repeated: {', '.join(repeated)}")
        return self

    @functools.cached_property
    def ids(self) -> frozenset[str]:
        return frozenset(agency.id for agency in self.agencies)

    def unknown(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if name not in self.ids]

    def name_of(self, agency_id: str) -> str:
        """The agency's name, as people write it (its id when the register lacks it)."""
        return next((agency.name for agency in self.agencies if agency.id == agency_id),
                    agency_id.replace("_", " "))

    def known_text(self) -> str:
        return ", ".join(sorted(self.ids)) or "none: the register is empty"


class RegisterError(ValueError):
    """The register file is missing or not valid; the message names the file."""


def load_register(path: Path) -> AgencyRegister:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegisterError(f"{path}: the agency register is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegisterError(f"{path}: not valid JSON: {exc}") from None
    try:
        return AgencyRegister.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise RegisterError(f"{path}: not a valid agency register: {problems}") from None


@functools.lru_cache(maxsize=8)
def _cached(path: Path, _mtime_ns: int) -> AgencyRegister:
    return load_register(path)


def register_at(path: Path) -> AgencyRegister:
    """The register in `path`, parsed once per version of the file."""
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise RegisterError(f"{path}: the agency register is missing") from None
    return _cached(path, mtime)


def register(ctx: ServiceContext) -> AgencyRegister:
    """The context's register (`Settings.agencies_file`)."""
    try:
        return register_at(ctx.settings.agencies_file)
    except RegisterError as exc:
        raise Invalid(str(exc), field="agencies") from None


def register_or_problem(ctx: ServiceContext) -> tuple[AgencyRegister | None, str | None]:
    """The register, or why there is none: forms without agency fields still work then."""
    try:
        return register_at(ctx.settings.agencies_file), None
    except RegisterError as exc:
        return None, str(exc)


def name_of(ctx: ServiceContext, agency_id: str | None) -> str:
    """An agency's name from the register, for pages (its id in words when unknown)."""
    if not agency_id:
        return ""
    found, _problem = register_or_problem(ctx)
    return found.name_of(agency_id) if found else agency_id.replace("_", " ")


def unknown_message(names: list[str], found: AgencyRegister) -> str:
    listed = ", ".join(f"'{name}'" for name in names)
    noun = "agency" if len(names) == 1 else "agencies"
    return f"unknown {noun} {listed}: not in the Board's agency register (known: " \
           f"{found.known_text()})"


def require_known(ctx: ServiceContext, names: Iterable[str], field: str) -> None:
    """Refuse (422, naming the field) any agency that is not in the register."""
    found = register(ctx)
    unknown = found.unknown(names)
    if unknown:
        message = unknown_message(unknown, found)
        raise Invalid(message, field=field, errors=[{"field": field, "message": message}])


def check_for_account(path: Path, agency: str | None) -> None:
    """For `user create` / `token create`: an agency must be in the register (ValueError)."""
    if agency is None:
        return
    found = register_at(path)
    if found.unknown([agency]):
        raise ValueError(unknown_message([agency], found))


def has_lead(session: Session, agency: str, now: dt.datetime) -> bool:
    """Whether someone can act for the agency: an active user or a live (unexpired,
    unrevoked) token holding the agency lead role for it."""
    user_roles = session.scalars(select(AppUser.roles).where(
        AppUser.agency == agency, AppUser.active.is_(True)))
    if any(LEAD_ROLE in (roles or []) for roles in user_roles):
        return True
    token_roles = session.scalars(select(ApiToken.roles).where(
        ApiToken.agency == agency, ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now)))
    return any(LEAD_ROLE in (roles or []) for roles in token_roles)


def no_lead_message(agency: str) -> str:
    return (f"no one can act for '{agency}': create an agency lead for it first (a user or an "
            f"API token with the agency_lead role and agency '{agency}')")


# ---- the register as the administrator's pages show it ------------------------------------

@dataclass(frozen=True)
class AgencyOverview:
    """One agency of the register, with how many active people sign in for it."""

    agency: Agency
    leads: int
    people: int


@dataclass(frozen=True)
class RegisterOverview:
    file: str
    agencies: tuple[AgencyOverview, ...]
    problem: str | None
    """Why the register cannot be read (then `agencies` is empty)."""


def overview(ctx: ServiceContext, principal: Principal) -> RegisterOverview:
    """The register (read-only: it is a file the Board edits), each agency with its people."""
    policy.require(principal, "manage_people")
    found, problem = register_or_problem(ctx)
    file = ctx.settings.agencies_file.name
    if found is None:
        return RegisterOverview(file, (), problem)
    with ctx.uow(read_only=True) as uow:
        rows = uow.session.execute(select(AppUser.agency, AppUser.roles).where(
            AppUser.active.is_(True), AppUser.agency.is_not(None))).all()
    leads: dict[str | None, int] = {}
    people: dict[str | None, int] = {}
    for agency_id, roles in rows:
        people[agency_id] = people.get(agency_id, 0) + 1
        if LEAD_ROLE in (roles or []):
            leads[agency_id] = leads.get(agency_id, 0) + 1
    return RegisterOverview(file, tuple(
        AgencyOverview(agency, leads.get(agency.id, 0), people.get(agency.id, 0))
        for agency in sorted(found.agencies, key=lambda a: a.name.lower())), None)
