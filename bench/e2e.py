"""End-to-end throughput and latency of the slice submit → reports → JetStream → notify, on SQLite,
beside a raw nats-py JetStream baseline measured against the same nats-server in the same run.

    python -m bench.e2e [--n 5000] [--concurrency 200] [--units 200]      # or: make bench BENCH_ARGS="--n 2000"

1. Starts a hermetic stack (`runtime.launcher.Stack`) in a temporary directory: its own nats-server
   on a free port, the services as subprocesses on free HTTP ports, one SQLite file each, logs in
   the temporary directory (kept with --keep).
2. Registers through NATS requests a provincial federation, its chairperson and `--units` grassroots
   units under it; waits until reports and notify know them (a warm-up submission per unit, until
   each is accepted and its notification stored).
3. Submits N reports with at most `--concurrency` requests in flight to
   congdoan.api.reports.v1.submit_report — report ids b-<i>, distinct (requirement, period, unit) so
   that every submission is a new report — recording each send time.
4. Reads notify's SQLite file (read-only) until the N notifications (link /reports/b-<i>) are stored.
   Latency of a report = notification.created_at − its send time; throughput = N / (last
   notification − first send).
5. Waits for every JetStream consumer of the stack to be idle, then runs `bench.raw.measure`
   (plain publish with a window + pull fetch + ack, no database) with the same N.

The last line printed is machine-readable:
    e2e_per_s=<…> raw_js_per_s=<…> ratio=<e2e/raw> p50_ms=<…> p99_ms=<…>
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
import nats.errors

from bench.raw import BENCH_USER, bench_user
from bench.raw import measure as measure_raw
from contracts.naming import SERVICES
from runtime.auth import LOADER_CLIENT, LOADER_ROLES, TokenIssuer, auth_headers
from runtime.launcher import Stack, free_port
from runtime.natsauth import new_seed, public_key

PROVINCE = "bench-prov"
CHAIR = "bench-chair"
PERIOD = "2026"


def api(service: str, endpoint: str) -> str:
    return f"congdoan.api.{service}.v1.{endpoint}"


class BenchError(RuntimeError):
    pass


class Tokens:
    """Bearer tokens signed with the stack's own key (the benchmark runs the stack, so it holds
    the key plans signs with): verifying them costs the services what a login's token costs."""

    def __init__(self, key_file: Path) -> None:
        issuer = TokenIssuer(key_file, ttl_s=3600)
        self.loader = auth_headers(issuer.issue("service", LOADER_CLIENT, roles=LOADER_ROLES)[0])
        self._issuer, self._people = issuer, {}

    def of(self, person_id: str) -> dict[str, str]:
        if person_id not in self._people:
            self._people[person_id] = auth_headers(self._issuer.issue("person", person_id)[0])
        return self._people[person_id]


TOKENS: Tokens | None = None
BENCH_SEED = Path("bench.nk")  # made per run in main(): the raw baseline's NATS user


def cadre(k: int) -> str:
    return f"bench-c{k:04d}"


async def call(nc: Any, subject: str, body: dict[str, Any], timeout: float = 30,
               as_: str | None = None) -> tuple[dict[str, str], Any]:
    assert TOKENS is not None
    msg = await nc.request(subject, json.dumps(body, ensure_ascii=False).encode(), timeout=timeout,
                           headers=TOKENS.of(as_) if as_ else TOKENS.loader)
    return dict(msg.headers or {}), (json.loads(msg.data) if msg.data else None)


def unit_id(k: int) -> str:
    return f"bench-g{k:04d}"


def submission(i: int, units: int, prefix: str = "b") -> dict[str, Any]:
    """Report i: unit i % units, requirement i // units — every (requirement, period, unit) once."""
    return {"report_id": f"{prefix}-{i}", "requirement_id": f"{prefix}-req-{i // units}", "period": PERIOD,
            "unit_id": unit_id(i % units),
            "values": {"study_sessions": i % 7 + 1, "participants": 40 + i % 300,
                       "note": "Sinh hoạt chuyên đề học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh"}}


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


# -- notify's database, read directly (read-only) ------------------------------------------------

def open_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


def _posix(created: Any) -> float:
    """notifications.created_at as a POSIX timestamp: an aware datetime from PostgreSQL; on SQLite
    AwareDateTime's text form, UTC and naive ('YYYY-MM-DD HH:MM:SS.ffffff')."""
    if isinstance(created, datetime):
        return (created if created.tzinfo else created.replace(tzinfo=UTC)).timestamp()
    return datetime.fromisoformat(created).replace(tzinfo=UTC).timestamp()


class NotifyDb:
    """notify's notifications, read by the bench itself: a SQLite file (read-only) or a PostgreSQL URL."""

    def __init__(self, target: Path | str) -> None:
        self.target = target

    async def _rows(self, sql_sqlite: str, sql_pg: str, prefix: str) -> list[Any]:
        like = f"/reports/{prefix}-%"
        if isinstance(self.target, Path):
            path = self.target

            def read() -> list[Any]:
                with open_ro(path) as conn:
                    return conn.execute(sql_sqlite, (like,)).fetchall()
            return await asyncio.to_thread(read)
        import asyncpg

        conn = await asyncpg.connect(str(self.target).replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return list(await conn.fetch(sql_pg, like))
        finally:
            await conn.close()

    async def count(self, prefix: str) -> int:
        rows = await self._rows("SELECT count(*) FROM notifications WHERE link LIKE ?",
                                "SELECT count(*) FROM notifications WHERE link LIKE $1", prefix)
        return int(rows[0][0])

    async def stored_at(self, prefix: str) -> dict[str, float]:
        """report id → its notification's created_at (POSIX)."""
        out: dict[str, float] = {}
        for link, created in await self._rows("SELECT link, created_at FROM notifications WHERE link LIKE ?",
                                              "SELECT link, created_at FROM notifications WHERE link LIKE $1", prefix):
            ts = _posix(created)
            rid = link.removeprefix("/reports/")
            out[rid] = min(ts, out.get(rid, ts))
        return out


async def wait_notifications(db: NotifyDb, prefix: str, n: int, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        got = await db.count(prefix)
        if got >= n:
            return
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout_s:.0f}s waiting for {what}: {got} of {n} notifications stored")
        await asyncio.sleep(0.1)


# -- the stack ----------------------------------------------------------------------------------

async def setup_directory(nc: Any, units: int, concurrency: int) -> None:
    h, body = await call(nc, api("plans", "register_unit"), {
        "unit_id": PROVINCE, "code": "LĐLĐ-BENCH", "name": "Liên đoàn Lao động tỉnh Bình Định",
        "kind": "provincial_federation"})
    if "Nats-Service-Error" in h:
        raise BenchError(f"register_unit {PROVINCE}: {h.get('Nats-Service-Error')} {body}")
    h, body = await call(nc, api("plans", "register_person"), {
        "person_id": CHAIR, "unit_id": PROVINCE, "full_name": "Nguyễn Mạnh Hùng", "roles": ["chairperson"],
        "email": "chair@example.org"})
    if "Nats-Service-Error" in h:
        raise BenchError(f"register_person {CHAIR}: {h.get('Nats-Service-Error')} {body}")
    sem = asyncio.Semaphore(concurrency)

    async def one(k: int) -> None:
        async with sem:
            h, body = await call(nc, api("plans", "register_unit"), {
                "unit_id": unit_id(k), "code": f"CĐCS-B{k:04d}", "name": f"Công đoàn cơ sở Công ty số {k}",
                "kind": "grassroots_union", "parent_id": PROVINCE})
            if "Nats-Service-Error" in h:
                raise BenchError(f"register_unit {unit_id(k)}: {h.get('Nats-Service-Error')} {body}")
            h, body = await call(nc, api("plans", "register_person"), {
                "person_id": cadre(k), "unit_id": unit_id(k), "full_name": f"Cán bộ công đoàn số {k}",
                "roles": ["cadre"]})
            if "Nats-Service-Error" in h:
                raise BenchError(f"register_person {cadre(k)}: {h.get('Nats-Service-Error')} {body}")

    await asyncio.gather(*(one(k) for k in range(units)))


FORM = {"form_id": "bc-bench", "version": 1, "title": "Báo cáo đo hiệu năng", "fields": [
    {"key": "study_sessions", "kind": "number", "label": "Số buổi học tập", "compulsory": False},
    {"key": "participants", "kind": "number", "label": "Số lượt người tham gia", "compulsory": False},
    {"key": "note", "kind": "text", "label": "Ghi chú", "compulsory": False}]}


async def open_requirements(nc: Any, prefix: str, count: int, timeout_s: float = 60) -> None:
    """reports takes reports only for requirements it knows: the bench's form and its requirements
    <prefix>-req-0 … (opened as the loader, once reports knows the province)."""
    h, body = await call(nc, api("reports", "register_form"), {"definition": FORM})
    if "Nats-Service-Error" in h:
        raise BenchError(f"register_form: {h.get('Nats-Service-Error')} {body}")
    deadline = time.monotonic() + timeout_s
    for r in range(count):
        while True:
            h, body = await call(nc, api("reports", "open_requirement"), {
                "requirement_id": f"{prefix}-req-{r}", "name": f"Báo cáo đo hiệu năng số {r}",
                "issuer_unit_id": PROVINCE, "reporting_kinds": ["grassroots_union"], "period": PERIOD,
                "due_date": f"{PERIOD}-12-31", "form_id": FORM["form_id"]})
            if "Nats-Service-Error" not in h:
                break
            if h.get("Nats-Service-Error-Code") != "404" or time.monotonic() > deadline:
                raise BenchError(f"open_requirement: {h.get('Nats-Service-Error')} {body}")
            await asyncio.sleep(0.2)  # reports has not learnt the province yet


async def warm_up(nc: Any, notify_db: NotifyDb, units: int, concurrency: int, timeout_s: float) -> int:
    """One submission per unit, retried until reports knows the unit; then wait for their
    notifications (which also proves notify knows the chairperson). Returns the number sent."""
    sem = asyncio.Semaphore(concurrency)
    deadline = time.monotonic() + timeout_s

    async def one(k: int) -> None:
        body = submission(k, units, prefix="w")
        while True:
            async with sem:
                h, reply = await call(nc, api("reports", "submit_report"), body, as_=cadre(k))
            if "Nats-Service-Error" not in h:
                return
            # 404: reports has not learnt the unit yet; 403: nor its cadre.
            if h.get("Nats-Service-Error-Code") not in ("403", "404") or time.monotonic() > deadline:
                raise BenchError(f"warm-up submit for {body['unit_id']}: {h.get('Nats-Service-Error-Code')} "
                                 f"{h.get('Nats-Service-Error')}")
            await asyncio.sleep(0.2)  # reports has not learnt this unit from plans' events yet

    await asyncio.gather(*(one(k) for k in range(units)))
    await wait_notifications(notify_db, "w", units, max(5.0, deadline - time.monotonic()), "warm-up notifications")
    return units


async def consumers_idle(js: Any, timeout_s: float) -> None:
    """Every consumer of the stack's streams has nothing pending nor unacked (awards included), so
    the baseline does not share the CPU with stragglers."""
    deadline = time.monotonic() + timeout_s
    while True:
        busy = []
        for stream in await js.streams_info():
            if stream.config.name.startswith("BENCH"):
                continue
            for ci in await js.consumers_info(stream.config.name):
                if ci.num_pending or ci.num_ack_pending:
                    busy.append(f"{stream.config.name}/{ci.name}:{ci.num_pending}+{ci.num_ack_pending}")
        if not busy:
            return
        if time.monotonic() > deadline:
            print(f"warning: consumers still busy before the baseline: {', '.join(busy)}", flush=True)
            return
        await asyncio.sleep(0.2)


@dataclass
class E2EResult:
    n: int
    first_send: float
    last_stored: float
    submit_s: float
    latencies_ms: list[float] = field(default_factory=list)
    reply_ms: list[float] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        span = self.last_stored - self.first_send
        return self.n / span if span > 0 else 0.0


async def measure_e2e(nc: Any, notify_db: NotifyDb, n: int, units: int, concurrency: int,
                      timeout_s: float) -> E2EResult:
    sent: dict[str, float] = {}
    reply_ms: list[float] = []
    errors: list[str] = []
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        body = submission(i, units)
        data = json.dumps(body, ensure_ascii=False).encode()
        assert TOKENS is not None
        headers = TOKENS.of(cadre(i % units))
        async with sem:
            sent[body["report_id"]] = t = time.time()
            msg = await nc.request(api("reports", "submit_report"), data, timeout=60, headers=headers)
            reply_ms.append((time.time() - t) * 1000)
        if msg.headers and "Nats-Service-Error" in msg.headers:
            errors.append(f"{body['report_id']}: {msg.headers.get('Nats-Service-Error-Code')} "
                          f"{msg.headers.get('Nats-Service-Error')}")

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    submit_s = time.perf_counter() - t0
    if errors:
        raise BenchError(f"{len(errors)} of {n} submissions refused, e.g. {errors[0]}")
    await wait_notifications(notify_db, "b", n, timeout_s, "the benchmark's notifications")
    stored = await notify_db.stored_at("b")
    missing = set(sent) - set(stored)
    if missing:
        raise BenchError(f"{len(missing)} reports have no notification, e.g. {sorted(missing)[0]}")
    lat = sorted((stored[rid] - t) * 1000 for rid, t in sent.items())
    return E2EResult(n=n, first_send=min(sent.values()), last_stored=max(stored[rid] for rid in sent),
                     submit_s=submit_s, latencies_ms=lat, reply_ms=sorted(reply_ms))


@dataclass
class OpenLoopResult:
    rate: float
    n: int
    send_lag_ms: list[float]  # how late the bench itself sent each (it must stay near 0)
    latencies_ms: list[float]  # stored notification − scheduled send
    unanswered: int = 0  # no reply within 30 s



async def measure_open_loop(nc: Any, notify_db: NotifyDb, n: int, units: int, rate: float,
                            timeout_s: float) -> OpenLoopResult:
    """N submissions at a fixed arrival rate, whatever the replies: request i leaves at t0 + i/rate
    (its own task, no cap on requests in flight), and its latency counts from that scheduled
    instant — a stack that falls behind shows it in the latency, it cannot slow the arrivals."""
    scheduled: dict[str, float] = {}
    lag: list[float] = []
    errors: list[str] = []
    t0 = time.time() + 0.5

    async def one(i: int) -> None:
        body = submission(i, units, prefix="o")
        data = json.dumps(body, ensure_ascii=False).encode()
        assert TOKENS is not None
        headers = TOKENS.of(cadre(i % units))
        at = t0 + i / rate
        await asyncio.sleep(max(0.0, at - time.time()))
        scheduled[body["report_id"]] = at
        lag.append((time.time() - at) * 1000)
        try:
            msg = await nc.request(api("reports", "submit_report"), data, timeout=30, headers=headers)
        except nats.errors.TimeoutError:  # far behind: counted, and its latency is at least the wait
            unanswered.append(body["report_id"])
            return
        if msg.headers and "Nats-Service-Error" in msg.headers:
            errors.append(f"{body['report_id']}: {msg.headers.get('Nats-Service-Error-Code')}")

    unanswered: list[str] = []
    await asyncio.gather(*(one(i) for i in range(n)))
    if errors:
        raise BenchError(f"open loop: {len(errors)} of {n} submissions refused, e.g. {errors[0]}")
    try:
        await wait_notifications(notify_db, "o", n - len(unanswered), timeout_s, "the open loop's notifications")
    except BenchError as exc:
        print(f"open loop: {exc}", flush=True)
    stored = await notify_db.stored_at("o")
    # one never stored counts as the whole wait: p99 cannot look better than it was
    worst = max(stored.values(), default=time.time())
    lat = sorted((stored.get(rid, max(worst, time.time())) - t) * 1000 for rid, t in scheduled.items())
    return OpenLoopResult(rate=rate, n=n, send_lag_ms=sorted(lag), latencies_ms=lat, unanswered=len(unanswered))


@dataclass
class Run:
    backend: str
    e2e: E2EResult
    raw: float
    raw_min: float
    open_loop: OpenLoopResult | None = None

    @property
    def ratio(self) -> float:
        return self.e2e.per_s / self.raw if self.raw else 0.0

    def line(self) -> str:
        p50, p99 = percentile(self.e2e.latencies_ms, 50), percentile(self.e2e.latencies_ms, 99)
        return (f"e2e_per_s={self.e2e.per_s:.1f} raw_js_per_s={self.raw:.1f} ratio={self.ratio:.3f} "
                f"p50_ms={p50:.1f} p99_ms={p99:.1f}")


async def run(stack: Stack, args: argparse.Namespace, backend: str, notify_db: NotifyDb) -> Run:
    global TOKENS
    TOKENS = Tokens(stack.identities["signing_key"])
    nc = await nats.connect(stack.nats_url, name="bench-e2e", **stack.connect_options("client"))
    ops = await nats.connect(stack.nats_url, name="bench-e2e-ops", **stack.connect_options("operator"))
    open_n = int(args.rate * args.open_seconds) if args.rate > 0 and backend == "sqlite" else 0
    try:
        t = time.perf_counter()
        await setup_directory(nc, args.units, min(args.concurrency, 50))
        await open_requirements(nc, "w", 1)
        await open_requirements(nc, "b", (args.n + args.units - 1) // args.units)
        if open_n:
            await open_requirements(nc, "o", (open_n + args.units - 1) // args.units)
        await warm_up(nc, notify_db, args.units, args.concurrency, timeout_s=60)
        print(f"[{backend}] directory: 1 federation, 1 chairperson, {args.units} grassroots units; warm-up of "
              f"{args.units} submissions done in {time.perf_counter() - t:.1f}s", flush=True)
        e2e = await measure_e2e(nc, notify_db, args.n, args.units, args.concurrency, args.timeout)
        js = ops.jetstream(timeout=10)
        await consumers_idle(js, timeout_s=60)
        open_loop = None
        if open_n:
            open_loop = await measure_open_loop(nc, notify_db, open_n, args.units, args.rate, args.timeout)
            await consumers_idle(js, timeout_s=60)
        raws = []
        for _ in range(args.raw_repeat):
            raws.append((await measure_raw(stack.nats_url or "", n=args.n, window=args.raw_window,
                                           fetch=args.raw_fetch, size=args.raw_size,
                                           nkeys_seed=str(BENCH_SEED), inbox_prefix=f"_INBOX.{BENCH_USER}")).per_s)
        return Run(backend, e2e, statistics.median(raws), min(raws), open_loop)
    finally:
        await nc.close()
        await ops.close()


async def _pg_databases(admin_url: str, names: tuple[str, ...]) -> dict[str, str]:
    import asyncpg
    import sqlalchemy as sa

    url = sa.engine.make_url(admin_url)
    conn = await asyncpg.connect(user=url.username, password=url.password, host=url.host, port=url.port or 5432,
                                 database=url.database)
    out = {}
    try:
        for name in names:
            db = f"bench_{name}_{os.getpid()}"
            await conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
            await conn.execute(f'CREATE DATABASE "{db}"')
            out[name] = url.set(drivername="postgresql+asyncpg", database=db).render_as_string(hide_password=False)
    finally:
        await conn.close()
    return out


async def _pg_drop(admin_url: str, urls: dict[str, str]) -> None:
    import asyncpg
    import sqlalchemy as sa

    url = sa.engine.make_url(admin_url)
    conn = await asyncpg.connect(user=url.username, password=url.password, host=url.host, port=url.port or 5432,
                                 database=url.database)
    try:
        for u in urls.values():
            await conn.execute(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(u).database}" WITH (FORCE)')
    finally:
        await conn.close()


def one_stack(args: argparse.Namespace, services: tuple[str, ...], env: dict[str, str], backend: str) -> Run:
    """A hermetic stack on `backend`, measured, stopped; its folder removed unless --keep or a failure."""
    tmp = Path(tempfile.mkdtemp(prefix=f"congdoan-bench-{backend}-"))
    global BENCH_SEED
    BENCH_SEED = tmp / "bench.nk"
    BENCH_SEED.write_bytes(new_seed())
    dbs = asyncio.run(_pg_databases(args.postgres, services)) if backend == "postgresql" else {}
    stack = Stack(data_dir=tmp / "data", nats_port=free_port(), services=services,
                  http_ports={s: free_port() for s in services}, env=env, log_dir=tmp / "logs",
                  database_urls=dbs, nats_extra_users=[bench_user(public_key(BENCH_SEED.read_bytes()))])
    keep = args.keep
    try:
        t = time.perf_counter()
        stack.start(ready_timeout=60)
        print(f"[{backend}] stack up in {time.perf_counter() - t:.1f}s: nats {stack.nats_url}, services "
              f"{', '.join(services)}, data {tmp}", flush=True)
        print(f"[{backend}] services: {', '.join(f'{s}={p.pid}' for s, p in stack.procs.items())}", flush=True)
        notify_db = NotifyDb(dbs["notify"] if dbs else stack.data_dir / "notify.db")
        return asyncio.run(run(stack, args, backend, notify_db))
    except BaseException:
        keep = True
        raise
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        codes = stack.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        bad = {s: c for s, c in codes.items() if c not in (0, None)}
        if bad:
            print(f"warning: services exited with {bad}", file=sys.stderr)
        if dbs and not keep:
            asyncio.run(_pg_drop(args.postgres, dbs))
        if keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def report(r: Run, args: argparse.Namespace) -> None:
    e2e = r.e2e
    tag = f"[{r.backend}]"
    print(f"{tag} e2e: {e2e.n} reports, concurrency {args.concurrency}, {args.units} units: all submits answered in "
          f"{e2e.submit_s:.2f}s ({e2e.n / e2e.submit_s:.1f}/s); last notification stored "
          f"{e2e.last_stored - e2e.first_send:.2f}s after the first send → {e2e.per_s:.1f}/s")
    print(f"{tag}      submit→reply  p50 {percentile(e2e.reply_ms, 50):.1f} ms  p99 {percentile(e2e.reply_ms, 99):.1f} ms")
    print(f"{tag}      submit→stored notification  p50 {percentile(e2e.latencies_ms, 50):.1f} ms  "
          f"p99 {percentile(e2e.latencies_ms, 99):.1f} ms  max {e2e.latencies_ms[-1]:.1f} ms")
    print(f"{tag} raw JetStream (same nats-server, N={args.n}, window {args.raw_window}, fetch {args.raw_fetch}): "
          f"median {r.raw:.1f}/s of {args.raw_repeat} (min {r.raw_min:.1f}/s)")
    if r.open_loop:
        o = r.open_loop
        print(f"{tag} open loop: {o.n} submissions at {o.rate:.0f}/s; the bench sent them late by p99 "
              f"{percentile(o.send_lag_ms, 99):.1f} ms; scheduled send → stored notification p50 "
              f"{percentile(o.latencies_ms, 50):.1f} ms p99 {percentile(o.latencies_ms, 99):.1f} ms "
              f"max {o.latencies_ms[-1]:.1f} ms; {o.unanswered} unanswered within 30 s")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="End-to-end submissions/s and latency (submit → stored notification) "
                                            "beside a raw JetStream baseline.")
    p.add_argument("--n", type=int, default=5000, help="reports submitted in the measured phase (default 5000)")
    p.add_argument("--concurrency", type=int, default=200, help="submit requests in flight (default 200)")
    p.add_argument("--units", type=int, default=200, help="grassroots units (default 200)")
    p.add_argument("--services", default=",".join(SERVICES),
                   help="services to start (default: all four, as `make run`); plans,reports,notify is the minimum")
    p.add_argument("--timeout", type=float, default=120, help="seconds to wait for the N notifications")
    p.add_argument("--rate", type=float, default=500,
                   help="open loop: submissions per second at a fixed arrival rate (0: no open loop; SQLite only)")
    p.add_argument("--open-seconds", type=float, default=10, help="open loop: how long the arrivals last")
    p.add_argument("--postgres", default=os.environ.get("CONGDOAN_BENCH_POSTGRES_URL"),
                   help="a PostgreSQL admin URL: the same measurement on PostgreSQL, printed above the last line "
                        "(default: $CONGDOAN_BENCH_POSTGRES_URL; none: SQLite only)")
    p.add_argument("--raw-window", type=int, default=500, help="baseline: publishes in flight")
    p.add_argument("--raw-fetch", type=int, default=500, help="baseline: pull batch")
    p.add_argument("--raw-size", type=int, default=400, help="baseline: payload bytes")
    p.add_argument("--raw-repeat", type=int, default=3, help="baseline runs; the median is reported")
    p.add_argument("--log-level", default=None, help="CONGDOAN_LOG_LEVEL of the services (default: theirs)")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment for the services, e.g. CONGDOAN_FETCH_BATCH=500 (repeatable)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (databases, logs)")
    args = p.parse_args(argv)
    services = tuple(s.strip() for s in args.services.split(",") if s.strip())
    for need in ("plans", "reports", "notify"):
        if need not in services:
            p.error(f"--services must include {need}")
    env = dict(kv.split("=", 1) for kv in args.env)
    if args.log_level:
        env["CONGDOAN_LOG_LEVEL"] = args.log_level
    # SIGTERM like Ctrl-C: unwind through `finally` and stop the stack.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    runs: list[Run] = []
    try:
        for backend in ("sqlite", *(("postgresql",) if args.postgres else ())):
            runs.append(one_stack(args, services, env, backend))
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the stack", file=sys.stderr, flush=True)
        return 130
    except (BenchError, RuntimeError, TimeoutError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr, flush=True)
        return 1
    for r in runs:
        report(r, args)
    first = runs[0]
    if first.open_loop:
        o = first.open_loop
        print(f"open_loop rate_per_s={o.rate:.0f} n={o.n} p50_ms={percentile(o.latencies_ms, 50):.1f} "
              f"p99_ms={percentile(o.latencies_ms, 99):.1f} send_lag_p99_ms={percentile(o.send_lag_ms, 99):.1f} "
              f"unanswered={o.unanswered}")
    for r in runs[1:]:
        print(f"{r.backend} {r.line()}")
    print(first.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
