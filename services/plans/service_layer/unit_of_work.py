from __future__ import annotations

from runtime.db import UnitOfWork
from services.plans.adapters.orm import start_mappers
from services.plans.adapters.repository import DirectoryRepository


class PlansUnitOfWork(UnitOfWork):
    directory: DirectoryRepository

    async def __aenter__(self) -> "PlansUnitOfWork":
        start_mappers()
        await super().__aenter__()
        self.directory = DirectoryRepository(self.session)
        return self
