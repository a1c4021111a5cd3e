from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from runtime.db import UnitOfWork
from runtime.directory import Directory
from services.notify.adapters.repository import NotifyRepository
from services.notify.domain.model import Notice

# A hook's result, if any, is not used.
Hook = Callable[["NotifyUnitOfWork"], Awaitable[Any]]


class NotifyUnitOfWork(UnitOfWork):
    """The runtime's unit of work, plus what a consumer batch gathers before it commits: event
    handlers stage notices; `commit()` first runs the hooks that resolve and record them for the
    whole batch at once (set-based), then commits everything with the batch's inbox rows."""

    notify: NotifyRepository
    directory: Directory
    staged: list[Notice]
    batch_events: int

    async def __aenter__(self) -> NotifyUnitOfWork:
        await super().__aenter__()
        self.notify = NotifyRepository(self.session)
        self.directory = Directory(self.session)
        self.staged = []
        self.batch_events = 0  # events of the consumer batch that notify someone (entry point's count)
        self._hooks: dict[str, Hook] = {}
        self._after: dict[str, Callable[[], None]] = {}
        return self

    def before_commit(self, name: str, hook: Hook) -> None:
        """Run `hook` once before the next commit (registering the same name again is a no-op)."""
        self._hooks.setdefault(name, hook)

    async def flush_staged(self) -> None:
        while self._hooks:
            name = next(iter(self._hooks))
            hook = self._hooks.pop(name)
            await hook(self)

    def after_commit(self, name: str, callback: Callable[[], None]) -> None:
        """Call `callback` once after the next successful commit."""
        self._after.setdefault(name, callback)

    async def commit(self) -> None:
        await self.flush_staged()
        await super().commit()
        after, self._after = self._after, {}
        for callback in after.values():
            callback()

    async def rollback(self) -> None:
        self.staged = []
        self._hooks.clear()
        self._after.clear()
        await super().rollback()

