from __future__ import annotations

import json
from typing import Any

from contracts.envelope import build_event
from contracts.naming import subject_for_type
from runtime.db import UnitOfWork, outbox
from runtime.directory import Directory
from services.reports.adapters.repository import (
    ConsolidationsRepository,
    FormsRepository,
    HierarchyQueries,
    ReportsRepository,
    RequirementsRepository,
)

# Prebuilt: `outbox.insert().values(...)` per event costs a statement build and a cache-key walk
# (~0.3 ms), a sizeable share of a submission.
_OUTBOX_INSERT = outbox.insert()


class ReportsUnitOfWork(UnitOfWork):
    reports: ReportsRepository
    requirements: RequirementsRepository
    forms: FormsRepository
    consolidations: ConsolidationsRepository
    hierarchy: HierarchyQueries
    directory: Directory

    async def __aenter__(self) -> "ReportsUnitOfWork":
        await super().__aenter__()
        s = self.session
        self.reports = ReportsRepository(s)
        self.requirements = RequirementsRepository(s)
        self.forms = FormsRepository(s)
        self.consolidations = ConsolidationsRepository(s)
        self.hierarchy = HierarchyQueries(s)
        self.directory = Directory(s)
        return self

    async def emit(self, type_: str, data: Any, *, subject: str | None = None, event_id: str | None = None) -> str:
        """runtime.db.UnitOfWork.emit with a prebuilt statement on the transaction's connection;
        the same outbox row."""
        now = self._now()
        ev = build_event(type_=type_, source=self._source, data=data, time=now, subject=subject, id_=event_id)
        conn = await self.reports.conn()
        await conn.execute(_OUTBOX_INSERT, {
            "event_id": ev["id"], "type": type_, "subject": subject_for_type(type_),
            "payload": json.dumps(ev, ensure_ascii=False, separators=(",", ":")), "created_at": now, "attempts": 0})
        self._emitted += 1
        return str(ev["id"])

    async def emit_many(self, type_: str, items: list[tuple[Any, str | None, str | None]]) -> int:
        """Many events of one type in a few statements (a reminder fans out to thousands of units):
        (data, CloudEvent subject, event id) each; the same outbox rows as `emit`."""
        if not items:
            return 0
        now, nats_subject = self._now(), subject_for_type(type_)
        rows = []
        for data, subject, event_id in items:
            ev = build_event(type_=type_, source=self._source, data=data, time=now, subject=subject, id_=event_id)
            rows.append({"event_id": ev["id"], "type": type_, "subject": nats_subject, "created_at": now,
                         "attempts": 0, "payload": json.dumps(ev, ensure_ascii=False, separators=(",", ":"))})
        conn = await self.reports.conn()
        for i in range(0, len(rows), 1000):
            await conn.execute(_OUTBOX_INSERT, rows[i:i + 1000])
        self._emitted += len(rows)
        return len(rows)
