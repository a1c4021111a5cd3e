"""Command line of the plans service. Everything goes through the service's NATS requests, so it
works against a running stack (`make run`, or NATS_URL) and is idempotent (ids are fixed, retries
are answered with the same result).

    python -m services.plans.cli import-units FILE [--effective-from 2020-01-01] [--actor-id ID]
    python -m services.plans.cli load-seed [--file services/plans/seed/seed_plan.json] [--issued-on 2026-11-25]
    python -m services.plans.cli load-demo [--grassroots 240] [--no-seed]     # what `make run` calls
    python -m services.plans.cli demo-csv [--grassroots 240] > units.csv
    python -m services.plans.cli show-plan [--plan-id kh-01-kl-tw-ldld-bd]
    python -m services.plans.cli rollup [--plan-id …] [--unit ID] [--year 2026]
    python -m services.plans.cli dump-seed      # rewrite the seed plan file from domain/seed_plan.py

NATS: --nats-url, else NATS_URL, else the embedded stack's nats://127.0.0.1:4223.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

SEED_DIR = Path(__file__).resolve().parent / "seed"
SEED_FILE = SEED_DIR / "seed_plan.json"
SEED_PLAN_ID = "kh-01-kl-tw-ldld-bd"
CHUNK_BYTES = 200_000  # below the runtime's 256 KiB request limit, with room for the JSON envelope


class RequestFailed(RuntimeError):
    def __init__(self, subject: str, error: dict[str, Any]) -> None:
        details = "; ".join(f"{d.get('field')}: {d.get('message')}" for d in error.get("details", [])[:20])
        super().__init__(f"{subject}: {error.get('code')}: {error.get('message')}" + (f" ({details})" if details else ""))
        self.error = error


def subject(endpoint: str) -> str:
    return f"congdoan.api.plans.v1.{endpoint}"


async def request(nc: Any, endpoint: str, body: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
    import nats.errors

    payload = json.dumps(body, ensure_ascii=False, default=str).encode()
    for attempt in range(50):  # a service that just started may not have its endpoints on the server yet
        try:
            msg = await nc.request(subject(endpoint), payload, timeout=timeout)
            break
        except nats.errors.NoRespondersError:
            if attempt == 49:
                raise
            await asyncio.sleep(0.2)
    data = json.loads(msg.data) if msg.data else {}
    if (msg.headers or {}).get("Nats-Service-Error-Code") or "error" in data:
        raise RequestFailed(endpoint, data.get("error", {"message": str(msg.headers)}))
    return data


# --- loaders (the launcher can call these, see load_demo) -------------------------------------------

def split_csv(text: str, limit: int = CHUNK_BYTES) -> list[str]:
    """Parts of at most `limit` bytes, each ending on a line boundary (the header stays in part 1)."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        n = len(line.encode())
        if current and size + n > limit:
            parts.append("".join(current))
            current, size = [], 0
        current.append(line)
        size += n
    if current:
        parts.append("".join(current))
    return parts


async def import_units(nc: Any, text: str, *, import_id: str | None = None, effective_from: date | None = None,
                       actor_id: str | None = None) -> dict[str, Any]:
    """Send a CSV in parts; the last part imports everything (or nothing, with every bad line)."""
    import_id = import_id or f"imp-{uuid.uuid4().hex[:16]}"
    parts = split_csv(text)
    reply: dict[str, Any] = {}
    for i, part in enumerate(parts, start=1):
        body: dict[str, Any] = {"import_id": import_id, "part": i, "parts": len(parts), "csv": part}
        if effective_from:
            body["effective_from"] = effective_from.isoformat()
        if actor_id:
            body["actor_id"] = actor_id
        reply = await request(nc, "import_units", body, timeout=300 if i == len(parts) else 30)
    return reply


async def register_people(nc: Any, people: list[Any], concurrency: int = 32) -> int:
    sem = asyncio.Semaphore(concurrency)

    async def one(p: Any) -> None:
        async with sem:
            await request(nc, "register_person", {"person_id": p.person_id, "unit_id": p.unit_id,
                                                  "full_name": p.full_name, "roles": list(p.roles), "email": p.email,
                                                  "phone": p.phone})

    await asyncio.gather(*(one(p) for p in people))
    return len(people)


def read_plan_file(path: Path = SEED_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


async def load_seed(nc: Any, *, path: Path = SEED_FILE, plan_id: str | None = None, issuer_id: str | None = None,
                    issued_on: date | None = None, issue: bool = True, actor_id: str | None = None) -> dict[str, Any]:
    """Create the plan of the file as a draft and issue it (both idempotent)."""
    spec = read_plan_file(path)
    document = dict(spec["document"])
    if issuer_id:
        document["issuer_unit_id"] = issuer_id
    plan_id = plan_id or spec.get("plan_id") or SEED_PLAN_ID
    body: dict[str, Any] = {"plan_id": plan_id, "document": document}
    if actor_id:
        body["actor_id"] = actor_id
    plan = await request(nc, "create_plan", body)
    out: dict[str, Any] = {"plan_id": plan_id, "status": plan["status"], "items": sum(len(s["items"]) for s in document["sections"])}
    if issue:
        ibody: dict[str, Any] = {"plan_id": plan_id}
        if issued_on:
            ibody["issued_on"] = issued_on.isoformat()
        if actor_id:
            ibody["actor_id"] = actor_id
        out["issue"] = await request(nc, "issue_plan", ibody, timeout=600)
    return out


async def load_demo(nats_url: str | None = None, *, grassroots: int = 240, seed_plan: bool = True,
                    issued_on: date | None = None, activity: bool = True, log: Any = print) -> dict[str, Any]:
    """The demo of `make run`: the demo hierarchy with its people, then the seed plan, issued,
    and (unless activity=False) some progress on it. Idempotent: a second run changes nothing.
    The launcher can call it once every /readyz is 200 (`python -m services.plans.cli load-demo`)."""
    import nats

    from services.plans.seed.demo import demo_hierarchy, units_csv

    nc = await nats.connect(nats_url or default_nats_url(), connect_timeout=5)
    try:
        units, people = demo_hierarchy(grassroots)
        imported = await import_units(nc, units_csv(units), import_id=f"demo-{grassroots}")
        log(f"plans demo: {len(units)} units ({imported.get('imported', 0)} new)")
        await register_people(nc, people)
        log(f"plans demo: {len(people)} people")
        out: dict[str, Any] = {"units": len(units), "people": len(people)}
        if seed_plan:
            out["plan"] = await load_seed(nc, issued_on=issued_on)
            issue = out["plan"].get("issue", {})
            log(f"plans demo: seed plan {out['plan']['plan_id']} issued (revision {issue.get('revision')}, "
                f"{issue.get('occurrences', 0)} task occurrences for {issue.get('units', 0)} units"
                + (", already there" if issue.get("duplicate") else "") + ")")
            if activity:
                year = date.fromisoformat(issue["issued_on"]).year
                out["activity"] = await demo_activity(nc, out["plan"]["plan_id"], units, people, year)
                log(f"plans demo: progress {out['activity']}; see `python -m services.plans.cli rollup`")
        return out
    finally:
        await nc.close()


async def demo_activity(nc: Any, plan_id: str, units: list[Any], people: list[Any], year: int) -> dict[str, int]:
    """Some progress to look at (deterministic, idempotent): a third of the grassroots unions
    registered their implementation plan, a quarter sent their 30/11 report, a fifth are at work on
    the yearly study; the federation's leaders wrote their individual plans."""
    sem = asyncio.Semaphore(16)
    counts = {"implementation_plans": 0, "reports_done": 0, "in_progress": 0, "individual_plans": 0}
    grassroots = [u for u in units if u.kind == "grassroots_union"]

    async def unit_work(i: int, u: Any) -> None:
        chair = f"p-{u.unit_id}-1"
        async with sem:
            if i % 3 == 0:
                await request(nc, "register_implementation_plan", {
                    "unit_id": u.unit_id, "parent_plan_id": plan_id, "number": f"{i + 1:02d}/KH-CĐCS", "year": year,
                    "actor_id": chair})
                counts["implementation_plans"] += 1
            if i % 4 == 0 or i % 5 == 0:
                tasks = await request(nc, "list_tasks", {"unit_id": u.unit_id, "plan_id": plan_id, "year": year,
                                                         "actor_id": chair, "page": {"limit": 100}})
                by_item = {t["item_id"]: t for t in tasks["items"]}
                if i % 4 == 0 and "II.3.a" in by_item and by_item["II.3.a"]["category"] != "overdue":
                    await request(nc, "update_task", {"occurrence_id": by_item["II.3.a"]["occurrence_id"],
                                                      "status": "done", "actor_id": chair,
                                                      "evidence": f"Báo cáo số {i + 1:02d}/BC-CĐCS gửi Ban TG-NC"})
                    counts["reports_done"] += 1
                if i % 5 == 0 and "II.1.a" in by_item and by_item["II.1.a"]["status"] == "open":
                    await request(nc, "update_task", {"occurrence_id": by_item["II.1.a"]["occurrence_id"],
                                                      "status": "in_progress", "actor_id": chair})
                    counts["in_progress"] += 1

    await asyncio.gather(*(unit_work(i, u) for i, u in enumerate(grassroots)))
    leaders = [p for p in people if p.unit_id == units[0].unit_id and "executive_member" in p.roles]
    for p in leaders[:5]:
        await request(nc, "submit_individual_plan", {
            "person_id": p.person_id, "year": year, "actor_id": p.person_id, "parent_plan_id": plan_id,
            "commitments": [f"Học tập, quán triệt chuyên đề năm {year} và viết bài thu hoạch",
                            "Mỗi quý dự sinh hoạt chuyên đề tại một công đoàn cơ sở",
                            "Nêu gương trong hội họp, đi cơ sở, sử dụng xe và tài sản công"]})
        counts["individual_plans"] += 1
    return counts


def default_nats_url() -> str:
    return os.environ.get("NATS_URL") or f"nats://127.0.0.1:{os.environ.get('CONGDOAN_NATS_PORT', '4223')}"


# --- commands -----------------------------------------------------------------------------------

async def _with_nc(args: argparse.Namespace, fn: Any) -> Any:
    import nats

    nc = await nats.connect(args.nats_url or default_nats_url(), connect_timeout=5)
    try:
        return await fn(nc)
    finally:
        await nc.close()


def _print(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def dump_seed(path: Path = SEED_FILE) -> dict[str, Any]:
    from services.plans.domain.seed_plan import SEED_PLAN

    document = SEED_PLAN.to_dict()
    document = {"number": document.pop("number"), "number_is_placeholder": document.pop("number_is_placeholder"),
                "title": document.pop("title"), "issuer_unit_id": "ldld-bd", **document,
                "parent_plan_id": None, "until_year": None}
    spec = {"plan_id": SEED_PLAN_ID,
            "source": "seed/000_a443f19bbe933251.txt (Kế hoạch thực hiện Kết luận số 01-KL/TW, LĐLĐ tỉnh Bình Định)",
            "notes": ["The text shows no plan number: `number` is a placeholder (number_is_placeholder).",
                      "The text shows no issue date: issue_plan gives one (default: today).",
                      "issuer_unit_id is the demo federation; load-seed --issuer-id sets another.",
                      "until_year null: the plan runs until it is closed."],
            "document": document}
    path.write_text(json.dumps(spec, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return spec


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m services.plans.cli", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nats-url", default=None)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("import-units", help="import a CSV of units (all or nothing)")
    s.add_argument("file", type=Path)
    s.add_argument("--effective-from", type=date.fromisoformat)
    s.add_argument("--actor-id")
    s.add_argument("--import-id")
    s = sub.add_parser("load-seed", help="create and issue the seed plan (idempotent)")
    s.add_argument("--file", type=Path, default=SEED_FILE)
    s.add_argument("--plan-id")
    s.add_argument("--issuer-id")
    s.add_argument("--issued-on", type=date.fromisoformat)
    s.add_argument("--actor-id")
    s.add_argument("--no-issue", action="store_true")
    s = sub.add_parser("load-demo", help="the demo hierarchy, its people and the seed plan (idempotent)")
    s.add_argument("--grassroots", type=int, default=240)
    s.add_argument("--no-seed", action="store_true")
    s.add_argument("--no-activity", action="store_true", help="no demo progress on the plan")
    s.add_argument("--issued-on", type=date.fromisoformat)
    s = sub.add_parser("demo-csv", help="print the CSV of the demo hierarchy")
    s.add_argument("--grassroots", type=int, default=240)
    s = sub.add_parser("show-plan", help="a plan and its revisions")
    s.add_argument("--plan-id", default=SEED_PLAN_ID)
    s.add_argument("--revision", type=int)
    s.add_argument("--actor-id")
    s = sub.add_parser("rollup", help="progress of a plan / unit subtree")
    s.add_argument("--plan-id", default=SEED_PLAN_ID)
    s.add_argument("--unit")
    s.add_argument("--year", type=int)
    s.add_argument("--actor-id")
    sub.add_parser("dump-seed", help="rewrite the seed plan file from services/plans/domain/seed_plan.py")
    args = p.parse_args(argv)
    try:
        if args.command == "dump-seed":
            dump_seed()
            print(f"wrote {SEED_FILE}")
        elif args.command == "demo-csv":
            from services.plans.seed.demo import demo_hierarchy, units_csv
            sys.stdout.write(units_csv(demo_hierarchy(args.grassroots)[0]))
        elif args.command == "import-units":
            text = args.file.read_text(encoding="utf-8-sig")
            _print(asyncio.run(_with_nc(args, lambda nc: import_units(
                nc, text, import_id=args.import_id, effective_from=args.effective_from, actor_id=args.actor_id))))
        elif args.command == "load-seed":
            _print(asyncio.run(_with_nc(args, lambda nc: load_seed(
                nc, path=args.file, plan_id=args.plan_id, issuer_id=args.issuer_id, issued_on=args.issued_on,
                issue=not args.no_issue, actor_id=args.actor_id))))
        elif args.command == "load-demo":
            asyncio.run(load_demo(args.nats_url, grassroots=args.grassroots, seed_plan=not args.no_seed,
                                  issued_on=args.issued_on, activity=not args.no_activity))
        elif args.command == "show-plan":
            body = {"plan_id": args.plan_id, **({"revision": args.revision} if args.revision else {}),
                    **({"actor_id": args.actor_id} if args.actor_id else {})}
            _print(asyncio.run(_with_nc(args, lambda nc: request(nc, "get_plan", body))))
        elif args.command == "rollup":
            body = {"plan_id": args.plan_id, **({"root_unit_id": args.unit} if args.unit else {}),
                    **({"year": args.year} if args.year else {}), **({"actor_id": args.actor_id} if args.actor_id else {})}
            _print(asyncio.run(_with_nc(args, lambda nc: request(nc, "get_rollup", body, timeout=60))))
    except RequestFailed as exc:
        print(f"plans: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"plans: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
