from __future__ import annotations

from runtime.db import UnitOfWork
from services.awards.adapters.orm import start_mappers
from services.awards.adapters.repository import AwardsRepository


class AwardsUnitOfWork(UnitOfWork):
    awards: AwardsRepository

    async def __aenter__(self) -> "AwardsUnitOfWork":
        start_mappers()
        await super().__aenter__()
        self.awards = AwardsRepository(self.session)
        return self
