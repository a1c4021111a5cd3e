from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.domain.model import Person, Unit


class DirectoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_unit(self, unit_id: str) -> Unit | None:
        return await self.session.get(Unit, unit_id)

    async def unit_by_code(self, code: str) -> Unit | None:
        return (await self.session.execute(sa.select(Unit).where(Unit.code == code))).scalar_one_or_none()  # type: ignore[arg-type]

    def add_unit(self, unit: Unit) -> None:
        self.session.add(unit)

    async def get_person(self, person_id: str) -> Person | None:
        return await self.session.get(Person, person_id)

    def add_person(self, person: Person) -> None:
        self.session.add(person)
