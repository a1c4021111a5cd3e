"""Issue 11, "nothing valid is lost": poison is per message whatever goes wrong decoding it, an
outage pauses consumers instead of parking valid events, parking never fails for size, consumers
read tolerantly and heal. Against a real nats-server, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from runtime.streams import ensure_streams
from tests.conftest import wait_until
from tests.integration.test_reliability import SUBJECT, _consumer_idle, count, dlq_messages, submitted_event
from tests.support import api, call, running

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
