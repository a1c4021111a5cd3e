"""The backlog gauges every service exposes on /metrics (runtime/metrics.py, Runtime.refresh_gauges):
consumer lag and messages awaiting an ack, dead-letter depth, outbox backlog and its oldest row's
age, reminders due — read from a running service, against what JetStream and the database say."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import aiohttp
from prometheus_client import REGISTRY

from contracts import naming
from runtime.db import outbox
from runtime.scheduler import reminders
from tests.integration.test_reliability import SUBJECT, submitted_event
from tests.support import running


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_backlog_gauges(nc, nats_server, make_db_url):  # type: ignore[no-untyped-def]
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        # Hold everything that would work the backlogs off (relay, consumers, scheduler, the gauges'
        # own loop): what is put in below stays, and the gauges are read once, here.
        for task in rt._tasks:
            task.cancel()
        await asyncio.gather(*rt._tasks, return_exceptions=True)
        durable = naming.durable_name("awards", "reports")
        js = nc.jetstream()
        for i in range(3):
            await js.publish(SUBJECT, json.dumps(submitted_event(i)).encode())
        for _ in range(2):
            await js.publish(naming.dlq_subject("awards", durable), b"{}", headers={"Congdoan-Parked-Reason": "test"})
        await js.publish(naming.replay_subject("awards", durable), b"{}")  # a replay ask, not a dead letter
        now = rt.clock.now()
        async with rt.engine.begin() as conn:
            await conn.execute(outbox.insert().values(
                event_id=str(uuid.uuid4()), type="vn.congdoan.awards.test.v1", subject="congdoan.evt.awards.test.v1",
                payload="{}", created_at=now - timedelta(minutes=2)))
            await conn.execute(reminders.insert(), [
                {"key": "due", "kind": "test", "due_at": now - timedelta(hours=1), "payload": {}, "cancelled": False},
                {"key": "later", "kind": "test", "due_at": now + timedelta(hours=1), "payload": {}, "cancelled": False},
                {"key": "off", "kind": "test", "due_at": now - timedelta(hours=1), "payload": {}, "cancelled": True}])

        await rt.refresh_gauges()

        info = await js.consumer_info(naming.stream_name("reports"), durable)
        assert gauge("congdoan_consumer_lag", service="awards", consumer=durable) == info.num_pending
        assert gauge("congdoan_consumer_ack_pending", service="awards", consumer=durable) == info.num_ack_pending
        # A pull the cancelled consumer had asked for may have taken some: delivered, not acked.
        assert info.num_pending + info.num_ack_pending == 3
        assert gauge("congdoan_dead_letters", service="awards", consumer=durable) == 2
        assert gauge("congdoan_dead_letters", service="awards", consumer=naming.durable_name("awards", "plans")) == 0
        assert gauge("congdoan_outbox_pending", service="awards") == 1
        age = gauge("congdoan_outbox_oldest_age_seconds", service="awards")
        assert age is not None and 120 <= age < 180
        assert gauge("congdoan_reminders_due", service="awards") == 1

        async with aiohttp.ClientSession() as http:  # and they are what /metrics serves
            async with http.get(f"http://127.0.0.1:{rt.settings.http_port}/metrics") as resp:
                text = await resp.text()
        assert f'congdoan_dead_letters{{consumer="{durable}",service="awards"}} 2.0' in text
        assert 'congdoan_reminders_due{service="awards"} 1.0' in text
        async with rt.engine.begin() as conn:  # the relay's last pass at stop would try it for 5 s
            await conn.execute(outbox.delete())
