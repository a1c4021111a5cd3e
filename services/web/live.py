"""Live notices: notify's `notifications.created` events name the people with something new in
their inbox; every open page of those people (an EventSource on /live) is woken and reads what
is new through the API with its own token. The event says only who and which ids — the text
of a notice never travels outside the person's own request.

A core NATS subscription on the event's subject (JetStream publishes reach plain subscribers
too): nothing to acknowledge or replay — a page that was closed reads its inbox when it opens.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any

from contracts.catalogue import EVENTS_BY_MODEL
from contracts.events.notify import NotificationsCreated
from runtime.logging import get_logger

log = get_logger("web.live")

SUBJECT = EVENTS_BY_MODEL[NotificationsCreated].subject
CLOSE = object()


class LiveHub:
    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Any]]] = defaultdict(set)
        self._sub: Any = None
        self.closed = False
        self.events = 0

    async def start(self, nc: Any) -> None:
        self._sub = await nc.subscribe(SUBJECT, cb=self._on_message)

    async def stop(self) -> None:
        self.close()
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:
                pass

    def close(self) -> None:
        """Ends every open stream (the server is stopping)."""
        self.closed = True
        for queues in self._queues.values():
            for q in queues:
                q.put_nowait(CLOSE)

    def listen(self, person_id: str) -> asyncio.Queue[Any]:
        q: asyncio.Queue[Any] = asyncio.Queue(maxsize=100)
        self._queues[person_id].add(q)
        return q

    def forget(self, person_id: str, q: asyncio.Queue[Any]) -> None:
        queues = self._queues.get(person_id)
        if queues is not None:
            queues.discard(q)
            if not queues:
                self._queues.pop(person_id, None)

    @property
    def listeners(self) -> int:
        return sum(len(v) for v in self._queues.values())

    def notify(self, person_ids: set[str] | list[str], ids: list[str] | None = None) -> int:
        woken = 0
        for pid in person_ids:
            for q in list(self._queues.get(pid, ())):
                try:
                    q.put_nowait(ids or [])
                    woken += 1
                except asyncio.QueueFull:  # a page that does not read: it gets the rest on reload
                    pass
        return woken

    async def _on_message(self, msg: Any) -> None:
        try:
            event = json.loads(msg.data)
            data = NotificationsCreated.model_validate(event.get("data") or {})
        except Exception as exc:
            log.warning("unreadable notifications.created event", error=repr(exc)[:200])
            return
        self.events += 1
        by_person: dict[str, list[str]] = defaultdict(list)
        for item in data.items:
            by_person[item.recipient_id].append(item.notification_id)
        for pid, ids in by_person.items():
            self.notify([pid], ids)
