"""The organisation directory: union units and people. Plain Python, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from contracts.types import Role, UnitKind
from runtime import errors


class DirectoryError(errors.Invalid):
    """A rule of the directory was broken (422; the message is Vietnamese)."""


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


# A unit kind as a person reads it, in the middle of a sentence.
KIND_LABELS: dict[str, str] = {
    UnitKind.NATIONAL_FEDERATION: "Tổng Liên đoàn Lao động Việt Nam",
    UnitKind.PROVINCIAL_FEDERATION: "liên đoàn lao động tỉnh",
    UnitKind.DEPARTMENT: "ban",
    UnitKind.AFFILIATED_UNIT: "đơn vị sự nghiệp trực thuộc",
    UnitKind.UPPER_LEVEL_UNION: "công đoàn cấp trên cơ sở",
    UnitKind.GRASSROOTS_UNION: "công đoàn cơ sở",
    UnitKind.EXTERNAL_BODY: "cơ quan ngoài hệ thống công đoàn",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def parent_problem(kind: str, parent_kind: str | None) -> str | None:
    """Why a unit of `kind` cannot sit under a unit of `parent_kind`, in Vietnamese (None: it can)."""
    allowed = ALLOWED_PARENTS.get(kind, set())
    if parent_kind in allowed:
        return None
    label = kind_label(kind)
    label = label[:1].upper() + label[1:]
    if parent_kind is None:
        return f"{label} phải trực thuộc một đơn vị cấp trên."
    if allowed == {None}:
        return f"{label} không trực thuộc đơn vị nào, nên không thể đặt dưới {kind_label(parent_kind)}."
    return f"{label} không thể trực thuộc {kind_label(parent_kind)}."


def check_parent(kind: str, parent_kind: str | None, field: str = "parent_id") -> None:
    problem = parent_problem(kind, parent_kind)
    if problem:
        raise DirectoryError(problem, field)


__all__ = ["Unit", "Person", "DirectoryError", "check_parent", "parent_problem", "kind_label", "KIND_LABELS",
           "ALLOWED_PARENTS", "Role"]
