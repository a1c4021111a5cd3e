"""The organisation directory: union units and people. Plain Python, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from contracts.types import Role, UnitKind


class DirectoryError(Exception):
    """A rule of the directory was broken."""


@dataclass
class Unit:
    unit_id: str
    code: str
    name: str
    kind: str
    parent_id: str | None
    effective_from: date

    def same_as(self, other: Unit) -> bool:
        return (self.code, self.name, self.kind, self.parent_id) == (other.code, other.name, other.kind, other.parent_id)


@dataclass
class Person:
    person_id: str
    unit_id: str
    full_name: str
    roles: list[str] = field(default_factory=list)
    email: str | None = None
    phone: str | None = None


# Which kinds may sit under which (a grassroots union never has children; departments belong to
# a federation). Kept permissive where the real hierarchy varies.
ALLOWED_PARENTS: dict[str, set[str | None]] = {
    UnitKind.NATIONAL_FEDERATION: {None},
    UnitKind.PROVINCIAL_FEDERATION: {None, UnitKind.NATIONAL_FEDERATION},
    UnitKind.DEPARTMENT: {UnitKind.PROVINCIAL_FEDERATION, UnitKind.NATIONAL_FEDERATION},
    UnitKind.AFFILIATED_UNIT: {UnitKind.PROVINCIAL_FEDERATION},
    UnitKind.UPPER_LEVEL_UNION: {UnitKind.PROVINCIAL_FEDERATION},
    UnitKind.GRASSROOTS_UNION: {UnitKind.PROVINCIAL_FEDERATION, UnitKind.UPPER_LEVEL_UNION},
    UnitKind.EXTERNAL_BODY: {None},
}


def parent_problem(kind: str, parent_kind: str | None) -> str | None:
    """Why a unit of `kind` cannot sit under a unit of `parent_kind` (None: it can)."""
    if parent_kind not in ALLOWED_PARENTS.get(kind, set()):
        return f"a {kind} cannot be placed under {parent_kind or 'nothing'}"
    return None


def check_parent(kind: str, parent: Unit | None) -> None:
    allowed = ALLOWED_PARENTS.get(kind, set())
    parent_kind = parent.kind if parent else None
    if parent_kind not in allowed:
        raise DirectoryError(f"a {kind} cannot be placed under {parent_kind or 'nothing'}")


__all__ = ["Unit", "Person", "DirectoryError", "check_parent", "parent_problem", "ALLOWED_PARENTS", "Role"]
