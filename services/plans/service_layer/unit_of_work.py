from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from runtime.db import UnitOfWork, outbox
from services.plans.adapters.repository import (
    DirectoryRepository,
    ImportRepository,
    IndividualPlanRepository,
    PlanRepository,
    ReminderRepository,
    TaskRepository,
)


class PlansUnitOfWork(UnitOfWork):
    directory: DirectoryRepository
    plans: PlanRepository
    tasks: TaskRepository
    individual: IndividualPlanRepository
    imports: ImportRepository
    reminders: ReminderRepository

    async def __aenter__(self) -> "PlansUnitOfWork":
        await super().__aenter__()
        self.directory = DirectoryRepository(self.session)
        self.plans = PlanRepository(self.session)
        self.tasks = TaskRepository(self.session)
        self.individual = IndividualPlanRepository(self.session)
        self.imports = ImportRepository(self.session)
        self.reminders = ReminderRepository(self.session)
        return self

    async def emit_many(self, type_: str, events: list[tuple[BaseModel, str | None]]) -> int:
        """`emit` for many events of one type at once (one multi-row insert per 500): a cascade
        records one tasks.assigned per unit, thousands in one transaction."""
        from contracts.envelope import build_event
        from contracts.naming import subject_for_type

        now = self.now()
        rows: list[dict[str, Any]] = []
        for data, subject in events:
            ev = build_event(type_=type_, source=self._source, data=data, time=now, subject=subject)
            rows.append({"event_id": ev["id"], "type": type_, "subject": subject_for_type(type_),
                         "payload": json.dumps(ev, ensure_ascii=False, separators=(",", ":")), "created_at": now,
                         "attempts": 0})
        for i in range(0, len(rows), 500):
            await self.session.execute(outbox.insert(), rows[i:i + 500])
        self._emitted += len(rows)
        return len(rows)
