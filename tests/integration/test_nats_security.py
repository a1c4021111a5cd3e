"""NATS users and permissions (runtime/natsauth.py) on a real nats-server: who may connect, publish
events, write the clock, read streams. nats-server reports a refused publish asynchronously (an
-ERR the client hands to its error callback) and drops the message: the tests wait for that error,
then prove that nothing changed by sending a legitimate event behind it and waiting for it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import nats
import nats.errors
import pytest
from nats.js.api import ConsumerConfig

from contracts.catalogue import EVENTS
from contracts.naming import CLOCK_BUCKET, dlq_subject
from runtime.clock import read_shared_offset, set_shared_time
from runtime.metrics import REQUESTS
from runtime.natsauth import new_seed
from tests.conftest import PINNED_NOW, wait_until
from tests.integration.test_reliability import SUBJECT, _consumer_idle, count, submitted_event
from tests.support import api, connect_as, nats_options, running

EVENT_SUBJECTS = sorted({e.subject for e in EVENTS})


class Errors:
    """An error callback that keeps what the server refused."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def cb(self, exc: Exception) -> None:  # nats-py wants a coroutine function
        self.seen.append(str(exc).lower())

    def refused(self, subject: str, what: str = "publish") -> bool:
        return any("permissions violation" in e and what in e and f'"{subject.lower()}"' in e for e in self.seen)

    async def wait_refused(self, subjects: list[str], what: str = "publish") -> None:
        async def all_refused() -> bool:
            return all(self.refused(s, what) for s in subjects)

        await wait_until(all_refused, timeout=10, what=f"permission errors for {what} on {subjects[:3]}…")


async def _as(url: str, user: str, errors: Errors | None = None) -> Any:
    return await connect_as(url, user, error_cb=(errors or Errors()).cb, allow_reconnect=False)


async def test_anonymous_and_unknown_connections_are_refused(nats_server, tmp_path):
    with pytest.raises(nats.errors.Error, match="(?i)authorization"):
        await nats.connect(nats_server.url, allow_reconnect=False, max_reconnect_attempts=0, error_cb=Errors().cb)
    stranger = tmp_path / "stranger.nk"
    stranger.write_bytes(new_seed())  # a well-formed seed the server does not know
    with pytest.raises(nats.errors.Error, match="(?i)authorization"):
        await nats.connect(nats_server.url, nkeys_seed=str(stranger), allow_reconnect=False, max_reconnect_attempts=0,
                           error_cb=Errors().cb)
    with pytest.raises(nats.errors.Error, match="(?i)authorization"):
        await nats.connect(nats_server.url, user="client", password="client", allow_reconnect=False,
                           max_reconnect_attempts=0, error_cb=Errors().cb)


async def test_a_client_publishing_events_is_refused_and_nothing_changes(nc, nats_server, make_db_url):
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        errors = Errors()
        client = await _as(nats_server.url, "client", errors)
        try:
            forged = json.dumps(submitted_event(99)).encode()
            for subject in EVENT_SUBJECTS:  # every event subject of every producer
                await client.publish(subject, forged, headers={"Nats-Msg-Id": f"forged-{subject}"})
            await client.publish(dlq_subject("awards", "awards-from-reports"), forged)
            await client.flush()
            await errors.wait_refused([*EVENT_SUBJECTS, dlq_subject("awards", "awards-from-reports")])
            assert client.is_connected  # refused messages, not a dropped connection
        finally:
            await client.close()
        # Behind the forged ones, a real event from its producer: once it is handled, anything
        # forged that had got through would have been handled too.
        reports = await _as(nats_server.url, "reports")
        try:
            await reports.jetstream().publish(SUBJECT, json.dumps(submitted_event(1)).encode())
        finally:
            await reports.close()
        await wait_until(lambda: _consumer_idle(js, "CONGDOAN_REPORTS", "awards-from-reports"), what="the real event")
        assert await count(rt, "inbox") == 1
        assert await count(rt, "report_facts") == 1
        assert (await js.stream_info("CONGDOAN_REPORTS")).state.messages == 1
        for stream in ("CONGDOAN_PLANS", "CONGDOAN_NOTIFY", "CONGDOAN_AWARDS", "CONGDOAN_DLQ"):
            assert (await js.stream_info(stream)).state.messages == 0, stream


async def test_a_service_publishes_its_own_events_and_no_one_elses(nc, nats_server):
    from runtime.streams import ensure_streams

    await ensure_streams(nc.jetstream())
    errors = Errors()
    notify = await _as(nats_server.url, "notify", errors)
    try:
        others = [s for s in EVENT_SUBJECTS if not s.startswith("congdoan.evt.notify.")]
        for subject in others:
            await notify.publish(subject, b"{}")
        await notify.publish(dlq_subject("awards", "awards-from-plans"), b"{}")  # another's dead letters
        await notify.flush()
        await errors.wait_refused([*others, dlq_subject("awards", "awards-from-plans")])
        own = next(s for s in EVENT_SUBJECTS if s.startswith("congdoan.evt.notify."))
        ack = await notify.jetstream().publish(own, b"{}")
        assert ack.stream == "CONGDOAN_NOTIFY"
        ack = await notify.jetstream().publish(dlq_subject("notify", "notify-from-plans"), b"{}")
        assert ack.stream == "CONGDOAN_DLQ"
    finally:
        await notify.close()
    js = nc.jetstream()
    assert (await js.stream_info("CONGDOAN_NOTIFY")).state.messages == 1
    assert (await js.stream_info("CONGDOAN_DLQ")).state.messages == 1
    for stream in ("CONGDOAN_PLANS", "CONGDOAN_REPORTS", "CONGDOAN_AWARDS"):
        assert (await js.stream_info(stream)).state.messages == 0, stream


async def test_only_the_operator_writes_the_clock(nc, nats_server):
    kv_key = f"$KV.{CLOCK_BUCKET}.offset"
    before = await read_shared_offset(nc.jetstream())  # PINNED_NOW, set by the fixture
    for user in ("client", "subscriber", "reports", "plans"):
        errors = Errors()
        c = await _as(nats_server.url, user, errors)
        try:
            await c.publish(kv_key, json.dumps({"offset_s": 0}).encode())
            await c.flush()
            await errors.wait_refused([kv_key])
        finally:
            await c.close()
    assert abs(await read_shared_offset(nc.jetstream()) - before) < timedelta(seconds=1)
    operator = await _as(nats_server.url, "operator")
    try:
        moved = await set_shared_time(operator.jetstream(), PINNED_NOW + timedelta(days=30))
        assert abs(await read_shared_offset(nc.jetstream()) - moved) < timedelta(seconds=1)
    finally:
        await operator.close()


async def test_a_locked_service_ignores_the_shared_clock_an_unlocked_one_follows_it(nc, nats_server, make_db_url):
    db = await make_db_url("awards")
    async with running("awards", nats_server.url, db, clock_locked=True) as rt:
        assert rt.clock.offset == timedelta(0)  # the bucket says 15/10/2026; real time it is
    async with running("awards", nats_server.url, db) as rt:  # the tests' default: unlocked
        assert rt.clock.today() == PINNED_NOW.date()


async def test_a_subscriber_reads_events_with_its_own_durable_and_publishes_nothing(nc, nats_server, make_db_url):
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")):
        reports = await _as(nats_server.url, "reports")
        try:
            for n in range(3):
                await reports.jetstream().publish(SUBJECT, json.dumps(submitted_event(n)).encode())
        finally:
            await reports.close()
        await wait_until(lambda: _consumer_idle(js, "CONGDOAN_REPORTS", "awards-from-reports"), what="awards")
        errors = Errors()
        sub = await _as(nats_server.url, "subscriber", errors)
        try:
            sjs = sub.jetstream()
            await sjs.add_consumer("CONGDOAN_REPORTS", ConsumerConfig(durable_name="bi-warehouse"))
            psub = await sjs.pull_subscribe_bind(durable="bi-warehouse", stream="CONGDOAN_REPORTS")
            msgs = await psub.fetch(3, timeout=5)
            assert [json.loads(m.data)["data"]["report_id"] for m in msgs] == ["r-0", "r-1", "r-2"]
            for m in msgs:
                await m.ack_sync()
            assert (await sjs.consumer_info("CONGDOAN_REPORTS", "bi-warehouse")).ack_floor.stream_seq == 3
            # No events, and hands off the services' own durables.
            await sub.publish(SUBJECT, json.dumps(submitted_event(7)).encode())
            svc = "$JS.API.CONSUMER.{}.CONGDOAN_REPORTS.awards-from-reports"
            for verb in ("DELETE", "MSG.NEXT", "DURABLE.CREATE"):
                await sub.publish(svc.format(verb), b"{}", reply=sub.new_inbox())
            await sub.flush()
            await errors.wait_refused([SUBJECT, *(svc.format(v) for v in ("DELETE", "MSG.NEXT", "DURABLE.CREATE"))])
        finally:
            await sub.close()
        info = await js.consumer_info("CONGDOAN_REPORTS", "awards-from-reports")
        assert info.ack_floor.stream_seq == 3 and info.num_pending == 0
        assert (await js.stream_info("CONGDOAN_REPORTS")).state.messages == 3


async def test_a_request_is_answered_only_on_an_inbox(nc, nats_server, make_db_url):
    """A client may name any reply subject; a service answering there would publish with its own
    rights (e.g. onto its event subjects). It does not: the request is dropped unhandled."""
    async with running("awards", nats_server.url, await make_db_url("awards")):
        subject = api("awards", "list_rounds")
        dropped = REQUESTS.labels("awards", "list_rounds", "no_inbox")
        before = dropped._value.get()
        client = await _as(nats_server.url, "client")
        try:
            await client.publish(subject, b"{}", reply="congdoan.evt.awards.award.granted.v1")
            await client.flush()

            async def was_dropped() -> bool:
                return dropped._value.get() > before

            await wait_until(was_dropped, what="the request to be dropped")
            reply = await client.request(subject, b"{}", timeout=5)  # an ordinary request is answered (401)
            assert reply.headers and reply.headers.get("Nats-Service-Error-Code") == "401"
        finally:
            await client.close()
        assert (await nc.jetstream().stream_info("CONGDOAN_AWARDS")).state.messages == 0


def test_each_user_connects_with_its_own_inbox() -> None:
    for user in ("plans", "client", "subscriber", "operator"):
        assert nats_options(user)["inbox_prefix"] == f"_INBOX.{user}"
        assert nats_options(user)["nkeys_seed"].endswith(f"/{user}.nk")


async def test_a_subscriber_redirecting_deliveries_into_another_stream_forges_nothing(nc, nats_server, make_db_url):
    """What subject permissions cannot stop (README "Security"): a subscriber's fetch request may
    name any reply subject, e.g. an event subject of another stream, and JetStream delivers there.
    Only an authentic event travels so, under its own subject and id: no consumer takes it."""
    from tests.integration.test_awards import publish

    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        plans = await _as(nats_server.url, "plans")
        try:
            event_id = await publish(plans.jetstream(), "vn.congdoan.plans.unit.registered.v1", {
                "unit_id": "prov", "code": "LĐLĐ-BĐ", "name": "Liên đoàn Lao động tỉnh Bình Định",
                "kind": "provincial_federation", "effective_from": "2026-01-01"})
        finally:
            await plans.close()
        await wait_until(lambda: _consumer_idle(js, "CONGDOAN_PLANS", "awards-from-plans"), what="the plans event")
        sub = await _as(nats_server.url, "subscriber")
        try:  # the plans event delivered onto the subject of "report submitted"
            await sub.jetstream().add_consumer("CONGDOAN_PLANS", ConsumerConfig(durable_name="redirect"))
            await sub.publish("$JS.API.CONSUMER.MSG.NEXT.CONGDOAN_PLANS.redirect", b'{"batch": 1}', reply=SUBJECT)
            await sub.flush()

            async def redirected() -> bool:
                return (await js.stream_info("CONGDOAN_REPORTS")).state.messages >= 1

            await wait_until(redirected, what="the redirected delivery")
        finally:
            await sub.close()
        stray = await js.get_msg("CONGDOAN_REPORTS", 1)
        assert stray.subject == "congdoan.evt.plans.unit.registered.v1" and stray.headers["Nats-Msg-Id"] == event_id
        reports = await _as(nats_server.url, "reports")  # a real report behind it
        try:
            await reports.jetstream().publish(SUBJECT, json.dumps(submitted_event(1)).encode())
        finally:
            await reports.close()

        async def real_one_handled() -> bool:
            return await count(rt, "report_facts") == 1

        await wait_until(real_one_handled, what="the real report")
        await wait_until(lambda: _consumer_idle(js, "CONGDOAN_REPORTS", "awards-from-reports"), what="idle")
        assert (await js.consumer_info("CONGDOAN_REPORTS", "awards-from-reports")).delivered.stream_seq == 2
        assert await count(rt, "inbox") == 2  # the plans event once, the report once
        assert (await js.stream_info("CONGDOAN_DLQ")).state.messages == 0
