"""Server time of the web front-end's pages with a province of about 1,000 units.

    python -m bench.web_pages [--grassroots 980] [--rounds 20] [--keep]

Starts the stack of `make run` (nats-server, the four services, the web process) in a temporary
directory on free ports, the shared clock at 15/10/2026, the demo hierarchy with `--grassroots`
grassroots unions (plus the province, its departments and 15 upper-level unions) and the seed
plan issued; a share of the grassroots unions submit their 30/11 report. Then, logged in as a
grassroots chair, an upper-level union's chair and the head of Ban TG-NC, it requests each page
`--rounds` times and prints the median and the 95th percentile of the server's own time
(`Server-Timing: app;dur=…`, the time to the response's start), one line per page, and a
machine-readable last line: `pages=<n> worst_p50_ms=<…> worst_p95_ms=<…>`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import nats

from contracts.naming import SERVICES
from runtime.client import ApiClient, RequestFailed
from runtime.clock import set_shared_time
from runtime.launcher import Stack, free_port

PASSWORD = "Mat-khau-bench-2026"
REQ = "kh-01-kl-tw-ldld-bd:II.3.a:2026"
VALUES = {"study_sessions": 4, "participants": 120, "cadres_total": 9, "cadres_with_plans": 7, "members_total": 80,
          "members_with_plans": 60, "exemplary_models": 1, "commended_collectives": 0, "commended_individuals": 2,
          "news_posts": 5, "results": "Hoàn thành kế hoạch.", "limitations": "Không có.", "next_year_tasks": "Tiếp tục."}


async def prepare(stack: Stack, grassroots: int) -> dict[str, str]:
    from datetime import datetime

    from runtime.clock import TZ
    from services.plans.cli import load_demo
    from services.plans.seed.demo import demo_hierarchy

    nc = await nats.connect(stack.nats_url, **stack.connect_options("client"))
    try:
        loader = await ApiClient.for_service(nc, "loader", Path(stack.identities["loader_secret"]).read_text().strip())
        started = time.monotonic()
        await load_demo(grassroots=grassroots, api=loader, password=PASSWORD, log=print)
        print(f"demo loaded in {time.monotonic() - started:.0f}s")
        units, _ = demo_hierarchy(grassroots)
        chairs = [f"p-{u.unit_id}-1" for u in units if u.kind == "grassroots_union"]
        upper = next(u for u in units if u.kind == "upper_level_union")
        for pid in [chairs[1], f"p-{upper.unit_id}-1"]:
            try:
                await loader.request("plans", "set_login", {"person_id": pid, "username": pid, "password": PASSWORD,
                                                            "must_change_password": False})
            except RequestFailed as exc:
                if exc.code != "conflict":
                    raise
        # Reports of one grassroots union in three, submitted by tokens minted for their chairs
        # through plans' own login would take a login each: the loader cannot act for units, so
        # only the demo's logins submit (the demo's chairs of the active units).
        sem = asyncio.Semaphore(16)
        sent = 0

        async def submit(i: int, u: Any) -> None:
            nonlocal sent
            async with sem:
                try:
                    c = await ApiClient.login(nc, f"p-{u.unit_id}-1", PASSWORD)
                except RequestFailed:
                    return
                try:
                    await c.request("reports", "submit_report", {"requirement_id": REQ, "period": "2026",
                                                                 "unit_id": u.unit_id, "values": VALUES})
                    sent += 1
                except RequestFailed:
                    pass
        await asyncio.gather(*(submit(i, u) for i, u in enumerate(x for x in units if x.kind == "grassroots_union")))
        print(f"{sent} reports submitted")
        ops = await nats.connect(stack.nats_url, **stack.connect_options("operator"))  # the one user that moves the clock
        try:
            await set_shared_time(ops.jetstream(), datetime(2026, 11, 20, 9, 0, tzinfo=TZ))
        finally:
            await ops.close()
        return {"chair": chairs[1], "unit": chairs[1].removeprefix("p-").removesuffix("-1"),
                "upper": f"p-{upper.unit_id}-1", "tgnc": "p-ldld-bd-ban-tgnc-1"}
    finally:
        await nc.close()


async def measure(url: str, who: dict[str, str], rounds: int) -> list[tuple[str, float, float]]:
    pages = {
        "chair": ["/", "/reports", f"/reports/requirements/{REQ}/2026/{who['unit']}", "/notices", "/plans",
                  "/plans/kh-01-kl-tw-ldld-bd", "/plans/tasks", "/individual"],
        "upper": ["/", "/reports", f"/reports/requirements/{REQ}/received", "/org"],
        "tgnc": ["/", f"/reports/requirements/{REQ}/completeness", f"/reports/requirements/{REQ}/received",
                 "/notices"],
    }
    out = []
    for role, paths in pages.items():
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            page = await c.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            r = await c.post("/login", data={"csrf": csrf, "username": who[role], "password": PASSWORD, "next": "/"})
            assert r.status_code == 303, r.text[:500]
            for path in paths:
                times = []
                for _ in range(rounds):
                    r = await c.get(path)
                    assert r.status_code == 200, (path, r.status_code, r.text[:300])
                    times.append(float(r.headers["server-timing"].split("dur=")[1]))
                times.sort()
                p50, p95 = statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]
                out.append((f"{role:<6} {path}", p50, p95))
                print(f"{role:<6} {path:<70} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms", flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grassroots", type=int, default=980)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="congdoan-web-bench-"))
    ports = {n: free_port() for n in SERVICES}
    ports["web"] = free_port()
    stack = Stack(data_dir=tmp / "var", nats_port=free_port(), http_ports=ports, log_dir=tmp / "logs",
                  frontends=("web",), env={"CONGDOAN_LOG_LEVEL": "WARNING"})
    try:
        stack.start_nats()

        async def pin() -> None:
            from datetime import datetime

            from runtime.clock import TZ
            nc = await nats.connect(stack.nats_url, **stack.connect_options("operator"))
            await set_shared_time(nc.jetstream(), datetime(2026, 10, 15, 9, 0, tzinfo=TZ))
            await nc.close()
        asyncio.run(pin())
        stack.start_services(120)
        who = asyncio.run(prepare(stack, args.grassroots))
        results = asyncio.run(measure(f"http://127.0.0.1:{ports['web']}", who, args.rounds))
        print(f"pages={len(results)} worst_p50_ms={max(r[1] for r in results):.1f} "
              f"worst_p95_ms={max(r[2] for r in results):.1f}")
    finally:
        stack.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
