"""`congdoan`: the operator's one command (README "Operating", deploy/README.md).

    congdoan status [--json] [--db reports=postgresql+asyncpg://…]   # the stack at a glance
    congdoan dlq list | show SEQ | replay SEQ… | discard SEQ… | purge … | log   (runtime.dlqctl)
    congdoan nats init | list | add-user … | rotate USER | permissions USER | config   (runtime.natsctl)
    congdoan clock show | set … | advance 7d | reset | lock [--reason …] | unlock   (runtime.clockctl)
    congdoan migrate [SERVICE… | all] [--db SERVICE=URL] [--status]   (runtime.migratectl)
    congdoan auth init | add-client … | list-clients | rotate-signing-key      (runtime.authctl)

`status` connects as the NATS `operator` user, as dlqctl does (CONGDOAN_NATS_CREDS, or the
embedded stack's seed under --data-dir), and shows: the services that answer `$SRV.PING`
(nats.micro discovery: name, version, instances, endpoints from `$SRV.INFO`); every durable
consumer of congdoan's streams with its pending, redelivered and awaiting-acknowledgement counts;
the dead-letter depth (parked messages per consumer, and replay asks); and, for each service
whose database it can reach, the outbox backlog (rows not yet published), the age of its oldest
unpublished row and the reminders due but not fired. A service's database comes from `--db
SERVICE=URL`, else from its settings (CONGDOAN_<SERVICE>_DATABASE_URL or _FILE), else the
embedded stack's SQLite file <data-dir>/<service>.db if it exists. Ages are on the shared clock
(the services stamp outbox rows with it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from contracts import naming

SUBCOMMANDS = ("status", "dlq", "nats", "clock", "auth", "migrate")


@dataclass
class ServiceSeen:
    name: str
    version: str
    instances: list[str] = field(default_factory=list)
    endpoints: int = 0


@dataclass
class ConsumerState:
    stream: str
    name: str
    num_pending: int
    num_redelivered: int
    num_ack_pending: int
    num_waiting: int


@dataclass
class DatabaseState:
    service: str
    url: str
    outbox_backlog: int | None = None
    oldest_unpublished_age_s: float | None = None
    reminders_due: int | None = None
    error: str | None = None


@dataclass
class Status:
    nats_url: str
    now: str
    services: list[ServiceSeen]
    consumers: list[ConsumerState]
    dead_letters: dict[str, int]
    replay_asks: int
    databases: list[DatabaseState]

    @property
    def dead_letter_depth(self) -> int:
        return sum(self.dead_letters.values())

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "dead_letter_depth": self.dead_letter_depth}


async def gather(nc: Any, subject: str, wait_s: float = 1.0, quiet_s: float = 0.25) -> list[dict[str, Any]]:
    """Every answer to one request on `subject` (scatter-gather, as `nats micro ls` does): until no
    new answer came for `quiet_s`, at most `wait_s`."""
    inbox = nc.new_inbox()
    answers: list[dict[str, Any]] = []
    got = asyncio.Event()

    async def on(msg: Any) -> None:
        try:
            answers.append(json.loads(msg.data))
        except ValueError:
            return
        got.set()

    sub = await nc.subscribe(inbox, cb=on)
    try:
        await nc.publish(subject, b"", reply=inbox)
        await nc.flush()
        deadline = asyncio.get_running_loop().time() + wait_s
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            got.clear()
            try:
                await asyncio.wait_for(got.wait(), timeout=min(quiet_s if answers else left, left))
            except TimeoutError:
                if answers:
                    break
    finally:
        await sub.unsubscribe()
    return answers


async def discover(nc: Any) -> list[ServiceSeen]:
    seen: dict[str, ServiceSeen] = {}
    for ping in await gather(nc, "$SRV.PING"):
        s = seen.setdefault(str(ping.get("name")), ServiceSeen(str(ping.get("name")), str(ping.get("version", ""))))
        s.instances.append(str(ping.get("id")))
    for info in await gather(nc, "$SRV.INFO"):
        if (found := seen.get(str(info.get("name")))) is not None:
            found.endpoints = max(found.endpoints, len(info.get("endpoints") or []))
    for s in seen.values():
        s.instances.sort()
    return sorted(seen.values(), key=lambda s: s.name)


async def consumers(js: Any) -> list[ConsumerState]:
    from nats.js.errors import NotFoundError

    out: list[ConsumerState] = []
    for stream in [*(naming.stream_name(s) for s in naming.SERVICES), naming.DLQ_STREAM]:
        try:
            infos = await js.consumers_info(stream)
        except NotFoundError:
            continue
        for c in infos:
            if not c.config.durable_name:
                continue
            out.append(ConsumerState(stream, c.name, int(c.num_pending or 0), int(c.num_redelivered or 0),
                                     int(c.num_ack_pending or 0), int(c.num_waiting or 0)))
    return sorted(out, key=lambda c: (c.stream, c.name))


async def dead_letters(js: Any) -> tuple[dict[str, int], int]:
    """Parked messages per consumer (durable), and replay asks, from the stream's subject counts."""
    from nats.js.errors import NotFoundError

    from runtime.dlqctl import kind

    try:
        info = await js.stream_info(naming.DLQ_STREAM, subjects_filter=f"{naming.DLQ_PREFIX}.>")
    except NotFoundError:
        return {}, 0
    parked: dict[str, int] = {}
    asks = 0
    for subject, n in (info.state.subjects or {}).items():
        k = kind(subject)
        if k == "parked":
            durable = subject.split(".", 3)[3] if subject.count(".") >= 3 else subject
            parked[durable] = parked.get(durable, 0) + int(n)
        elif k == "replay":
            asks += int(n)
    return dict(sorted(parked.items())), asks


def database_urls(data_dir: Path, given: dict[str, str]) -> dict[str, str]:
    from runtime.settings import load_settings

    urls: dict[str, str] = {}
    for svc in naming.SERVICES:
        if svc in given:
            urls[svc] = given[svc]
            continue
        settings = load_settings(svc, data_dir=data_dir)
        if settings.database_url:
            urls[svc] = settings.database_url
        elif (data_dir / f"{svc}.db").exists():
            urls[svc] = settings.db_url
    return urls


async def database_state(service: str, url: str, now: datetime) -> DatabaseState:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    from runtime.db import outbox_backlog
    from runtime.scheduler import due_count

    shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    state = DatabaseState(service, shown)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            state.outbox_backlog, oldest = await outbox_backlog(conn)
            if oldest is not None:
                state.oldest_unpublished_age_s = round(max(0.0, (now - oldest).total_seconds()), 1)
            state.reminders_due = await due_count(conn, now)
    except Exception as exc:  # an unreachable database is a finding, not a crash of the tool
        state.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    finally:
        await engine.dispose()
    return state


async def status(args: argparse.Namespace) -> Status:
    from runtime.clock import TZ, read_shared_offset
    from runtime.natsauth import OPERATOR, connect

    nc = await connect(args.nats_url, OPERATOR, data_dir=args.data_dir, connect_timeout=5, allow_reconnect=False)
    try:
        js = nc.jetstream(timeout=10)
        try:
            offset = await read_shared_offset(js)
        except Exception:  # no clock bucket yet, or a server that has none: real time
            offset = timedelta(0)
        now = datetime.now(TZ) + offset
        services = await discover(nc)
        cons = await consumers(js)
        parked, asks = await dead_letters(js)
    finally:
        await nc.close()
    given = dict(item.split("=", 1) for item in args.db or [])
    urls = database_urls(Path(args.data_dir), given)
    dbs = [await database_state(svc, url, now) for svc, url in urls.items()]
    return Status(args.nats_url, now.isoformat(timespec="seconds"), services, cons, parked, asks, dbs)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    return f"{s // 86400}d{s % 86400 // 3600}h" if s >= 86400 else f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 \
        else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{seconds:.1f}s"


def render(st: Status) -> str:
    lines = [f"congdoan status — NATS {st.nats_url}, now {st.now} (shared clock)", "", "Services ($SRV.PING)"]
    if not st.services:
        lines.append("  none answered")
    for s in st.services:
        lines.append(f"  {s.name:<20} v{s.version:<8} {len(s.instances)} instance(s), {s.endpoints} endpoints"
                     f"  [{', '.join(i[:12] for i in s.instances)}]")
    lines += ["", "Durable consumers", f"  {'stream':<18} {'consumer':<28} {'pending':>8} {'redelivered':>12} {'ack pending':>12}"]
    if not st.consumers:
        lines.append("  none")
    for c in st.consumers:
        lines.append(f"  {c.stream:<18} {c.name:<28} {c.num_pending:>8} {c.num_redelivered:>12} {c.num_ack_pending:>12}")
    lines += ["", f"Dead letters ({naming.DLQ_STREAM}): {st.dead_letter_depth} parked"
              + (f", {st.replay_asks} replay asks" if st.replay_asks else "")]
    for durable, n in st.dead_letters.items():
        lines.append(f"  {durable:<28} {n:>6}   (congdoan dlq list --consumer {durable})")
    lines += ["", "Databases", f"  {'service':<10} {'outbox backlog':>14} {'oldest unpublished':>19} {'reminders due':>14}"]
    if not st.databases:
        lines.append("  none given or found (--db SERVICE=URL, CONGDOAN_<SERVICE>_DATABASE_URL, <data-dir>/<service>.db)")
    for d in st.databases:
        if d.error:
            lines.append(f"  {d.service:<10} unreachable: {d.error}  ({d.url})")
        else:
            lines.append(f"  {d.service:<10} {d.outbox_backlog:>14} {_age(d.oldest_unpublished_age_s):>19} {d.reminders_due:>14}")
    return "\n".join(lines)


def _status_parser() -> argparse.ArgumentParser:
    from runtime.clockctl import default_nats_url

    p = argparse.ArgumentParser(prog="congdoan status", description="the stack at a glance (see `congdoan --help`)")
    p.add_argument("--nats-url", default=default_nats_url())
    p.add_argument("--data-dir", default=os.environ.get("CONGDOAN_DATA_DIR", "var"))
    p.add_argument("--db", action="append", metavar="SERVICE=URL", help="a service's database (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable")
    return p


async def run_status(argv: list[str], out: Any = None) -> int:
    out = out or sys.stdout
    args = _status_parser().parse_args(argv)
    for item in args.db or []:
        if "=" not in item or item.split("=", 1)[0] not in naming.SERVICES:
            print(f"congdoan status: --db wants SERVICE=URL, SERVICE one of {', '.join(naming.SERVICES)}", file=sys.stderr)
            return 2
    try:
        st = await status(args)
    except OSError as exc:
        print(f"congdoan status: cannot reach NATS at {args.nats_url}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(st.as_json(), indent=2, ensure_ascii=False) if args.json else render(st), file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in SUBCOMMANDS:
        print(__doc__, file=sys.stdout if argv[:1] in (["-h"], ["--help"]) else sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "status":
        return asyncio.run(run_status(rest))
    if cmd == "dlq":
        from runtime import dlqctl

        return dlqctl.main(rest)
    if cmd == "nats":
        from runtime import natsctl

        return natsctl.main(rest)
    if cmd == "clock":
        from runtime import clockctl

        return asyncio.run(clockctl.main(rest))
    if cmd == "migrate":
        from runtime import migratectl

        return migratectl.main(rest)
    from runtime import authctl

    return authctl.main(rest)


if __name__ == "__main__":
    sys.exit(main())
