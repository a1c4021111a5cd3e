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


def count_notifications(path: Path, prefix: str) -> int:
    with open_ro(path) as conn:
        return int(conn.execute("SELECT count(*) FROM notifications WHERE link LIKE ?",
                                (f"/reports/{prefix}-%",)).fetchone()[0])


def stored_at(path: Path, prefix: str) -> dict[str, float]:
    """report id → notification created_at as a POSIX timestamp. AwareDateTime stores UTC, naive,
    on SQLite (SQLAlchemy's text form 'YYYY-MM-DD HH:MM:SS.ffffff')."""
    out: dict[str, float] = {}
    with open_ro(path) as conn:
        for link, created in conn.execute("SELECT link, created_at FROM notifications WHERE link LIKE ?",
                                          (f"/reports/{prefix}-%",)):
            ts = datetime.fromisoformat(created).replace(tzinfo=UTC).timestamp()
            rid = link.removeprefix("/reports/")
            out[rid] = min(ts, out.get(rid, ts))
    return out


async def wait_notifications(path: Path, prefix: str, n: int, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        got = await asyncio.to_thread(count_notifications, path, prefix)
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


async def warm_up(nc: Any, notify_db: Path, units: int, concurrency: int, timeout_s: float) -> int:
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


async def measure_e2e(nc: Any, notify_db: Path, n: int, units: int, concurrency: int,
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
    stored = await asyncio.to_thread(stored_at, notify_db, "b")
    missing = set(sent) - set(stored)
    if missing:
        raise BenchError(f"{len(missing)} reports have no notification, e.g. {sorted(missing)[0]}")
    lat = sorted((stored[rid] - t) * 1000 for rid, t in sent.items())
    return E2EResult(n=n, first_send=min(sent.values()), last_stored=max(stored[rid] for rid in sent),
                     submit_s=submit_s, latencies_ms=lat, reply_ms=sorted(reply_ms))


async def run(stack: Stack, args: argparse.Namespace) -> tuple[E2EResult, float, float]:
    global TOKENS
    TOKENS = Tokens(stack.identities["signing_key"])
    notify_db = stack.data_dir / "notify.db"
    nc = await nats.connect(stack.nats_url, name="bench-e2e", **stack.connect_options("client"))
    ops = await nats.connect(stack.nats_url, name="bench-e2e-ops", **stack.connect_options("operator"))
    try:
        t = time.perf_counter()
        await setup_directory(nc, args.units, min(args.concurrency, 50))
        await open_requirements(nc, "w", 1)
        await open_requirements(nc, "b", (args.n + args.units - 1) // args.units)
        await warm_up(nc, notify_db, args.units, args.concurrency, timeout_s=60)
        print(f"directory: 1 federation, 1 chairperson, {args.units} grassroots units; warm-up of {args.units} "
              f"submissions done in {time.perf_counter() - t:.1f}s", flush=True)
        e2e = await measure_e2e(nc, notify_db, args.n, args.units, args.concurrency, args.timeout)
        await consumers_idle(ops.jetstream(timeout=10), timeout_s=60)
        raws = []
        for _ in range(args.raw_repeat):
            raws.append((await measure_raw(stack.nats_url or "", n=args.n, window=args.raw_window,
                                           fetch=args.raw_fetch, size=args.raw_size,
                                           nkeys_seed=str(BENCH_SEED), inbox_prefix=f"_INBOX.{BENCH_USER}")).per_s)
        raw = statistics.median(raws)
        return e2e, raw, min(raws)
    finally:
        await nc.close()
        await ops.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="End-to-end submissions/s and latency (submit → stored notification) "
                                            "beside a raw JetStream baseline.")
    p.add_argument("--n", type=int, default=5000, help="reports submitted in the measured phase (default 5000)")
    p.add_argument("--concurrency", type=int, default=200, help="submit requests in flight (default 200)")
    p.add_argument("--units", type=int, default=200, help="grassroots units (default 200)")
    p.add_argument("--services", default=",".join(SERVICES),
                   help="services to start (default: all four, as `make run`); plans,reports,notify is the minimum")
    p.add_argument("--timeout", type=float, default=120, help="seconds to wait for the N notifications")
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

    tmp = Path(tempfile.mkdtemp(prefix="congdoan-bench-"))
    env = dict(kv.split("=", 1) for kv in args.env)
    if args.log_level:
        env["CONGDOAN_LOG_LEVEL"] = args.log_level
    global BENCH_SEED
    BENCH_SEED = tmp / "bench.nk"
    BENCH_SEED.write_bytes(new_seed())
    stack = Stack(data_dir=tmp / "data", nats_port=free_port(), services=services,
                  http_ports={s: free_port() for s in services}, env=env, log_dir=tmp / "logs",
                  nats_extra_users=[bench_user(public_key(BENCH_SEED.read_bytes()))])
    # SIGTERM like Ctrl-C: unwind through `finally` and stop the stack.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    code = 0
    try:
        t = time.perf_counter()
        stack.start(ready_timeout=60)
        print(f"stack up in {time.perf_counter() - t:.1f}s: nats {stack.nats_url}, services {', '.join(services)}, "
              f"data {tmp}", flush=True)
        print(f"services: {', '.join(f'{s}={p.pid}' for s, p in stack.procs.items())}", flush=True)
        e2e, raw, raw_min = asyncio.run(run(stack, args))
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the stack", file=sys.stderr, flush=True)
        code = 130
    except (BenchError, RuntimeError, TimeoutError) as exc:
        print(f"bench failed: {exc}  (logs: {tmp / 'logs'})", file=sys.stderr, flush=True)
        args.keep = True
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        codes = stack.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        elif code:
            print(f"kept {tmp}", file=sys.stderr)
    if code:
        return code
    bad = {s: c for s, c in codes.items() if c not in (0, None)}
    p50, p99 = percentile(e2e.latencies_ms, 50), percentile(e2e.latencies_ms, 99)
    ratio = e2e.per_s / raw if raw else 0.0
    print(f"e2e: {e2e.n} reports, concurrency {args.concurrency}, {args.units} units: all submits answered in "
          f"{e2e.submit_s:.2f}s ({e2e.n / e2e.submit_s:.1f}/s); last notification stored "
          f"{e2e.last_stored - e2e.first_send:.2f}s after the first send → {e2e.per_s:.1f}/s")
    print(f"     submit→reply  p50 {percentile(e2e.reply_ms, 50):.1f} ms  p99 {percentile(e2e.reply_ms, 99):.1f} ms")
    print(f"     submit→stored notification  p50 {p50:.1f} ms  p99 {p99:.1f} ms  max {e2e.latencies_ms[-1]:.1f} ms")
    print(f"raw JetStream (same nats-server, N={args.n}, window {args.raw_window}, fetch {args.raw_fetch}): "
          f"median {raw:.1f}/s of {args.raw_repeat} (min {raw_min:.1f}/s)")
    if bad:
        print(f"warning: services exited with {bad}", file=sys.stderr)
    if args.keep:
        print(f"kept {tmp}")
    print(f"e2e_per_s={e2e.per_s:.1f} raw_js_per_s={raw:.1f} ratio={ratio:.3f} p50_ms={p50:.1f} p99_ms={p99:.1f}",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
