from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.awards.domain.model import UnitStanding


class AwardsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def standing(self, unit_id: str, period: str) -> UnitStanding | None:
        return await self.session.get(UnitStanding, (unit_id, period))

    def add(self, standing: UnitStanding) -> None:
        self.session.add(standing)
