"""The chaos suite (issue 11 §9): bursts of submissions through the whole stack, each under one
fault — NATS restarted, kill -9 of each service, the database out for 30 s, a deep-nested poison
message — and a set checker over what was acknowledged, stored, published, notified and counted
by awards: 0 lost, 0 doubled, 0 valid events parked. On SQLite and PostgreSQL (behind a TCP proxy
the test cuts: what a stopped database looks like from the services).

Scaled to fit CI: CONGDOAN_CHAOS_BURST submissions a fault (default 240), CONGDOAN_CHAOS_OUTAGE_S
seconds of database outage (default 30). The figures of each run are printed (pytest -s) and
written to <tmp>/chaos.json."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import pytest
import pytest_asyncio
import sqlalchemy as sa

from contracts.naming import SERVICES
from runtime.launcher import Stack, free_port
from runtime.redrive import parked
from tests.conftest import pin_clock, wait_until
from tests.e2e.test_stack import _setup_directory
from tests.integration.test_nothing_lost import DEEP, TcpProxy
from tests.support import api, auth_env, call, open_requirements, rows, settled, stream_events

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BURST = int(os.environ.get("CONGDOAN_CHAOS_BURST", "240"))
OUTAGE_S = float(os.environ.get("CONGDOAN_CHAOS_OUTAGE_S", "30"))
UNITS = 40
SUBMITTED = "congdoan.evt.reports.report.submitted.v1"


@dataclass
class Chaos:
    stack: Stack
    backend: str
    direct_urls: dict[str, str]  # the databases as the checker reads them (not through the proxy)
    proxy: TcpProxy | None
    tmp: Path


@pytest_asyncio.fixture
async def chaos(tmp_path: Path, make_db_url: Callable[[str], Awaitable[str]], db_backend: str) -> AsyncIterator[Chaos]:
    direct = {name: await make_db_url(name) for name in SERVICES}
    proxy = None
    urls = dict(direct)
    if db_backend == "postgresql":  # every service reaches PostgreSQL through one proxy the test cuts
        target = sa.engine.make_url(direct["plans"])
        proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
        await proxy.start()
        urls = {n: sa.engine.make_url(u).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
                for n, u in direct.items()}
    s = Stack(data_dir=tmp_path / "var", nats_port=free_port(), http_ports={n: free_port() for n in SERVICES},
              database_urls=urls, log_dir=tmp_path / "logs", env={"CONGDOAN_LOG_LEVEL": "INFO", **auth_env()})
    s.start_nats()
    nc = await nats.connect(s.nats_url, **s.connect_options("operator"))
    try:
        await pin_clock(nc)
    finally:
        await nc.close()
    await asyncio.to_thread(s.start_services, 60)
    try:
        yield Chaos(s, db_backend, direct, proxy, tmp_path)
    finally:
        codes = await asyncio.to_thread(s.stop)  # the proxy runs on this loop: keep it turning
        if proxy is not None:
            try:
                await proxy.cut()
            except Exception:
                pass
        assert all(c == 0 for c in codes.values()), f"unclean exit codes {codes}; logs in {tmp_path / 'logs'}"


@dataclass
class Phase:
    name: str
    acknowledged: set[str] = field(default_factory=set)
    refused: dict[str, int] = field(default_factory=dict)  # error code or exception → count
    seconds: float = 0.0


async def _burst(client: Any, phase: Phase, fault: Callable[[], Awaitable[None]]) -> None:
    """BURST submissions, 50 at a time; the fault strikes once a third of them are acknowledged."""
    sem = asyncio.Semaphore(50)

    async def submit(i: int) -> None:
        rid = f"{phase.name}-{i}"
        async with sem:
            try:
                h, body = await call(client, api("reports", "submit_report"), {
                    "report_id": rid, "requirement_id": f"req-{phase.name}-{i // UNITS}", "period": "2026",
                    "unit_id": f"g{i % UNITS}", "values": {"participants": i}}, as_=f"g{i % UNITS}-c", timeout=20)
            except Exception as exc:  # no answer (NATS restarting, the service killed): not acknowledged
                phase.refused[type(exc).__name__] = phase.refused.get(type(exc).__name__, 0) + 1
                return
            code = h.get("Nats-Service-Error-Code")
            if code:
                phase.refused[code] = phase.refused.get(code, 0) + 1
                assert code in ("503",), (rid, h, body)  # an outage says so; nothing else may fail
                return
            phase.acknowledged.add(rid)

    started = time.monotonic()
    tasks = [asyncio.create_task(submit(i)) for i in range(BURST)]
    await wait_until(lambda: _true(len(phase.acknowledged) >= BURST // 3 or all(t.done() for t in tasks)),
                     timeout=120, what=f"a third of the {phase.name} burst")
    await fault()
    await asyncio.gather(*tasks)
    phase.seconds = round(time.monotonic() - started, 1)


async def _true(v: bool) -> bool:
    return v


async def _events(stack: Stack) -> list[dict[str, Any]]:
    """Every report.submitted event in the stream, as an outside subscriber reads them."""
    nc = await nats.connect(stack.nats_url, **stack.connect_options("subscriber"))
    try:
        return await stream_events(nc, SUBMITTED, "CONGDOAN_REPORTS")
    finally:
        await nc.close()


async def _quiet(stack: Stack, urls: dict[str, str]) -> None:
    """Every outbox published, every durable consumer with nothing pending."""
    nc = await nats.connect(stack.nats_url, **stack.connect_options("operator"))
    try:
        js = nc.jetstream()

        await wait_until(lambda: settled(js, urls), timeout=300, interval=1, what="the stack to settle (outboxes and consumers drained)")
    finally:
        await nc.close()


async def test_chaos_nothing_acknowledged_is_lost_or_doubled_and_no_valid_event_parked(chaos: Chaos, capsys) -> None:
    stack = chaos.stack
    client = await nats.connect(stack.nats_url, **stack.connect_options("client"), max_reconnect_attempts=-1,
                                reconnect_time_wait=0.5)
    phases: list[Phase] = []
    try:
        await _setup_directory(client, UNITS)

        async def restart_nats() -> None:
            assert stack.nats is not None
            stack.nats.stop()
            await asyncio.sleep(1)
            stack.nats.start()

        def kill(name: str) -> Callable[[], Awaitable[None]]:
            async def fault() -> None:
                stack.kill(name)
                await asyncio.to_thread(stack.restart, name, 60)
            return fault

        async def database_outage() -> None:
            if chaos.proxy is not None:
                await chaos.proxy.cut()
                await asyncio.sleep(OUTAGE_S)
                await chaos.proxy.restore()
                return
            # SQLite: every file's write lock held elsewhere (a backup, an operator's shell).
            holders = []
            for url in chaos.direct_urls.values():
                conn = sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None, timeout=30)
                conn.execute("BEGIN EXCLUSIVE")
                holders.append(conn)
            try:
                await asyncio.sleep(OUTAGE_S)
            finally:
                for conn in holders:
                    conn.execute("ROLLBACK")
                    conn.close()

        async def poison() -> None:
            nc = await nats.connect(stack.nats_url, **stack.connect_options("reports"))
            try:
                await nc.jetstream().publish(SUBMITTED, DEEP, headers={"Nats-Msg-Id": "chaos-deep"})
            finally:
                await nc.close()

        faults: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("nats-restart", restart_nats), *[(f"kill-{n}", kill(n)) for n in SERVICES],
            ("db-outage", database_outage), ("poison", poison)]
        # Every submission answers a requirement reports knows (an unknown one is 404).
        await open_requirements(client, [f"req-{name}-{k}" for name, _ in faults for k in range(-(-BURST // UNITS))])
        for name, fault in faults:
            # Each fault strikes a whole stack: the last one's services reconnected and ready.
            await asyncio.to_thread(stack.wait_ready, 60)
            phase = Phase(name)
            await _burst(client, phase, fault)
            phases.append(phase)
        await _quiet(stack, chaos.direct_urls)

        # --- the set checker --------------------------------------------------------------------
        urls = chaos.direct_urls
        stored = {r[0] for r in await rows(urls["reports"], "SELECT report_id FROM reports")}
        events = await _events(stack)
        event_keys = [(e["data"]["report_id"], e["data"]["revision"]) for e in events]
        event_ids = {e["id"] for e in events}
        facts = await rows(urls["awards"], "SELECT report_id, revision FROM report_facts")
        notified = await rows(urls["notify"], "SELECT event_id, count(*) FROM notifications GROUP BY event_id")
        notified_ids = {r[0] for r in notified}
        ops = await nats.connect(stack.nats_url, **stack.connect_options("operator"))
        try:
            dead = await parked(ops.jetstream())
        finally:
            await ops.close()
        valid_parked = [p for p in dead if not p.reason.startswith("malformed: nested deeper")]

        figures: dict[str, Any] = {"backend": chaos.backend, "burst": BURST, "outage_s": OUTAGE_S, "phases": {}}
        for ph in phases:
            mine = {r for r in stored if r.startswith(ph.name + "-")}
            ev = {k for k in event_keys if k[0].startswith(ph.name + "-")}
            fa = {f for f in facts if f[0].startswith(ph.name + "-")}
            figures["phases"][ph.name] = {
                "acknowledged": len(ph.acknowledged), "refused": ph.refused, "stored": len(mine),
                "events": len(ev), "awards_facts": len(fa), "seconds": ph.seconds,
                "lost": len(ph.acknowledged - mine) + len(mine - {k[0] for k in ev}) + len(ev - fa)}
        figures["notifications_missing"] = len(event_ids - notified_ids)
        figures["events_doubled"] = len(event_keys) - len(set(event_keys))
        figures["facts_doubled"] = len(facts) - len(set(facts))
        figures["parked"] = {"poison": len(dead) - len(valid_parked), "valid": len(valid_parked)}
        (chaos.tmp / "chaos.json").write_text(json.dumps(figures, indent=2))
        with capsys.disabled():
            print("\nchaos", json.dumps(figures))

        acknowledged = set().union(*(p.acknowledged for p in phases))
        assert acknowledged - stored == set(), "acknowledged submissions lost"
        assert stored <= {k[0] for k in event_keys}, "stored reports without their event"
        assert set(event_keys) == set(facts), "events awards did not count (or facts without an event)"
        assert event_ids <= notified_ids, f"{len(event_ids - notified_ids)} events without their notification"
        assert figures["events_doubled"] == 0 and figures["facts_doubled"] == 0
        assert valid_parked == [], [(p.durable, p.reason) for p in valid_parked[:5]]
        assert len(dead) >= 2  # the poison, parked by notify and awards (both consume report.submitted)
        for ph in phases:
            assert len(ph.acknowledged) >= BURST // 3, (ph.name, "the fault struck too early to test anything")
    finally:
        await client.close()
