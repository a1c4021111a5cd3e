"""Use cases of the plans service: plain async functions taking a command and a unit of work."""

from __future__ import annotations

import uuid

from contracts.api import plans as api
from contracts.events import plans as ev
from runtime.errors import ApiError, conflict, not_found
from contracts.api.common import ErrorCode
from services.plans.domain.model import DirectoryError, Person, Unit, check_parent
from services.plans.service_layer.unit_of_work import PlansUnitOfWork

UNIT_REGISTERED = "vn.congdoan.plans.unit.registered.v1"
PERSON_REGISTERED = "vn.congdoan.plans.person.registered.v1"


def _unit_reply(u: Unit) -> api.UnitReply:
    return api.UnitReply(unit_id=u.unit_id, code=u.code, name=u.name, kind=u.kind, parent_id=u.parent_id,
                         effective_from=u.effective_from)


async def register_unit(cmd: api.RegisterUnit, uow: PlansUnitOfWork) -> api.UnitReply:
    async with uow:
        unit = Unit(unit_id=cmd.unit_id or f"u-{uuid.uuid4().hex[:12]}", code=cmd.code, name=cmd.name,
                    kind=cmd.kind.value, parent_id=cmd.parent_id, effective_from=cmd.effective_from or uow.now().date())
        existing = await uow.directory.get_unit(unit.unit_id)
        if existing is not None:
            if existing.same_as(unit):
                return _unit_reply(existing)  # a retry: same answer, no second event
            raise conflict(f"unit {unit.unit_id} exists with other details")
        if await uow.directory.unit_by_code(unit.code) is not None:
            raise conflict(f"unit code {unit.code!r} is taken", [{"field": "code", "message": "already used"}])
        parent = None
        if unit.parent_id:
            parent = await uow.directory.get_unit(unit.parent_id)
            if parent is None:
                raise not_found(f"parent unit {unit.parent_id}")
        try:
            check_parent(unit.kind, parent)
        except DirectoryError as exc:
            raise ApiError(ErrorCode.VALIDATION, str(exc), [{"field": "parent_id", "message": str(exc)}]) from None
        uow.directory.add_unit(unit)
        await uow.emit(UNIT_REGISTERED, ev.UnitRegistered(
            unit_id=unit.unit_id, code=unit.code, name=unit.name, kind=unit.kind, parent_id=unit.parent_id,
            effective_from=unit.effective_from), subject=unit.unit_id)
        await uow.commit()
        return _unit_reply(unit)


def _person_reply(p: Person) -> api.PersonReply:
    return api.PersonReply(person_id=p.person_id, unit_id=p.unit_id, full_name=p.full_name, roles=p.roles,
                           email=p.email, phone=p.phone)


async def register_person(cmd: api.RegisterPerson, uow: PlansUnitOfWork) -> api.PersonReply:
    async with uow:
        person = Person(person_id=cmd.person_id or f"p-{uuid.uuid4().hex[:12]}", unit_id=cmd.unit_id,
                        full_name=cmd.full_name, roles=[r.value for r in cmd.roles], email=cmd.email, phone=cmd.phone)
        existing = await uow.directory.get_person(person.person_id)
        if existing is not None:
            if (existing.unit_id, existing.full_name, existing.roles, existing.email) == (
                    person.unit_id, person.full_name, person.roles, person.email):
                return _person_reply(existing)
            raise conflict(f"person {person.person_id} exists with other details")
        if await uow.directory.get_unit(person.unit_id) is None:
            raise not_found(f"unit {person.unit_id}")
        uow.directory.add_person(person)
        await uow.emit(PERSON_REGISTERED, ev.PersonRegistered(
            person_id=person.person_id, unit_id=person.unit_id, full_name=person.full_name, roles=person.roles,
            email=person.email, phone=person.phone), subject=person.person_id)
        await uow.commit()
        return _person_reply(person)
