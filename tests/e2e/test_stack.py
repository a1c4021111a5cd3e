"""End to end: the four services as subprocesses, driven only through NATS."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import pytest

from contracts.catalogue import CONSUMES, ENDPOINTS, EVENTS_BY_TYPE
from contracts.naming import SERVICES
from tests.conftest import wait_until
from tests.e2e.conftest import connected, scalar
from tests.observer.observer import observe
from tests.support import api, call, open_requirements

pytestmark = pytest.mark.e2e


async def _setup_directory(nc, units: int = 1, requirements: int = 0) -> None:  # type: ignore[no-untyped-def]
    await call(nc, api("plans", "register_unit"), {"unit_id": "prov", "code": "LĐLĐ", "name": "LĐLĐ tỉnh Bình Định",
                                                  "kind": "provincial_federation"})
    await call(nc, api("plans", "register_person"), {"person_id": "chair", "unit_id": "prov",
                                                    "full_name": "Nguyễn Mạnh Hùng", "roles": ["chairperson"]})
    for i in range(units):
        h, body = await call(nc, api("plans", "register_unit"), {
            "unit_id": f"g{i}", "code": f"CĐCS-{i}", "name": f"Công đoàn cơ sở số {i}", "kind": "grassroots_union",
            "parent_id": "prov"})
        assert "Nats-Service-Error" not in h, body
        h, body = await call(nc, api("plans", "register_person"), {
            "person_id": f"g{i}-c", "unit_id": f"g{i}", "full_name": f"Cán bộ công đoàn số {i}", "roles": ["cadre"]})
        assert "Nats-Service-Error" not in h, body
    # reports takes reports for the requirements it knows: the probe's, and the burst's
    await open_requirements(nc, ["probe", *(f"req-{i}" for i in range(requirements))])

    async def reports_knows_all() -> bool:
        h, _ = await call(nc, api("reports", "submit_report"),
                          {"report_id": f"probe-{units - 1}", "requirement_id": "probe", "period": "2026",
                           "unit_id": f"g{units - 1}"}, as_=f"g{units - 1}-c")
        return "Nats-Service-Error" not in h

    await wait_until(reports_knows_all, timeout=30, what="reports to project the directory")


async def test_services_are_discoverable_and_the_slice_runs(stack, client):
    async with connected(stack, "operator") as ops:  # discovery is the operator's (the client only sends requests)
        pings = []
        sub = await ops.subscribe(ops.new_inbox())
        await ops.publish("$SRV.PING", b"", reply=sub.subject)
        await wait_until(lambda: _collect(sub, pings, 4), timeout=10, what="four PING answers")
        assert sorted(json.loads(m.data)["name"] for m in pings) == sorted(f"congdoan-{s}" for s in SERVICES)
        for service in SERVICES:
            info = json.loads((await ops.request(f"$SRV.INFO.congdoan-{service}", b"", timeout=5)).data)
            subjects = {e["subject"] for e in info["endpoints"]}
            assert subjects == {e.subject for e in ENDPOINTS if e.service == service}

    await _setup_directory(client)

    async def notified() -> bool:
        _, page = await call(client, api("notify", "list_inbox"), {}, as_="chair")
        return page["unread"] == 1  # the probe submission

    await wait_until(notified, what="the notification")
    _, elig = await call(client, api("awards", "get_eligibility"), {"unit_id": "g0", "period": "2026"}, as_="chair")
    assert elig == {"unit_id": "g0", "period": "2026", "eligible": True, "reasons": []}

    # What an outside system sees: every event is a CloudEvent valid against its published schema.
    found = await observe(stack.nats_url, Path(__file__).resolve().parents[2] / "contracts" / "schemas",
                          **stack.connect_options("subscriber"))
    assert found.problems == []
    assert found.by_type["vn.congdoan.plans.unit.registered.v1"] == 2
    assert found.by_type["vn.congdoan.reports.report.submitted.v1"] == 1


async def _collect(sub, into, n) -> bool:  # type: ignore[no-untyped-def]
    try:
        into.append(await sub.next_msg(timeout=0.2))
    except Exception:
        pass
    return len(into) >= n


BAD_REQUESTS = {
    "malformed JSON": (b'{"unit_id": ', "400", "bad_request"),
    "invalid UTF-8": (b'{"unit_id": "\xff\xfe"}', "400", "bad_request"),
    "wrong types": (json.dumps({"unit_id": 5, "period": [], "page": "x", "code": 1}).encode(), "422", "validation_error"),
    "unknown fields": (json.dumps({"no_such_field": True}).encode(), "422", "validation_error"),
    "1 MB": (json.dumps({"padding": "x" * (1024 * 1024)}).encode(), "413", "payload_too_large"),
    "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "400", "bad_request"),
    "NUL character": (json.dumps({"unit_id": "u\x00"}).encode(), "422", "validation_error"),
    "number beyond 2^53": (b'{"version": 1000000000000000000000000000000}', "422", "validation_error"),
}
BAD_EVENTS = [
    b'{"specversion": "1.0", "id": ',
    b'\xff\xfe\x00garbage',
    b'{"specversion": "1.0", "id": "x", "source": "/t", "type": "vn.congdoan.reports.report.submitted.v1", "time": "2026-11-20T09:00:00+07:00", "data": {"report_id": 7}}',  # noqa: E501
    b'{"specversion": "1.0", "id": "y", "source": "/t", "type": "vn.congdoan.plans.unit.registered.v1", "time": "2026-11-20T09:00:00+07:00", "data": {"unit_id": "u", "code": "c", "name": "n", "kind": "no_such_kind", "effective_from": "2026-01-01"}}',  # noqa: E501
    json.dumps({"padding": "x" * (1024 * 1024)}).encode(),
    b"[" * 100_000 + b"]" * 100_000,
]


async def test_bad_input_gets_structured_errors_or_is_parked_and_services_stay_ready(stack, client):
    for spec in ENDPOINTS:  # no token: 401, before anything else is looked at
        headers, body = await call(client, spec.subject, b"{}", token="")
        if spec.public:
            assert headers.get("Nats-Service-Error-Code") != "401", (spec.subject, body)
        else:
            assert headers.get("Nats-Service-Error-Code") == "401", (spec.subject, headers, body)
            assert body["error"]["code"] == "unauthenticated"
    for spec in ENDPOINTS:
        for case, (payload, status, code) in BAD_REQUESTS.items():
            headers, body = await call(client, spec.subject, payload)
            assert headers.get("Nats-Service-Error-Code") == status, (spec.subject, case, headers, body)
            assert body["error"]["code"] == code, (spec.subject, case, body)
            assert headers["Nats-Service-Error"]
    event_subjects = sorted({EVENTS_BY_TYPE[t].subject for types in CONSUMES.values() for t in types})
    expected_parked = 0
    for subject in event_subjects:
        consumers = sum(1 for types in CONSUMES.values() for t in types if EVENTS_BY_TYPE[t].subject == subject)
        # A producer gone wrong: only the producer's own NATS user may publish on its subjects.
        async with connected(stack, subject.split(".")[2]) as producer:
            js = producer.jetstream()
            # A consumer's durable filters several subjects; each bad message is parked once per consuming service.
            for i, payload in enumerate(BAD_EVENTS):
                await js.publish(subject, payload, headers={"Nats-Msg-Id": f"bad-{subject}-{i}"})
                expected_parked += consumers

    async with connected(stack, "operator") as ops:  # the dead-letter stream is the operator's to read
        js = ops.jetstream()

        async def all_parked() -> bool:
            info = await js.stream_info("CONGDOAN_DLQ")
            return info.state.messages >= expected_parked

        await wait_until(all_parked, timeout=30, what=f"{expected_parked} parked messages")
        info = await js.stream_info("CONGDOAN_DLQ")
        assert info.state.messages == expected_parked
    for name in SERVICES:
        with urllib.request.urlopen(f"http://127.0.0.1:{stack.http_ports[name]}/readyz", timeout=2) as r:
            assert r.status == 200
    await _setup_directory(client)  # and the slice still works


async def test_kill_9_of_notify_in_a_burst_of_2000_submissions_loses_and_doubles_nothing(stack, client):
    units, burst = 100, 2000
    await _setup_directory(client, units, requirements=burst // units)
    sem = asyncio.Semaphore(100)
    sent = 0

    async def submit(i: int) -> None:
        nonlocal sent
        async with sem:
            h, body = await call(client, api("reports", "submit_report"), {
                "report_id": f"burst-{i}", "requirement_id": f"req-{i // units}", "period": "2026",
                "unit_id": f"g{i % units}", "values": {"participants": i}}, as_=f"g{i % units}-c", timeout=60)
            assert "Nats-Service-Error" not in h, body
            sent += 1

    tasks = [asyncio.create_task(submit(i)) for i in range(burst)]

    async def some_notified() -> bool:
        return int(await scalar(stack, "notify", "SELECT count(*) FROM notifications")) >= 300

    await wait_until(some_notified, timeout=60, what="the burst to reach notify")
    stack.kill("notify")  # kill -9 mid-burst
    killed_at = int(await scalar(stack, "notify", "SELECT count(*) FROM notifications"))
    await asyncio.gather(*tasks)
    assert sent == burst
    stack.restart("notify")
    expected = burst + 1  # and the probe submission of _setup_directory

    async def all_notified() -> bool:
        return int(await scalar(stack, "notify", "SELECT count(*) FROM notifications")) >= expected

    await wait_until(all_notified, timeout=120, what=f"{expected} notifications")
    assert killed_at < expected, "the kill came too late to test anything"
    assert int(await scalar(stack, "notify", "SELECT count(*) FROM notifications")) == expected
    assert int(await scalar(stack, "notify", "SELECT count(DISTINCT event_id) FROM notifications")) == expected
    assert int(await scalar(stack, "notify", "SELECT count(DISTINCT link) FROM notifications")) == expected
