"""Command line of the plans service. Everything goes through the service's NATS requests, so it
works against a running stack (`make run`, or NATS_URL) and is idempotent (ids are fixed, retries
are answered with the same result).

    python -m services.plans.cli import-units FILE [--effective-from 2020-01-01]
    python -m services.plans.cli load-seed [--file services/plans/seed/seed_plan.json] [--issued-on 2026-11-25]
    python -m services.plans.cli load-demo [--grassroots 240] [--no-seed]     # what `make run` calls
    python -m services.plans.cli demo-csv [--grassroots 240] > units.csv
    python -m services.plans.cli show-plan [--plan-id kh-01-kl-tw-ldld-bd]
    python -m services.plans.cli rollup [--plan-id …] [--unit ID] [--year 2026]
    python -m services.plans.cli dump-seed      # rewrite the seed plan file from domain/seed_plan.py

NATS: --nats-url, else NATS_URL, else the embedded stack's nats://127.0.0.1:4223, as the NATS
`client` user (its seed under <CONGDOAN_DATA_DIR>/secrets/nats/, or CONGDOAN_NATS_CREDS). It calls as
the machine identity of CONGDOAN_CLIENT_ID / CONGDOAN_CLIENT_SECRET_FILE (default: the embedded
stack's `loader`, whose secret is in <CONGDOAN_DATA_DIR>/secrets/clients/loader.secret).
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

from runtime.auth import client_credentials, ensure_demo_password
from runtime.client import ApiClient, RequestFailed

SEED_DIR = Path(__file__).resolve().parent / "seed"
SEED_FILE = SEED_DIR / "seed_plan.json"
SEED_PLAN_ID = "kh-01-kl-tw-ldld-bd"
CHUNK_BYTES = 200_000  # below the runtime's 256 KiB request limit, with room for the JSON envelope


async def request(api: ApiClient, endpoint: str, body: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
    return await api.request("plans", endpoint, body, timeout=timeout)


async def connect_api(nats_url: str | None = None) -> ApiClient:
    """A NATS connection and the loader's machine identity (client credentials from
    `CONGDOAN_CLIENT_ID` / `CONGDOAN_CLIENT_SECRET_FILE`, or the embedded stack's secrets)."""
    from runtime.natsauth import CLIENT, connect

    creds = client_credentials(Path(os.environ.get("CONGDOAN_DATA_DIR", "var")) / "secrets")
    if creds is None:
        raise RequestFailed("service_token", {"code": "unauthenticated", "message":
                            "Chưa có định danh dịch vụ: đặt CONGDOAN_CLIENT_ID và CONGDOAN_CLIENT_SECRET_FILE, hoặc "
                            "chạy `python -m runtime.authctl init` cho bộ dịch vụ chạy nhúng."})
    nc = await connect(nats_url or default_nats_url(), CLIENT, connect_timeout=5)
    try:
        return await ApiClient.for_service(nc, *creds)
    except BaseException:
        await nc.close()
        raise


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


async def import_units(api: ApiClient, text: str, *, import_id: str | None = None,
                       effective_from: date | None = None) -> dict[str, Any]:
    """Send a CSV in parts; the last part imports everything (or nothing, with every bad line)."""
    import_id = import_id or f"imp-{uuid.uuid4().hex[:16]}"
    parts = split_csv(text)
    reply: dict[str, Any] = {}
    for i, part in enumerate(parts, start=1):
        body: dict[str, Any] = {"import_id": import_id, "part": i, "parts": len(parts), "csv": part}
        if effective_from:
            body["effective_from"] = effective_from.isoformat()
        reply = await request(api, "import_units", body, timeout=300 if i == len(parts) else 30)
    return reply


async def register_people(api: ApiClient, people: list[Any], concurrency: int = 32) -> int:
    sem = asyncio.Semaphore(concurrency)

    async def one(p: Any) -> None:
        async with sem:
            await request(api, "register_person", {"person_id": p.person_id, "unit_id": p.unit_id,
                                                  "full_name": p.full_name, "roles": list(p.roles), "email": p.email,
                                                  "phone": p.phone})

    await asyncio.gather(*(one(p) for p in people))
    return len(people)


def read_plan_file(path: Path = SEED_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


async def load_seed(api: ApiClient, *, path: Path = SEED_FILE, plan_id: str | None = None,
                    issuer_id: str | None = None, issued_on: date | None = None, issue: bool = True,
                    demo_today: date | None = None) -> dict[str, Any]:
    """Create the plan of the file as a draft and issue it (both idempotent). With `demo_today`,
    the plan as the demo shows it: its cycle placed in the year a newcomer should see (see
    services/plans/seed/demo.py demo_plan_document), labelled as demo data."""
    spec = read_plan_file(path)
    document = dict(spec["document"])
    if demo_today is not None:
        from services.plans.seed.demo import demo_plan_document
        document = demo_plan_document(document, demo_today)
    if issuer_id:
        document["issuer_unit_id"] = issuer_id
    plan_id = plan_id or spec.get("plan_id") or SEED_PLAN_ID
    body: dict[str, Any] = {"plan_id": plan_id, "document": document}
    plan = await request(api, "create_plan", body)
    out: dict[str, Any] = {"plan_id": plan_id, "status": plan["status"], "items": sum(len(s["items"]) for s in document["sections"])}
    if issue:
        ibody: dict[str, Any] = {"plan_id": plan_id}
        if issued_on:
            ibody["issued_on"] = issued_on.isoformat()
        out["issue"] = await request(api, "issue_plan", ibody, timeout=600)
    return out


def demo_logins(units: list[Any], people: list[Any]) -> list[Any]:
    """Who of the demo gets a login (user name = person id, the demo password): the province's
    leaders, the head of Ban TG-NC (who receives the 30/11 reports), the first upper-level and
    grassroots unions' people, and the chairs of the units whose progress the demo shows."""
    first_upper = next(u.unit_id for u in units if u.kind == "upper_level_union")
    grassroots = [u for u in units if u.kind == "grassroots_union"]
    active = {u.unit_id for i, u in enumerate(grassroots) if i % ACTIVE_EVERY == 0}
    province = units[0].unit_id
    chosen = []
    for p in people:
        unit = p.unit_id
        if (unit == province and "executive_member" in p.roles) or unit == f"{province}-ban-tgnc" \
                or unit in (first_upper, grassroots[0].unit_id) or (unit in active and p.person_id.endswith("-1")):
            chosen.append(p)
    return chosen


ACTIVE_EVERY = 6  # one grassroots union in six shows progress in the demo


async def load_demo(nats_url: str | None = None, *, grassroots: int = 240, seed_plan: bool = True,
                    issued_on: date | None = None, activity: bool = True, log: Any = print,
                    api: ApiClient | None = None, password: str | None = None) -> dict[str, Any]:
    """The demo of `make run`: the demo hierarchy with its people, logins for some of them (the
    demo password), then the seed plan, issued, and (unless activity=False) some progress on it,
    made by those people logged in. Idempotent: a second run changes nothing. The launcher calls
    it once every /readyz is 200 (`python -m services.plans.cli load-demo`)."""
    from services.plans.seed.demo import demo_cycle_year, demo_hierarchy, units_csv

    own = api is None
    api = api or await connect_api(nats_url)
    password = password or ensure_demo_password(Path(os.environ.get("CONGDOAN_DATA_DIR", "var")) / "secrets")
    try:
        units, people = demo_hierarchy(grassroots)
        imported = await import_units(api, units_csv(units), import_id=f"demo-{grassroots}")
        log(f"plans demo: {len(units)} units ({imported.get('imported', 0)} new)")
        await register_people(api, people)
        log(f"plans demo: {len(people)} people")
        logins = demo_logins(units, people)
        await set_demo_logins(api, logins, password)
        log(f"plans demo: {len(logins)} logins (user name = person id)")
        out: dict[str, Any] = {"units": len(units), "people": len(people), "logins": len(logins)}
        if seed_plan:
            # Unless told the date to issue it on, the seed plan's cycle is placed in the demo
            # clock's year: live tasks and the coming 30/11 report, not a 2021 long past.
            # Today as plans reads it (the one clock; a front-end's NATS user may not read the
            # clock's bucket itself): the day a unit is looked up as of, by default.
            today = None if issued_on else date.fromisoformat(
                (await request(api, "get_unit", {"unit_id": units[0].unit_id}))["as_of"])
            try:
                out["plan"] = await load_seed(api, issued_on=issued_on, demo_today=today)
            except RequestFailed as exc:
                if exc.code != "conflict":
                    raise
                # The demo plan of an earlier year is there: keep it (a second run changes nothing).
                plan = await request(api, "get_plan", {"plan_id": SEED_PLAN_ID})
                out["plan"] = {"plan_id": SEED_PLAN_ID, "status": plan["status"],
                               "issue": {"duplicate": True, "issued_on": plan["issued_on"],
                                         "revision": plan.get("current_revision")}}
            issue = out["plan"].get("issue", {})
            log(f"plans demo: seed plan {out['plan']['plan_id']} issued (revision {issue.get('revision')}, "
                f"{issue.get('occurrences', 0)} task occurrences for {issue.get('units', 0)} units"
                + (", already there" if issue.get("duplicate") else "") + ")")
            if activity:
                year = demo_cycle_year(today) if today else date.fromisoformat(issue["issued_on"]).year
                out["activity"] = await demo_activity(api.nc, out["plan"]["plan_id"], units, people, year, password,
                                                      today)
                log(f"plans demo: progress {out['activity']}; see `python -m services.plans.cli rollup`")
        return out
    finally:
        if own:
            await api.nc.close()


async def set_demo_logins(api: ApiClient, people: list[Any], password: str, concurrency: int = 8) -> None:
    """Logins with the demo password (idempotent: a person who has one keeps it)."""
    sem = asyncio.Semaphore(concurrency)

    async def one(p: Any) -> None:
        async with sem:
            try:
                await request(api, "get_login", {"person_id": p.person_id})
                return
            except RequestFailed as exc:
                if exc.code != "not_found":
                    raise
            await request(api, "set_login", {"person_id": p.person_id, "username": p.person_id, "password": password,
                                             "must_change_password": False})

    await asyncio.gather(*(one(p) for p in people))


async def demo_activity(nc: Any, plan_id: str, units: list[Any], people: list[Any], year: int,
                        password: str, today: date | None = None) -> dict[str, int]:
    """Some progress to look at (deterministic, idempotent), each step by the person who would do
    it, logged in: the active grassroots unions (one in ACTIVE_EVERY) registered their
    implementation plan, some sent their 30/11 report, some are at work on the yearly study; the
    federation's leaders wrote their individual plans."""
    sem = asyncio.Semaphore(8)
    counts = {"implementation_plans": 0, "reports_done": 0, "in_progress": 0, "individual_plans": 0}
    grassroots = [u for u in units if u.kind == "grassroots_union"]

    async def unit_work(i: int, u: Any) -> None:
        async with sem:
            chair = await ApiClient.login(nc, f"p-{u.unit_id}-1", password)
            if i % 2 == 0:
                await request(chair, "register_implementation_plan", {
                    "unit_id": u.unit_id, "parent_plan_id": plan_id, "number": f"{i + 1:02d}/KH-CĐCS", "year": year})
                counts["implementation_plans"] += 1
            tasks = await request(chair, "list_tasks", {"unit_id": u.unit_id, "plan_id": plan_id, "year": year,
                                                        "page": {"limit": 100}})
            # Work only on a year already begun (a cycle placed in next year, in December, has none yet).
            by_item = {t["item_id"]: t for t in tasks["items"]} if today is None or year <= today.year else {}
            if i % 3 == 0 and "II.3.a" in by_item and by_item["II.3.a"]["category"] != "overdue":
                await request(chair, "update_task", {"occurrence_id": by_item["II.3.a"]["occurrence_id"],
                                                     "status": "done",
                                                     "evidence": f"Báo cáo số {i + 1:02d}/BC-CĐCS gửi Ban TG-NC"})
                counts["reports_done"] += 1
            if i % 3 == 1 and "II.1.a" in by_item and by_item["II.1.a"]["status"] == "open":
                await request(chair, "update_task", {"occurrence_id": by_item["II.1.a"]["occurrence_id"],
                                                     "status": "in_progress"})
                counts["in_progress"] += 1
            await chair.logout()

    active = [u for i, u in enumerate(grassroots) if i % ACTIVE_EVERY == 0]
    await asyncio.gather(*(unit_work(i, u) for i, u in enumerate(active)))
    leaders = [p for p in people if p.unit_id == units[0].unit_id and "executive_member" in p.roles]
    for p in leaders[:5]:
        me = await ApiClient.login(nc, p.person_id, password)
        await request(me, "submit_individual_plan", {
            "person_id": p.person_id, "year": year, "parent_plan_id": plan_id,
            "commitments": [f"Học tập, quán triệt chuyên đề năm {year} và viết bài thu hoạch",
                            "Mỗi quý dự sinh hoạt chuyên đề tại một công đoàn cơ sở",
                            "Nêu gương trong hội họp, đi cơ sở, sử dụng xe và tài sản công"]})
        await me.logout()
        counts["individual_plans"] += 1
    return counts


def default_nats_url() -> str:
    return os.environ.get("NATS_URL") or f"nats://127.0.0.1:{os.environ.get('CONGDOAN_NATS_PORT', '4223')}"


# --- commands -----------------------------------------------------------------------------------

async def _with_api(args: argparse.Namespace, fn: Any) -> Any:
    api = await connect_api(args.nats_url)
    try:
        return await fn(api)
    finally:
        await api.nc.close()


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
    s.add_argument("--import-id")
    s = sub.add_parser("load-seed", help="create and issue the seed plan (idempotent)")
    s.add_argument("--file", type=Path, default=SEED_FILE)
    s.add_argument("--plan-id")
    s.add_argument("--issuer-id")
    s.add_argument("--issued-on", type=date.fromisoformat)
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
    s = sub.add_parser("rollup", help="progress of a plan / unit subtree")
    s.add_argument("--plan-id", default=SEED_PLAN_ID)
    s.add_argument("--unit")
    s.add_argument("--year", type=int)
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
            _print(asyncio.run(_with_api(args, lambda api: import_units(
                api, text, import_id=args.import_id, effective_from=args.effective_from))))
        elif args.command == "load-seed":
            _print(asyncio.run(_with_api(args, lambda api: load_seed(
                api, path=args.file, plan_id=args.plan_id, issuer_id=args.issuer_id, issued_on=args.issued_on,
                issue=not args.no_issue))))
        elif args.command == "load-demo":
            asyncio.run(load_demo(args.nats_url, grassroots=args.grassroots, seed_plan=not args.no_seed,
                                  issued_on=args.issued_on, activity=not args.no_activity))
        elif args.command == "show-plan":
            body = {"plan_id": args.plan_id, **({"revision": args.revision} if args.revision else {})}
            _print(asyncio.run(_with_api(args, lambda api: request(api, "get_plan", body))))
        elif args.command == "rollup":
            body = {"plan_id": args.plan_id, **({"root_unit_id": args.unit} if args.unit else {}),
                    **({"year": args.year} if args.year else {})}
            _print(asyncio.run(_with_api(args, lambda api: request(api, "get_rollup", body, timeout=60))))
    except RequestFailed as exc:
        print(f"plans: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"plans: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
