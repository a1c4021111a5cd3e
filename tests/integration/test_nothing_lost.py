"""Issue 11, "nothing valid is lost": poison is per message whatever goes wrong decoding it, an
outage pauses consumers instead of parking valid events, parking never fails for size, consumers
read tolerantly and heal. Against a real nats-server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio
import sqlalchemy as sa
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts.streams import EVENT_MAX_MSG_SIZE
from runtime.streams import ensure_streams
from tests.conftest import _create_pg_database, _drop_pg_database, pin_clock, wait_until
from tests.integration.test_reliability import SUBJECT, _consumer_idle, count, dlq_messages, submitted_event
from tests.support import api, call, connect_harness, running, test_nats_server

DEEP = b"[" * 100_000 + b"]" * 100_000  # 200 kB nested 100,000 deep: RecursionError in json.loads


async def _eq(awaitable, n: int) -> bool:  # type: ignore[no-untyped-def]
    return (await awaitable) == n


async def test_a_deep_nested_message_is_parked_alone_and_its_batch_is_applied(nc, nats_server, make_db_url):
    js = nc.jetstream()
    await ensure_streams(js)
    # Everything is in the stream before awards starts, so its first fetch takes them in one batch.
    for i in range(40):
        if i == 20:
            await js.publish(SUBJECT, DEEP, headers={"Nats-Msg-Id": "deep"})
            await js.publish(SUBJECT, b'{"data": ' + DEEP + b"}", headers={"Nats-Msg-Id": "deep-in-data"})
        await js.publish(SUBJECT, json.dumps(submitted_event(i)).encode(), headers={"Nats-Msg-Id": f"ok-{i}"})
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        await wait_until(lambda: _eq(count(rt, "report_facts"), 40), what="all 40 valid events applied")
        await wait_until(lambda: _consumer_idle(js, "CONGDOAN_REPORTS", "awards-from-reports"), what="all acked")
        parked = await dlq_messages(js)
        assert sorted(m.headers["Congdoan-Original-Msg-Id"] for m in parked) == ["deep", "deep-in-data"]
        for m in parked:
            assert m.headers["Congdoan-Parked-Reason"].startswith("malformed: nested deeper than")
            assert m.headers["Congdoan-Deliveries"] == "1"  # parked at once, not after the retries
        assert DEEP in [m.data for m in parked]  # kept byte for byte
        # The same input on a request endpoint: a 400 with a reason, never a 500.
        headers, body = await call(nc, api("awards", "get_eligibility"), DEEP)
        assert headers["Nats-Service-Error-Code"] == "400" and body["error"]["code"] == "bad_request"
        headers, body = await call(nc, api("awards", "get_eligibility"), b'{"unit_id": ' + DEEP + b"}")
        assert headers["Nats-Service-Error-Code"] == "400"
        assert "lồng nhau quá sâu" in body["error"]["message"]


class TcpProxy:
    """A TCP proxy the test controls, between a service and its PostgreSQL: `cut()` closes every
    connection and stops listening (what a stopped database looks like from the service: refused
    connections), `restore()` listens again on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()

    async def restore(self) -> None:
        await self.start()


@pytest_asyncio.fixture
async def pg_through_proxy(postgres_admin_url: str) -> AsyncIterator[tuple[str, TcpProxy]]:
    """A fresh PostgreSQL database, reached through a TcpProxy."""
    db = await _create_pg_database(postgres_admin_url)
    url = sa.engine.make_url(db)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    finally:
        with contextlib.suppress(Exception):
            await proxy.cut()
        await _drop_pg_database(postgres_admin_url, db)


async def test_a_database_outage_pauses_consumers_and_parks_nothing(nc, nats_server, pg_through_proxy):
    db, proxy = pg_through_proxy
    js = nc.jetstream()
    # A short NAK schedule and ack wait: the old behaviour would park every event within a second.
    async with running("awards", nats_server.url, db, max_deliver=3, nak_delay_s=0.05, ack_wait_s=2) as rt:
        for i in range(20):
            await js.publish(SUBJECT, json.dumps(submitted_event(i)).encode())
        await wait_until(lambda: _eq(count(rt, "report_facts"), 20), what="20 facts before the outage")
        await proxy.cut()
        for i in range(20, 50):
            await js.publish(SUBJECT, json.dumps(submitted_event(i)).encode())
        consumer = rt.consumers[0]
        await wait_until(lambda: _true(consumer.paused), what="the consumer to pause")
        # Requests meanwhile: 503 unavailable with a retry hint, not 500.
        headers, body = await call(nc, api("awards", "get_eligibility"), {"unit_id": "g1", "period": "2026"})
        assert headers["Nats-Service-Error-Code"] == "503", (headers, body)
        assert body["error"]["code"] == "unavailable" and headers["Retry-After"].isdigit()
        assert {"field": "", "message": headers["Retry-After"], "type": "retry_after"} in body["error"]["details"]
        await asyncio.sleep(5)  # > twice the ack wait, > the whole NAK schedule
        info = await js.consumer_info("CONGDOAN_REPORTS", "awards-from-reports")
        assert info.num_redelivered == 0, "held in progress: no delivery spent during the outage"
        assert consumer.paused and await dlq_messages(js) == []
        await proxy.restore()
        await wait_until(lambda: _eq(count(rt, "report_facts"), 50), what="all 50 facts after the outage", timeout=30)
        await wait_until(lambda: _consumer_idle(js, "CONGDOAN_REPORTS", "awards-from-reports"), what="all acked")
        assert await dlq_messages(js) == []
        headers, _ = await call(nc, api("awards", "get_eligibility"), {"unit_id": "g1", "period": "2026"})
        assert headers.get("Nats-Service-Error-Code") != "503"


async def _true(value: bool) -> bool:
    return value


async def test_a_locked_sqlite_file_pauses_consumers_too(nc, nats_server, tmp_path):
    """SQLite's outage: another process holds the file's write lock (a backup, an operator's shell)."""
    db = f"sqlite+aiosqlite:///{tmp_path / 'awards.db'}"
    js = nc.jetstream()
    async with running("awards", nats_server.url, db, max_deliver=2, nak_delay_s=0.05) as rt:
        await js.publish(SUBJECT, json.dumps(submitted_event(0)).encode())
        await wait_until(lambda: _eq(count(rt, "report_facts"), 1), what="one fact before the lock")
        other = sqlite3.connect(tmp_path / "awards.db", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            for i in range(1, 6):  # a long timeout: the service's inline SQLite stalls this process's loop
                await js.publish(SUBJECT, json.dumps(submitted_event(i)).encode(), timeout=30)
            # The service's write waits out its busy timeout (5 s), then holds the batch.
            await wait_until(lambda: _true(rt.consumers[0].paused), what="the consumer to pause", timeout=30)
            assert await dlq_messages(js) == []
        finally:
            other.execute("ROLLBACK")
            other.close()
        await wait_until(lambda: _eq(count(rt, "report_facts"), 6), what="all facts after the lock", timeout=30)
        assert await dlq_messages(js) == []
        info = await js.consumer_info("CONGDOAN_REPORTS", "awards-from-reports")
        assert info.num_redelivered == 0


def _padded(n: int, size: int) -> bytes:
    """A report.submitted event of exactly `size` bytes (a padding extension attribute)."""
    ev = submitted_event(n)
    base = len(json.dumps({**ev, "padding": ""}).encode())
    return json.dumps({**ev, "padding": "x" * (size - base)}).encode()


async def test_an_event_at_the_stream_size_limit_is_parked_whole(nc, nats_server, make_db_url):
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")):
        big = _padded(1, EVENT_MAX_MSG_SIZE - 256)  # the largest the event stream takes, with its header
        await js.publish(SUBJECT, big, headers={"Nats-Msg-Id": "big"}, timeout=30)
        await js.publish(SUBJECT, json.dumps(submitted_event(2)).encode())
        await wait_until(lambda: _len_at_least(dlq_messages(js), 1), what="the big event parked", timeout=30)
        [parked] = await dlq_messages(js)
        assert parked.data == big and parked.headers["Congdoan-Parked-Reason"].startswith("oversized")
        assert "Congdoan-Parked-Body" not in parked.headers
        await wait_until(lambda: _consumer_idle(js, "CONGDOAN_REPORTS", "awards-from-reports"), what="all acked")


async def test_an_event_above_what_the_server_carries_with_headers_is_parked_as_a_reference(tmp_path, make_db_url):
    server = test_nats_server(tmp_path / "nats", max_payload=1024 * 1024)  # nats-server's default bound
    server.start()
    nc = await connect_harness(server.url)
    try:
        js = nc.jetstream()
        async with running("awards", server.url, await make_db_url("awards")) as rt:
            await pin_clock(nc)
            big = _padded(1, 1024 * 1024 - 300)  # fits with its own header, not with the parking headers
            ack = await js.publish(SUBJECT, big, headers={"Nats-Msg-Id": "big", "X-Trace": "t1"}, timeout=30)
            await js.publish(SUBJECT, json.dumps(submitted_event(2)).encode())
            await wait_until(lambda: _len_at_least(dlq_messages(js), 1), what="a reference parked", timeout=30)
            [parked] = await dlq_messages(js)
            assert parked.headers["Congdoan-Parked-Body"] == "reference"
            assert parked.headers["Congdoan-Parked-Reason"].startswith("oversized")
            assert parked.headers["Congdoan-Original-Seq"] == str(ack.seq)
            ref = json.loads(parked.data)
            assert (ref["stream"], ref["seq"], ref["size"]) == ("CONGDOAN_REPORTS", ack.seq, len(big))
            assert ref["headers"]["X-Trace"] == "t1" and big.decode().startswith(ref["head"])
            original = await js.get_msg("CONGDOAN_REPORTS", ref["seq"])  # the whole event, where it was
            assert original.data == big
            await wait_until(lambda: _eq(count(rt, "report_facts"), 1), what="the next event applied")
            assert nc.is_connected  # nothing over max_payload was sent: no connection lost
    finally:
        await nc.close()
        server.stop()


async def _len_at_least(awaitable, n: int) -> bool:  # type: ignore[no-untyped-def]
    return len(await awaitable) >= n


async def test_a_v1_consumer_accepts_a_v1_event_with_an_added_optional_field(nc, nats_server, make_db_url):
    """A producer one additive change ahead (rolling upgrade, another system): read, not parked."""
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        ev = submitted_event(1)
        ev["data"]["reviewer_note"] = "Báo cáo đầy đủ"  # added by a later release of reports
        ev["data"]["attachments"] = [{"name": "bien-ban.pdf", "bytes": 1024}]
        ev["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"  # an extension attribute
        await js.publish(SUBJECT, json.dumps(ev, ensure_ascii=False).encode())
        await wait_until(lambda: _eq(count(rt, "report_facts"), 1), what="the event applied")
        await wait_until(lambda: _consumer_idle(js, "CONGDOAN_REPORTS", "awards-from-reports"), what="acked")
        assert await dlq_messages(js) == []


async def test_a_deleted_durable_is_recreated_from_the_inbox_position_and_the_service_keeps_running(
        nc, nats_server, make_db_url):
    js = nc.jetstream()
    db = await make_db_url("awards")
    async with running("awards", nats_server.url, db) as rt:
        consumer = rt.consumers[0]
        consumer.position_every_s = 0.1
        for i in range(30):
            await js.publish(SUBJECT, json.dumps(submitted_event(i)).encode())
        await wait_until(lambda: _eq(count(rt, "report_facts"), 30), what="30 facts")
        await wait_until(lambda: _true(consumer._saved_floor == 30), what="the position saved")
        await js.delete_consumer("CONGDOAN_REPORTS", "awards-from-reports")
        for i in range(30, 40):
            await js.publish(SUBJECT, json.dumps(submitted_event(i)).encode())
        await wait_until(lambda: _eq(count(rt, "report_facts"), 40), what="the 10 new facts after the deletion")
        assert not rt._stop.is_set(), "the service keeps running"
        info = await js.consumer_info("CONGDOAN_REPORTS", "awards-from-reports")
        assert info.config.deliver_policy == DeliverPolicy.BY_START_SEQUENCE and info.config.opt_start_seq == 31
        assert info.delivered.consumer_seq == 10, "resumed after the position, not from the stream's start"
        assert info.config.max_deliver == -1
        await wait_until(lambda: _consumer_idle(js, "CONGDOAN_REPORTS", "awards-from-reports"), what="all acked")
    # Started again: the recreated durable is taken as it is (its start is not updatable).
    async with running("awards", nats_server.url, db) as rt:
        await js.publish(SUBJECT, json.dumps(submitted_event(40)).encode())
        await wait_until(lambda: _eq(count(rt, "report_facts"), 41), what="one more fact after a restart")
        assert await dlq_messages(js) == []


async def test_a_durable_missing_at_start_resumes_from_the_inbox_and_old_bounds_are_lifted(
        nc, nats_server, make_db_url):
    js = nc.jetstream()
    db = await make_db_url("awards")
    async with running("awards", nats_server.url, db) as rt:
        rt.consumers[0].position_every_s = 0.1
        for i in range(5):
            await js.publish(SUBJECT, json.dumps(submitted_event(i)).encode())
        await wait_until(lambda: _true(rt.consumers[0]._saved_floor == 5), what="the position saved")
    await js.delete_consumer("CONGDOAN_REPORTS", "awards-from-reports")  # while the service is down
    for i in range(5, 8):
        await js.publish(SUBJECT, json.dumps(submitted_event(i)).encode())
    async with running("awards", nats_server.url, db) as rt:
        await wait_until(lambda: _eq(count(rt, "report_facts"), 8), what="the 3 facts published meanwhile")
        info = await js.consumer_info("CONGDOAN_REPORTS", "awards-from-reports")
        assert info.config.opt_start_seq == 6 and info.delivered.consumer_seq == 3
    # A durable of an earlier release, with the server-side bound that dropped messages silently.
    await js.delete_consumer("CONGDOAN_REPORTS", "awards-from-reports")
    await js.add_consumer("CONGDOAN_REPORTS", ConsumerConfig(
        durable_name="awards-from-reports", ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
        filter_subjects=[SUBJECT], max_deliver=6, ack_wait=30))
    async with running("awards", nats_server.url, db):
        info = await js.consumer_info("CONGDOAN_REPORTS", "awards-from-reports")
        assert info.config.max_deliver == -1 and info.config.deliver_policy == DeliverPolicy.ALL


async def test_numbers_and_control_characters_are_refused_alike_on_every_backend(nc, nats_server, make_db_url):
    async with running("reports", nats_server.url, await make_db_url("reports")):
        get_form = api("reports", "get_form")
        for version in (10**30, 2**53, 2**31):  # beyond JSON's exact integers, beyond PostgreSQL's INTEGER
            headers, body = await call(nc, get_form, {"form_id": "bc-01-kl-tw", "version": version})
            assert headers["Nats-Service-Error-Code"] == "422", (version, body)
            assert body["error"]["details"][0]["field"] == "version"
        headers, body = await call(nc, get_form, {"form_id": "bc-01-kl-tw", "version": 2**31 - 1})
        assert headers["Nats-Service-Error-Code"] == "404", body  # looked up, not a database error
        for text in ("bc\x00", "Báo cáo\x00", "a\x1bb"):
            headers, body = await call(nc, get_form, {"form_id": text})
            assert headers["Nats-Service-Error-Code"] == "422", (text, body)
            assert body["error"]["code"] == "validation_error"
            assert body["error"]["details"] == [{"field": "form_id", "message": body["error"]["message"],
                                                 "type": "control_character"}]
            assert "ký tự điều khiển" in body["error"]["message"]
        headers, body = await call(nc, get_form, b'{"form_id": "bc-01-kl-tw", "version": NaN}')
        assert headers["Nats-Service-Error-Code"] == "422"


async def test_durability_settings_are_what_the_readme_says(tmp_path):
    from runtime.db import make_engine
    from runtime.launcher import EMBEDDED_SYNC_INTERVAL, NatsServer

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("PRAGMA synchronous"))).scalar() == 2  # FULL
            assert (await conn.execute(sa.text("PRAGMA journal_mode"))).scalar() == "wal"
    finally:
        await engine.dispose()
    assert EMBEDDED_SYNC_INTERVAL == "1s"
    for sync in (None, "always"):  # the embedded default and production's: nats-server takes both
        server = NatsServer(tmp_path / f"nats-{sync}", log_file=None, sync_interval=sync)
        server.start()
        try:
            conf = (server.store_dir / "nats.conf").read_text()
            assert f"sync_interval: {sync or EMBEDDED_SYNC_INTERVAL}" in conf
        finally:
            server.stop()


async def test_parked_messages_are_redriven_to_their_consumer_once_fixed_and_idempotently(
        nc, nats_server, make_db_url):
    from runtime.consumer import EventConsumer, Subscription
    from runtime.errors import PermanentError
    from runtime.redrive import Selection, parked, redrive
    from tests.integration.test_reliability import SUBMITTED
    from tests.support import connect_as

    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        broken = True
        calls: list[str] = []

        async def handler(event, uow):  # type: ignore[no-untyped-def]
            calls.append(event.data.unit_id)
            if broken:
                raise PermanentError(f"unit {event.data.unit_id} unknown yet")

        consumer = EventConsumer(service="testsvc", subscription=Subscription("reports", {SUBMITTED: handler}),
                                 js=js, uow_factory=rt.uow)
        await consumer.start()
        task = asyncio.create_task(consumer.run())
        try:
            for i in range(3):
                await js.publish(SUBJECT, json.dumps(submitted_event(i)).encode(), headers={"X-Trace": f"t{i}"})
            await js.publish(SUBJECT, b"{not json", headers={"Nats-Msg-Id": "junk"})
            # awards (valid events applied) and testsvc (3 refused + junk) and awards (junk): 5 parked
            await wait_until(lambda: _len_at_least(dlq_messages(js), 5), what="parked")
            ops = await connect_as(nats_server.url, "operator")  # the real rights: operator reads the DLQ
            reports = await connect_as(nats_server.url, "reports")  # the producer republishes
            try:
                ops_js = ops.jetstream()
                mine = Selection(consumer="testsvc-from-reports", reason="unknown yet")
                assert len(await parked(ops_js, mine)) == 3
                assert len(await parked(ops_js, Selection(consumer="testsvc"))) == 4
                assert len(await parked(ops_js, Selection(reason="MALFORMED"))) == 2
                assert len(await parked(ops_js, Selection(until=datetime(2000, 1, 1, tzinfo=UTC)))) == 0
                assert len(await parked(ops_js, Selection(since=datetime(2000, 1, 1, tzinfo=UTC)))) == 5

                async def as_producer(producer: str):  # type: ignore[no-untyped-def]
                    assert producer == "reports"
                    return reports.jetstream()

                dry = await redrive(ops_js, as_producer, mine, dry_run=True)
                before = len(calls)  # (a refused batch is tried again one by one: more calls than events)
                assert (dry.matched, len(dry.redriven)) == (3, 3)
                await asyncio.sleep(0.2)
                assert len(calls) == before  # a dry run sends nothing
                broken = False  # the cause is fixed
                report = await redrive(ops_js, as_producer, mine)
                assert len(report.redriven) == 3 and not report.skipped
                await wait_until(lambda: _eq(count(rt, "inbox", "consumer = 'testsvc-from-reports'"), 3),
                                 what="the 3 redriven events handled")
                assert sorted(calls[before:]) == ["g0", "g1", "g2"]
                # Again, and after the stream's dedupe window (a new message id): no second effect.
                again = await redrive(ops_js, as_producer, mine, delete=True)
                assert len(again.redriven) == 3
                await wait_until(lambda: _consumer_idle(js, "CONGDOAN_REPORTS", "testsvc-from-reports"), what="acked")
                await wait_until(lambda: _consumer_idle(js, "CONGDOAN_REPORTS", "awards-from-reports"), what="acked")
                assert len(calls) == before + 3 and await count(rt, "inbox", "consumer = 'testsvc-from-reports'") == 3
                assert await parked(ops_js, mine) == []  # deleted once redriven
                assert await count(rt, "report_facts") == 3  # awards ignored what was redriven for testsvc
                last = await js.get_last_msg("CONGDOAN_REPORTS", SUBJECT)
                assert last.headers["Congdoan-Redrive-For"] == "testsvc-from-reports"
                assert last.headers["X-Trace"].startswith("t")  # the original headers travel again
            finally:
                await ops.close()
                await reports.close()
        finally:
            await consumer.stop()
            task.cancel()


def test_the_redrive_command_runs_with_the_operators_and_producers_credentials(nats_server):
    import subprocess
    import sys

    from tests.support import TEST_SECRETS

    base = [sys.executable, "-m", "runtime.redrive", "--nats-url", nats_server.url, "--data-dir", str(TEST_SECRETS.parent)]
    listed = subprocess.run([*base, "list", "--consumer", "nobody"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    ran = subprocess.run([*base, "run", "--consumer", "nobody", "--since", "2026-01-01T00:00", "--dry-run"],
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert "0 matched, 0 would redrive, 0 skipped" in ran.stdout
