"""kill -9 of the notify process in the middle of delivering e-mail and webhooks: after a restart,
every (event, recipient, channel) reached its receiver exactly once by its dedupe key (Message-ID,
Idempotency-Key), and was recorded sent exactly once.

SMTP and HTTP are at-least-once: what the server accepted just before the kill, and the process had
not yet marked sent, goes again after the lease — with the same Message-ID / Idempotency-Key, which
the receivers here (like a mail store) use to drop the repeat. The test reports how many repeats
there were; the records and events count each delivery once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from runtime.launcher import Stack, free_port
from services.notify.mailcatcher import CatcherServer, MailStore
from tests.conftest import wait_until
from tests.integration.test_notify import FAST, WebhookSink, deadline, notify_events, person, publish, set_webhook, unit
from tests.support import TEST_NATS, auth_env

UNITS, EVENTS_PER_UNIT = 40, 3  # 2 contacts a unit: 240 notifications, 240 e-mails, 240 webhook calls


async def test_kill_9_mid_delivery_sends_each_email_and_webhook_once(nc, nats_server, make_db_url, tmp_path: Path):
    js = nc.jetstream()
    store = MailStore(delay_s=0.02)
    smtp = CatcherServer(store, port=0)
    await smtp.start()
    hooks = WebhookSink()
    hooks.delay_s = 0.02
    await hooks.start(js)
    db = await make_db_url("notify")
    env = {**FAST, **auth_env(), "CONGDOAN_NOTIFY_SMTP_URL": smtp.url, "CONGDOAN_NOTIFY_LEASE_S": "1.5",
           "CONGDOAN_NOTIFY_SMTP_CONNECTIONS": "4", "CONGDOAN_NOTIFY_WEBHOOK_CONCURRENCY": "4",
           "CONGDOAN_NOTIFY_BATCH": "50", "CONGDOAN_LOG_LEVEL": "WARNING"}
    stack = Stack(data_dir=tmp_path / "var", nats_url=nats_server.url, nats_secrets=TEST_NATS.folder, services=("notify",),
                  http_ports={"notify": free_port()}, database_urls={"notify": db}, env=env, log_dir=tmp_path / "logs")
    engine = create_async_engine(db)

    async def count(sql: str) -> int:
        async with engine.connect() as conn:
            return int((await conn.execute(sa.text(sql))).scalar_one())

    def reaches(sql: str, n: int) -> Any:
        async def check() -> bool:
            return await count(sql) >= n
        return check

    try:
        await asyncio.to_thread(stack.start, 60)
        for u in range(UNITS):
            await unit(js, f"g{u}", f"Công đoàn cơ sở số {u}")
            for r, role in enumerate(("chairperson", "cadre")):
                await person(js, f"p{u}-{r}", f"g{u}", f"Cán bộ {u}-{r}", [role], f"p{u}-{r}@example.org")
        await wait_until(reaches("SELECT count(*) FROM dir_people", UNITS * 2), what="the directory projected")
        for u in range(UNITS):
            for r in range(2):
                await set_webhook(nc, hooks, f"p{u}-{r}")
        for u in range(UNITS):
            for k in range(EVENTS_PER_UNIT):
                await publish(js, "vn.congdoan.plans.deadline.approaching.v1", deadline(u * 10 + k, f"g{u}"))
        expected = UNITS * EVENTS_PER_UNIT * 2

        await wait_until(lambda: _at_least(lambda: min(store.accepted, len(hooks.received)), 40), timeout=60,
                         what="deliveries under way")
        stack.kill("notify")  # kill -9, sends in flight and results not yet written down
        at_kill = (store.accepted, len(hooks.received), await count("SELECT count(*) FROM deliveries WHERE status = 'sent'"))
        assert at_kill[0] < expected and at_kill[1] < expected, f"the kill came too late: {at_kill}"
        await asyncio.to_thread(stack.restart, "notify", 60)

        await wait_until(reaches("SELECT count(*) FROM deliveries WHERE status = 'sent'", 2 * expected), timeout=90,
                         what=f"{2 * expected} deliveries sent")
        assert await count("SELECT count(*) FROM notifications") == expected
        assert await count("SELECT count(*) FROM deliveries") == 2 * expected
        assert await count("SELECT count(*) FROM deliveries WHERE status <> 'sent'") == 0
        # exactly once by the dedupe key: every Message-ID and Idempotency-Key, once
        assert len(store.ids) == store.accepted == expected
        assert len(hooks.received) == expected and hooks.bad_signatures == 0
        await wait_until(lambda: _zero(count("SELECT count(*) FROM outbox WHERE published_at IS NULL")),
                         what="notify's outbox relayed")
        sent = [e["data"] for e in await notify_events(js) if e["type"].endswith("notification.sent.v1")]
        assert len(sent) == len({(s["notification_id"], s["channel"]) for s in sent}) == 2 * expected
        print(f"\nkill -9 after {at_kill[0]} e-mails / {at_kill[1]} webhooks accepted ({at_kill[2]} marked sent); "
              f"repeats dropped by key after the restart: {store.duplicates} e-mails, {hooks.duplicates} webhooks")
    finally:
        await asyncio.to_thread(stack.stop)
        await engine.dispose()
        await smtp.stop()
        await hooks.stop()


async def _at_least(value: Any, n: int) -> bool:
    return value() >= n


async def _zero(n: Any) -> bool:
    return await n == 0
