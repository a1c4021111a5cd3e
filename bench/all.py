"""Every benchmark, one after the other, and a table of their machine-readable last lines.

    python -m bench.all [--quick] [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test]
    make bench-all

Each bench runs as its own process (they start their own nats-server and services); what it
prints goes to <tmp>/<name>.log. The table gives each bench's last line, split into fields, and
the target of issue 16 beside it. The last line printed is `benches=<n> failed=<n>`.
--quick runs them at a tenth of their size (a check that they work, not figures)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FRESH = "{fresh}"  # in an argv: a new, empty PostgreSQL database made for that bench alone


def _admin(sql: str, admin_url: str) -> None:
    import asyncio

    import asyncpg
    import sqlalchemy as sa

    url = sa.engine.make_url(admin_url)

    async def run() -> None:
        conn = await asyncpg.connect(user=url.username, password=url.password, host=url.host,
                                     port=url.port or 5432, database=url.database)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def benches(quick: bool, postgres: str | None) -> list[tuple[str, list[str], str]]:
    """(name, argv after `python -m`, target)."""
    q = quick
    out = [
        ("e2e", ["bench.e2e", "--n", "500" if q else "5000", "--open-seconds", "2" if q else "10",
                 *(["--postgres", postgres] if postgres else [])],
         "ratio ≥ 0.25; open loop 500/s p99 ≤ 50 ms"),
        ("plans_issue", ["bench.plans_issue", "--grassroots", "200" if q else "1980"], "issue_s ≤ 1"),
    ]
    if postgres:
        out.append(("plans_issue_pg", ["bench.plans_issue", "--grassroots", "200" if q else "1980", "--db", FRESH],
                    "issue_s ≤ 1"))
    out += [
        ("consolidation", ["bench.consolidation", "--grassroots", "13000" if q else "130000", "--repeat", "1"],
         "pure domain, for reference"),
        ("reports_consolidation", ["bench.reports_consolidation_e2e", "--grassroots", "13000" if q else "130000",
                                   "--repeat", "1"], "consolidate_s ≤ 2, peak ≤ 500 MB"),
        ("notify_fanout", ["bench.notify_fanout", "--units", "13000" if q else "130000"],
         "≤ 30 s (PostgreSQL); e-mail ≥ 2,000/s"),
    ]
    if postgres:
        out.append(("notify_fanout_pg", ["bench.notify_fanout", "--units", "13000" if q else "130000",
                                         "--db-url", FRESH], "≤ 30 s; e-mail ≥ 2,000/s"))
    out.append(("web_pages", ["bench.web_pages", "--grassroots", "98" if q else "980", "--rounds", "5" if q else "20"],
                "pages fast enough to feel instant"))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a tenth of the sizes: do they run at all")
    p.add_argument("--postgres", default=os.environ.get("CONGDOAN_BENCH_POSTGRES_URL"),
                   help="an (empty, or admin) PostgreSQL URL: the PostgreSQL variants too")
    p.add_argument("--only", default="", help="comma-separated bench names")
    args = p.parse_args(argv)
    logs = Path(tempfile.mkdtemp(prefix="congdoan-bench-all-"))
    rows: list[tuple[str, str, float, str, str]] = []
    only = {n for n in args.only.split(",") if n}
    for name, argv_, target in benches(args.quick, args.postgres):
        if only and name not in only:
            continue
        log = logs / f"{name}.log"
        fresh = None
        if FRESH in argv_:
            import sqlalchemy as sa

            fresh = f"bench_all_{name}_{os.getpid()}"
            _admin(f'CREATE DATABASE "{fresh}"', args.postgres)
            url = sa.engine.make_url(args.postgres).set(drivername="postgresql+asyncpg", database=fresh)
            argv_ = [url.render_as_string(hide_password=False) if a == FRESH else a for a in argv_]
        started = time.perf_counter()
        try:
            with open(log, "wb") as out:
                code = subprocess.call([sys.executable, "-m", *argv_], stdout=out, stderr=subprocess.STDOUT)
        finally:
            if fresh:
                _admin(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)', args.postgres)
        took = time.perf_counter() - started
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        last = lines[-1] if lines else ""
        rows.append((name, "ok" if code == 0 else f"exit {code}", took, last, target))
        print(f"{name}: {'ok' if code == 0 else f'exit {code}'} in {took:.0f}s: {last}", flush=True)
    print()
    print(f"{'bench':<24}{'status':<9}{'took':>7}  last line  [target]")
    for name, status, took, last, target in rows:
        print(f"{name:<24}{status:<9}{took:>6.0f}s  {last}  [{target}]")
    print(f"logs in {logs}")
    failed = sum(1 for r in rows if r[1] != "ok")
    print(f"benches={len(rows)} failed={failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
