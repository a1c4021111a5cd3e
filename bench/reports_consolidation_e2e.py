"""Consolidation at national scale through the reports service's own code path: the database
(SQLite by default, PostgreSQL with --database-url), the directory projection, the requirement,
~117,000 stored reports, then the use cases `get_completeness` and `consolidate` (DOCX + XLSX)
as the endpoints run them — without NATS (the request/reply hop is not what is measured).

    python -m bench.reports_consolidation_e2e [--grassroots 130000] [--database-url postgresql+asyncpg://…]

1. Generates the hierarchy and submissions of `bench.consolidation` (1 national federation,
   63 provinces, 700 upper-level unions, N grassroots unions; ~90% submitted: 85% accepted, 10%
   waiting, 5% returned) and writes them straight into a fresh database migrated to head
   (dir_units, dir_parents, one requirement, the reports).
2. Times, each the best of --repeat: the reads alone (snapshot of the period's hierarchy +
   the submissions), `get_completeness` of the nation (counting "received"), and `consolidate` of
   the nation (counting "accepted": consolidation, DOCX with the 63 provinces, XLSX with every
   missing unit), then the peak of Python memory during one `consolidate` (tracemalloc) and the
   process's max RSS.

The last line printed is machine-readable:
    units=<…> reports=<…> reads_s=<…> completeness_s=<…> consolidate_s=<…> peak_mb=<…> max_rss_mb=<…>
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime
from pathlib import Path

from bench.consolidation import generate
from contracts.api import reports as api
from runtime.app import Runtime
from runtime.auth import Principal
from runtime.clock import TZ
from runtime.db import migrate
from runtime.directory import dir_parents, dir_people, dir_units
from runtime.settings import load_settings
from services.reports.adapters.orm import reports, requirements
from services.reports.entrypoints.main import DEFINITION
from services.reports.service_layer.consolidating import consolidate_reports, get_completeness
from services.reports.service_layer.context import Config, Context

AS_OF = date(2026, 11, 30)
REQ = "bc-01-kl-tw-2026"
CHAIR = "bench-vn-chair"
WHO = Principal("person", CHAIR)


async def load(rt: Runtime, parents: dict, names: dict, kinds: dict, submissions: list) -> None:
    since = date(2026, 1, 1)
    at = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
    status = {"accepted": "accepted", "submitted": "submitted", "returned": "returned"}
    async with rt.engine.begin() as conn:
        units = list(parents)
        for i in range(0, len(units), 10_000):
            chunk = units[i:i + 10_000]
            await conn.execute(dir_units.insert(), [{"unit_id": u, "code": u, "name": names[u], "kind": kinds[u],
                                                     "registered_on": since} for u in chunk])
            await conn.execute(dir_parents.insert(), [{"unit_id": u, "parent_id": parents[u], "valid_from": since,
                                                       "valid_to": None} for u in chunk])
        # The national federation's chairperson asks (an acting person of the root unit).
        await conn.execute(dir_people.insert().values(person_id=CHAIR, unit_id="vn", full_name="Nguyễn Đình Khang",
                                                      roles=["chairperson"], email=None, phone=None, active=True))
        await conn.execute(requirements.insert().values(
            requirement_id=REQ, name="Báo cáo kết quả thực hiện Kết luận số 01-KL/TW năm 2026", issuer_unit_id="vn",
            receiving_unit_id="vn", reporting_kinds=["provincial_federation", "upper_level_union", "grassroots_union"],
            period="2026", due_date=AS_OF, grace_days=0, form_id="bc-01-kl-tw", form_version=1, reminder_days=[],
            opened_at=at))
        for i in range(0, len(submissions), 10_000):
            await conn.execute(reports.insert(), [{
                "report_id": f"r-{s.unit_id}", "requirement_id": REQ, "period": "2026", "unit_id": s.unit_id,
                "receiving_unit_id": parents[s.unit_id], "revision": 1, "submitted_at": at, "due_date": AS_OF,
                "on_time": s.on_time, "values": s.values, "status": status[str(s.status)], "first_submitted_at": at,
                "figures": {k: v for k, v in s.values.items() if type(v) in (int, float)},
                "form_id": "bc-01-kl-tw", "form_version": 1} for s in submissions[i:i + 10_000]])


async def best_of(repeat: int, fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, out = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = await fn()
        best = min(best, time.perf_counter() - t)
    return best, out


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="congdoan-consolidation-"))
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'reports.db'}"
    rt = Runtime(DEFINITION, load_settings("reports", database_url=url, data_dir=tmp))
    try:
        await migrate(rt.engine, DEFINITION.migrations)
        t = time.perf_counter()
        parents, names, kinds, _, submissions = generate(args.grassroots, args.provinces, args.upper, args.share,
                                                         args.seed)
        await load(rt, parents, names, kinds, submissions)
        print(f"{len(parents)} units, {len(submissions)} reports written in {time.perf_counter() - t:.1f} s "
              f"({url.split(':')[0]})", file=sys.stderr)
        ctx = Context(Config(exports_dir=tmp / "exports"))

        async def snapshot():  # type: ignore[no-untyped-def]
            async with rt.uow() as uow:
                return await uow.hierarchy.snapshot(AS_OF)

        async def figures():  # type: ignore[no-untyped-def]
            async with rt.uow() as uow:
                return await uow.reports.submissions(REQ, "2026", with_values=True, times=False)  # as _load

        snapshot_s, _ = await best_of(args.repeat, snapshot)
        figures_s, _ = await best_of(args.repeat, figures)
        reads_s = snapshot_s + figures_s
        print(f"reads: snapshot of the period's hierarchy {snapshot_s:.3f} s, reports' figures {figures_s:.3f} s",
              file=sys.stderr)
        comp_s, comp = await best_of(args.repeat, lambda: get_completeness(
            api.GetCompleteness(requirement_id=REQ, counting="received"), WHO, rt.uow(), ctx))
        cons_s, cons = await best_of(args.repeat, lambda: consolidate_reports(
            api.Consolidate(requirement_id=REQ, number="01", signer_name="Nguyễn Đình Khang"), WHO, rt.uow(), ctx))
        c = cons.completeness  # type: ignore[attr-defined]
        print(f"national ({cons.counting}): expected={c.expected} submitted={c.submitted} on_time={c.on_time} "  # type: ignore[attr-defined]
              f"late={c.late} missing={c.missing} (returned={c.returned} pending={c.pending}); "
              f"{len(cons.children)} provinces; docx {Path(cons.docx).stat().st_size // 1024} KiB, "  # type: ignore[attr-defined]
              f"xlsx {Path(cons.xlsx).stat().st_size // 1024} KiB", file=sys.stderr)  # type: ignore[attr-defined]
        print(f"completeness (received): {json.dumps(comp.completeness.model_dump())}", file=sys.stderr)  # type: ignore[attr-defined]
        gc.collect()
        tracemalloc.start()
        await consolidate_reports(api.Consolidate(requirement_id=REQ), WHO, rt.uow(), ctx)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"units={len(parents)} reports={len(submissions)} reads_s={reads_s:.3f} completeness_s={comp_s:.3f} "
              f"consolidate_s={cons_s:.3f} peak_mb={peak / 2**20:.1f} max_rss_mb={rss:.0f}")
    finally:
        await rt.engine.dispose()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grassroots", type=int, default=130_000)
    ap.add_argument("--provinces", type=int, default=63)
    ap.add_argument("--upper", type=int, default=700)
    ap.add_argument("--share", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--database-url", default=None, help="an empty database (default: a temporary SQLite file)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (database, exports)")
    asyncio.run(run(ap.parse_args(argv)))


if __name__ == "__main__":
    main()
