"""Who is acting: passed into services explicitly, so services never read `request` or `g`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    id: int | None
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    department_id: int | None = None
    ip: str | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)

    def has_role(self, *names: str) -> bool:
        return bool(self.roles.intersection(names))

    def can(self, permission: str) -> bool:
        return "Admin" in self.roles or permission in self.permissions


SYSTEM = Actor(id=None, username="system", roles=frozenset({"Admin"}))
