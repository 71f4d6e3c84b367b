"""Who is acting: the roles they hold and, for agency leads, their agency."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("board_manager", "chair", "panel_member", "reviewer", "agency_lead", "designer",
         "auditor", "admin")


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[str]
    agency: str | None = None
    kind: str = "token"
    """token (an agency system or script), session (a person in the inbox) or system."""

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


SYSTEM = Principal("system", frozenset(ROLES), None, "system")
"""The CLI and the worker act as the system."""


def check_roles(roles: list[str], agency: str | None) -> list[str]:
    """Validate roles (and the agency an agency lead needs); return them sorted and unique."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; known: {', '.join(ROLES)}")
    if not roles:
        raise ValueError("give at least one role")
    if "agency_lead" in roles and not agency:
        raise ValueError("an agency lead needs an agency")
    return sorted(set(roles))
