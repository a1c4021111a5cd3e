"""Requests served by the plans service."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from contracts.spec import EndpointSpec
from contracts.types import Code, Email, Id, Model, Role, Text, UnitKind


class RegisterUnit(Model):
    unit_id: Id | None = Field(default=None, description="chosen by the caller for idempotent retries; minted when absent")
    code: Code
    name: Text
    kind: UnitKind
    parent_id: Id | None = None
    effective_from: date | None = Field(default=None, description="defaults to today (Asia/Ho_Chi_Minh)")


class UnitReply(Model):
    unit_id: Id
    code: Code
    name: Text
    kind: UnitKind
    parent_id: Id | None
    effective_from: date


class RegisterPerson(Model):
    person_id: Id | None = None
    unit_id: Id
    full_name: Text
    roles: list[Role] = Field(default_factory=list, max_length=10)
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=32)


class PersonReply(Model):
    person_id: Id
    unit_id: Id
    full_name: Text
    roles: list[Role]
    email: Email | None
    phone: str | None


ENDPOINTS = (
    EndpointSpec("plans", "register_unit", RegisterUnit, UnitReply, "Register a union unit."),
    EndpointSpec("plans", "register_person", RegisterPerson, PersonReply, "Register a person with roles and contacts."),
)
CONSUMES: tuple[str, ...] = ()
