from __future__ import annotations

from runtime.db import UnitOfWork
from services.notify.adapters.orm import start_mappers
from services.notify.adapters.repository import NotifyRepository


class NotifyUnitOfWork(UnitOfWork):
    notify: NotifyRepository

    async def __aenter__(self) -> "NotifyUnitOfWork":
        start_mappers()
        await super().__aenter__()
        self.notify = NotifyRepository(self.session)
        return self
