from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from runtime.db import UnitOfWork, outbox
from services.notify.adapters.repository import NotifyRepository
from services.notify.domain.model import Notice

Hook = Callable[["NotifyUnitOfWork"], Awaitable[None]]


class NotifyUnitOfWork(UnitOfWork):
    """The runtime's unit of work, plus what a consumer batch gathers before it commits: event
    handlers stage notices; `commit()` first runs the hooks that resolve and record them for the
    whole batch at once (set-based), then commits everything with the batch's inbox rows."""

    notify: NotifyRepository
    staged: list[Notice]
    batch_events: int

    async def __aenter__(self) -> "NotifyUnitOfWork":
        await super().__aenter__()
        self.notify = NotifyRepository(self.session)
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

    async def emit_many(self, type_: str, items: list[tuple[BaseModel, str | None]]) -> None:
        """Record many events in the outbox with one statement (`emit()` does one at a time)."""
        if not items:
            return
        from contracts.envelope import build_event
        from contracts.naming import subject_for_type

        now = self.now()
        subject = subject_for_type(type_)
        rows: list[dict[str, Any]] = []
        for data, ce_subject in items:
            ev = build_event(type_=type_, source=self._source, data=data, time=now, subject=ce_subject)
            rows.append(dict(event_id=ev["id"], type=type_, subject=subject, created_at=now, attempts=0,
                             payload=json.dumps(ev, ensure_ascii=False, separators=(",", ":"))))
        for i in range(0, len(rows), 1000):
            await self.session.execute(outbox.insert(), rows[i:i + 1000])
        self._emitted += len(rows)
