from __future__ import annotations

from runtime.db import UnitOfWork
from services.reports.adapters.orm import start_mappers
from services.reports.adapters.repository import ReportsRepository


class ReportsUnitOfWork(UnitOfWork):
    reports: ReportsRepository

    async def __aenter__(self) -> "ReportsUnitOfWork":
        start_mappers()
        await super().__aenter__()
        self.reports = ReportsRepository(self.session)
        return self
