"""Events produced by the plans service (the organisation directory and plans)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from contracts.types import Code, Email, Id, Model, Role, Text, UnitKind


class UnitRegistered(Model):
    """A union unit entered the directory."""

    unit_id: Id
    code: Code
    name: Text
    kind: UnitKind
    parent_id: Id | None = None
    effective_from: date


class PersonRegistered(Model):
    """A person (cadre, member…) entered the directory, with roles and contacts."""

    person_id: Id
    unit_id: Id
    full_name: Text
    roles: list[Role] = Field(default_factory=list, max_length=10)
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=32)
