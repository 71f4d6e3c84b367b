"""The service navigation: the sections of the inbox a person may use, and which one is open."""

from __future__ import annotations

from dataclasses import dataclass

from app.auth import policy
from app.auth.principal import Principal


@dataclass(frozen=True)
class Section:
    label: str
    href: str
    action: str | None
    """The permission the section needs (`app.auth.policy.ACTIONS`); None: everyone signed in."""


SECTIONS = (
    Section("Inbox", "/ui/inbox", "read_tasks"),
    Section("Cases", "/ui/cases", "read_cases"),
    Section("Refer a case", "/ui/referrals/new", "refer"),
    Section("Registers", "/ui/registers", "read_learning"),
    Section("Reports", "/ui/reports", "read_cases"),
    Section("Definitions", "/ui/definitions", "deploy"),
    Section("People", "/ui/admin/people", "manage_people"),
)


@dataclass(frozen=True)
class Item:
    label: str
    href: str
    current: bool


def _shown(principal: Principal) -> list[Section]:
    return [section for section in SECTIONS
            if section.action is None or principal.has(*policy.ACTIONS.get(section.action, ()))]


HOMES = ("/ui/inbox", "/ui/definitions", "/ui/admin/people", "/ui/cases", "/ui/registers")
"""Where a person lands after signing in, the first they may open: their inbox, or for someone
who has no tasks their own work (a designer's definitions, an administrator's people)."""


def home(principal: Principal) -> str:
    shown = {section.href for section in _shown(principal)}
    return next((href for href in HOMES if href in shown), "/ui/sessions")


def items(principal: Principal, path: str) -> list[Item]:
    """The sections `principal` may open, the one holding `path` marked current."""
    shown = _shown(principal)
    current = max((section for section in shown if path.startswith(section.href)),
                  key=lambda section: len(section.href), default=None)
    return [Item(section.label, section.href, section is current) for section in shown]
