from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.reports.domain.model import DirectoryUnit, Report


class ReportsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unit(self, unit_id: str) -> DirectoryUnit | None:
        return await self.session.get(DirectoryUnit, unit_id)

    async def upsert_unit(self, unit: DirectoryUnit) -> None:
        await self.session.merge(unit)

    async def get(self, report_id: str) -> Report | None:
        return await self.session.get(Report, report_id)

    async def for_unit(self, requirement_id: str, period: str, unit_id: str) -> Report | None:
        q = sa.select(Report).where(Report.requirement_id == requirement_id, Report.period == period,  # type: ignore[arg-type]
                                    Report.unit_id == unit_id)  # type: ignore[arg-type]
        return (await self.session.execute(q)).scalar_one_or_none()

    def add(self, report: Report) -> None:
        self.session.add(report)
