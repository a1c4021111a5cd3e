"""The operator's dead-letter tool against a real nats-server with congdoan's permissions: a
message a service parked is listed and shown, replayed — the service takes it back from the
dead-letter stream and handles it once — and discarded or purged on the record; a replay ask can
only make a consumer retry what it parked itself."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa

from contracts import naming
from runtime.dlqctl import DeadLetters, kind, parser, run
from runtime.errors import PermanentError
from tests.conftest import wait_until
from tests.integration.test_reliability import SUBJECT, SUBMITTED, submitted_event
from tests.support import TEST_NATS, connect_as, running

DURABLE = "awards-from-reports"


async def dlqctl(*argv: str) -> str:
    out = io.StringIO()
    assert await run(parser().parse_args(["--by", "chi.lan@ops", *argv]), out=out) == 0
    return out.getvalue()


async def inbox_has(rt, event_id: str) -> bool:  # type: ignore[no-untyped-def]
    async with rt.engine.connect() as conn:
        n = (await conn.execute(sa.text("SELECT count(*) FROM inbox WHERE consumer = :c AND event_id = :e"),
                                {"c": DURABLE, "e": event_id})).scalar_one()
    return int(n) == 1


@pytest.fixture
def as_operator(monkeypatch: pytest.MonkeyPatch, nats_server) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CONGDOAN_NATS_CREDS", str(TEST_NATS.seed_path("operator")))
    monkeypatch.setenv("NATS_URL", nats_server.url)


async def test_parked_listed_shown_replayed_once(nc, nats_server, tmp_path, as_operator):
    db = f"sqlite+aiosqlite:///{tmp_path / 'awards.db'}"
    async with running("awards", nats_server.url, db) as rt:
        consumer = next(c for c in rt.consumers if c.durable == DURABLE)
        real = consumer.sub.handlers[SUBMITTED]
        calls: list[str] = []

        async def refuse_once(event, uow):  # type: ignore[no-untyped-def]
            calls.append(event.id)
            if len(calls) == 1:
                raise PermanentError("đơn vị chưa có trong danh bạ")
            await real(event, uow)

        consumer.sub.handlers[SUBMITTED] = refuse_once
        reports = await connect_as(nats_server.url, "reports")
        try:
            ev = submitted_event(7)
            await reports.jetstream().publish(SUBJECT, json.dumps(ev).encode(), headers={"Nats-Msg-Id": ev["id"]})
        finally:
            await reports.close()
        dl = DeadLetters(nc.jetstream())
        await wait_until(lambda: _count(dl.parked(), 1), what="the refused event parked")
        (p,) = await dl.parked()

        listed = await dlqctl("list")
        assert DURABLE in listed and SUBMITTED in listed and "đơn vị chưa có trong danh bạ" in listed
        assert "1 parked" in listed
        shown = await dlqctl("show", str(p.seq))
        assert ev["id"] in shown and "Congdoan-Parked-Reason" in shown and '"unit_id": "g7"' in shown

        replayed = await dlqctl("replay", str(p.seq))
        assert f"asked {DURABLE} to take back {p.seq}" in replayed
        await wait_until(lambda: inbox_has(rt, ev["id"]), what="the replayed event handled")
        assert calls == [ev["id"], ev["id"]]
        # handled once: asking again is a no-op for the inbox, and the list moves it aside
        await dlqctl("replay", str(p.seq))
        await wait_until(lambda: _count(dl.scan(naming.replay_subject("awards", DURABLE)), 2), what="second ask")
        await wait_until(lambda: _acked(nc, DURABLE), what="the second ask taken")
        assert calls == [ev["id"], ev["id"]] and len(await dl.parked()) == 1  # the inbox knew it: no third call
        listed = await dlqctl("list")
        assert "0 parked (1 replayed, shown with --all)" in listed
        assert "replayed by chi.lan@ops" in await dlqctl("list", "--all")

        await dlqctl("discard", str(p.seq))
        assert await dl.parked() == []
        log = [json.loads(line) for line in (await dlqctl("log")).splitlines()]
        assert [(e["action"], e["by"]) for e in log] == [("replay", "chi.lan@ops")] * 2 + [("discard", "chi.lan@ops")]


async def test_a_replay_ask_retries_only_what_that_consumer_parked(nc, nats_server, tmp_path, as_operator):
    """A message parked by notify, asked back through awards' replay subject, is left alone; a
    message that fails again is parked again, pointing at the one it replayed."""
    db = f"sqlite+aiosqlite:///{tmp_path / 'awards.db'}"
    async with running("awards", nats_server.url, db) as rt:
        consumer = next(c for c in rt.consumers if c.durable == DURABLE)

        async def refuse(event, uow):  # type: ignore[no-untyped-def]
            raise PermanentError("luôn từ chối")

        consumer.sub.handlers[SUBMITTED] = refuse
        notify = await connect_as(nats_server.url, "notify")
        try:  # as if notify had parked it
            await notify.jetstream().publish(naming.dlq_subject("notify", "notify-from-reports"),
                                             json.dumps(submitted_event(8)).encode(),
                                             headers={"Congdoan-Original-Subject": SUBJECT, "Congdoan-Parked-Reason": "x"})
        finally:
            await notify.close()
        dl = DeadLetters(nc.jetstream())
        (other,) = await dl.parked("notify-from-reports")
        operator = await connect_as(nats_server.url, "operator")
        try:
            await operator.jetstream().publish(naming.replay_subject("awards", DURABLE), json.dumps({"seq": other.seq}).encode())
        finally:
            await operator.close()
        await wait_until(lambda: _acked(nc, DURABLE), what="the foreign ask dropped")
        assert await dl.parked(DURABLE) == []

        reports = await connect_as(nats_server.url, "reports")
        try:
            await reports.jetstream().publish(SUBJECT, json.dumps(submitted_event(9)).encode())
        finally:
            await reports.close()
        await wait_until(lambda: _count(dl.parked(DURABLE), 1), what="parked")
        (first,) = await dl.parked(DURABLE)
        await dlqctl("replay", "--consumer", DURABLE)
        await wait_until(lambda: _count(dl.parked(DURABLE), 2), what="parked again")
        again = (await dl.parked(DURABLE))[-1]
        assert again.headers["Congdoan-Replay-Of"] == str(first.seq)
        assert again.headers["Congdoan-Replayed-By"] == "chi.lan@ops"
        assert again.data == first.data and again.headers["Congdoan-Original-Subject"] == SUBJECT

        # two parked, and two asks (the foreign one, the replay)
        assert "purged 4 messages" in await dlqctl("purge", "--consumer", DURABLE, "--yes")
        assert await dl.parked(DURABLE) == [] and len(await dl.parked()) == 1  # notify's stays
        assert {kind(p.subject) for p in await dl.scan()} == {"parked", "ops"}


async def _count(awaitable, n: int) -> bool:  # type: ignore[no-untyped-def]
    return len(await awaitable) == n


async def _acked(nc, durable: str) -> bool:  # type: ignore[no-untyped-def]
    info = await nc.jetstream().consumer_info(naming.DLQ_STREAM, f"{durable}-replay")
    return info.num_pending == 0 and info.num_ack_pending == 0
