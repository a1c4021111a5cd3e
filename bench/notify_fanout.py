"""National-scale "deadline approaching" fan-out through notify: into the in-app inbox, and as
e-mail over SMTP to a local sink.

    python -m bench.notify_fanout [--units 130000] [--second-contact 0.92] [--db-url URL] [--no-email]
                                  [--until-recorded] [--fetch-batch 1000] [--smtp-connections 8]

1. A temporary directory with its own nats-server (free port), notify's database (SQLite there, or
   the empty PostgreSQL database of --db-url), and an SMTP sink in a separate process (aiosmtpd
   with notify's mail catcher handler, messages counted and deduplicated by Message-ID, not stored).
2. notify's schema is migrated and its directory projection seeded with bulk inserts (not measured,
   and not through events, to keep the set-up short): the national federation, 63 provincial
   federations, `--units` grassroots unions spread over them; every grassroots union has a
   chairperson, and a share `--second-contact` of them a cadre as well — about 250,000 recipients
   for 130,000 units — each with an e-mail address.
3. notify starts as its own process (`python -m services.notify`, as `make run` starts it) with the
   e-mail channel pointed at the sink; rate limits set out of the way (the benchmark measures the
   pipeline, a real deployment sets what its mail relay accepts).
4. One `plans.deadline.approaching` event per unit is published to JetStream as fast as it goes
   (the shape of plans' scheduler firing the 7-days-before reminders of one national due date).
   On PostgreSQL the seeded tables are ANALYZEd, and ANALYZE runs every 10 s during the run — what
   autovacuum does in production (the PostgreSQL of this machine runs with autovacuum off, and
   without statistics the planner scans whole tables for the batch lookups).
5. notify's database is polled until every notification is recorded (inbox rows and e-mail
   deliveries, committed with the consumer's inbox) and until every e-mail is sent (accepted by the
   sink and marked). Times count from the first publish.

6. The baseline, after notify is done: the same sink, the same number of SMTP sessions, e-mails sent
   straight through aiosmtplib (notify's SMTP library) in the same process as the bench, so the
   e-mail figure has a ceiling beside it (`raw_smtp_per_s`, `mail_ratio`).

The last line is machine-readable:
    units=… notifications=… recorded_s=… recorded_per_s=… emails=… mailed_s=… mailed_per_s=… …
    raw_smtp_per_s=… mail_ratio=…
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import sqlalchemy as sa

from contracts.envelope import build_event
from contracts.events.plans import DeadlineApproaching
from runtime.db import make_engine, migrate
from runtime.directory import dir_parents, dir_people, dir_units
from runtime.launcher import NatsServer, free_port, wait_for
from runtime.natsauth import NatsUsers, connect_options
from runtime.streams import ensure_streams

TYPE = "vn.congdoan.plans.deadline.approaching.v1"
SUBJECT = "congdoan.evt.plans.deadline.approaching.v1"
MIGRATIONS = Path(__file__).resolve().parent.parent / "services" / "notify" / "migrations"
PROVINCES = 63


def _sink(port: int, accepted: Any, duplicates: Any, ready: Any) -> None:
    """The SMTP sink process: notify's mail catcher handler, counting instead of storing."""
    from services.notify.mailcatcher import CatcherServer, MailStore

    class CountingStore(MailStore):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            reply = await super().handle_DATA(server, session, envelope)
            accepted.value, duplicates.value = self.accepted, self.duplicates
            return reply

    async def serve() -> None:
        server = CatcherServer(CountingStore(keep=False), "127.0.0.1", port)
        await server.start()
        ready.set()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await server.stop()

    import logging
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    asyncio.run(serve())


async def raw_smtp(port: int, n: int, connections: int) -> float:
    """The baseline: `n` small e-mails straight through aiosmtplib to the same sink over
    `connections` sessions (what notify's sender uses, without notify). Messages per second."""
    import aiosmtplib

    body = "".join(f"{'x' * 70}\r\n" for _ in range(20))
    todo = iter(range(n))

    async def session() -> None:
        c = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, use_tls=False)
        await c.connect()
        for i in todo:
            await c.sendmail("bench@example.vn", [f"raw{i}@example.vn"],
                             f"From: bench@example.vn\r\nTo: raw{i}@example.vn\r\nSubject: raw\r\n"
                             f"Message-ID: <raw-{i}@bench>\r\n\r\n{body}")
        await c.quit()

    t = time.perf_counter()
    await asyncio.gather(*(session() for _ in range(connections)))
    return n / (time.perf_counter() - t)


async def seed(url: str, units: int, second_share: float) -> int:
    """The directory projection, in bulk. Returns the number of contacts."""
    engine = make_engine(url)
    await migrate(engine, MIGRATIONS)
    since = date(2020, 1, 1)
    u_rows = [{"unit_id": "vn", "code": "TLĐ", "name": "Tổng Liên đoàn Lao động Việt Nam", "kind": "national_federation",
               "registered_on": since}]
    p_rows = [{"unit_id": "vn", "valid_from": since, "valid_to": None, "parent_id": None}]
    for p in range(PROVINCES):
        u_rows.append({"unit_id": f"prov-{p}", "code": f"LĐLĐ-{p}", "name": f"Liên đoàn Lao động tỉnh số {p}",
                       "kind": "provincial_federation", "registered_on": since})
        p_rows.append({"unit_id": f"prov-{p}", "valid_from": since, "valid_to": None, "parent_id": "vn"})
    people: list[dict[str, Any]] = []
    threshold = int(second_share * 1000)
    for i in range(units):
        uid = f"g-{i:06d}"
        u_rows.append({"unit_id": uid, "code": f"CĐCS-{i}", "name": f"Công đoàn cơ sở Công ty số {i}",
                       "kind": "grassroots_union", "registered_on": since})
        p_rows.append({"unit_id": uid, "valid_from": since, "valid_to": None, "parent_id": f"prov-{i % PROVINCES}"})
        people.append({"person_id": f"p-{i:06d}-1", "unit_id": uid, "full_name": f"Nguyễn Văn Chủ Tịch {i}",
                       "roles": ["chairperson"], "email": f"chair{i}@cdcs{i}.example.vn", "phone": None, "active": True})
        if (i * 7919) % 1000 < threshold:
            people.append({"person_id": f"p-{i:06d}-2", "unit_id": uid, "full_name": f"Trần Thị Cán Bộ {i}",
                           "roles": ["cadre"], "email": f"cadre{i}@cdcs{i}.example.vn", "phone": None, "active": True})
    async with engine.begin() as conn:
        for table, rows in ((dir_units, u_rows), (dir_parents, p_rows), (dir_people, people)):
            for k in range(0, len(rows), 5000):
                await conn.execute(table.insert(), rows[k:k + 5000])
    if engine.dialect.name == "postgresql":
        # A directory loaded seconds ago has no planner statistics yet; in production autovacuum has
        # long analyzed it. Without this PostgreSQL plans the projection's lookups as full scans.
        async with engine.connect() as conn:
            await conn.execute(sa.text("COMMIT"))
            await conn.execute(sa.text("ANALYZE"))
    await engine.dispose()
    return len(people)


async def _analyze_every(url: str, interval_s: float) -> None:
    """What autovacuum does in production, for a PostgreSQL that runs without it (as this machine's
    does): fresh planner statistics while the tables grow from nothing to 250,000 rows."""
    engine = make_engine(url)
    try:
        while True:
            await asyncio.sleep(interval_s)
            async with engine.connect() as conn:
                await conn.execute(sa.text("COMMIT"))
                await conn.execute(sa.text("ANALYZE"))
    finally:
        await engine.dispose()


async def count(engine: Any, sql: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.text(sql))).scalar_one())


def cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) the process used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def rss_peak_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="congdoan-notify-bench-"))
    users = NatsUsers(work / "secrets" / "nats")
    users.ensure_builtin()
    nats_server = NatsServer(work / "nats", log_file=work / "nats.log", users=users)
    sink: mp.Process | None = None
    proc: subprocess.Popen[bytes] | None = None
    result: dict[str, Any] = {"units": args.units}
    try:
        nats_server.start()
        db_url = args.db_url or f"sqlite+aiosqlite:///{work / 'notify.db'}"
        t = time.perf_counter()
        contacts = await seed(db_url, args.units, args.second_contact)
        print(f"seeded {args.units:,} grassroots unions under {PROVINCES} provinces, {contacts:,} contacts "
              f"({time.perf_counter() - t:.1f}s)", flush=True)

        env = {**os.environ, "NATS_URL": nats_server.url, "CONGDOAN_DATA_DIR": str(work),
               "CONGDOAN_NOTIFY_DATABASE_URL": db_url, "CONGDOAN_NOTIFY_HTTP_PORT": str(free_port()),
               "CONGDOAN_LOG_LEVEL": "WARNING", "CONGDOAN_FETCH_BATCH": str(args.fetch_batch),
               "CONGDOAN_NOTIFY_EMAIL_RATE": "1000000", "CONGDOAN_NOTIFY_EMAIL_BURST": "1000000",
               "CONGDOAN_NOTIFY_SMTP_CONNECTIONS": str(args.smtp_connections),
               "CONGDOAN_NOTIFY_BATCH": str(args.delivery_batch)}
        if not args.no_email:
            port = free_port()
            ctx = mp.get_context("spawn")
            accepted, duplicates, ready = ctx.Value("l", 0), ctx.Value("l", 0), ctx.Event()
            sink = ctx.Process(target=_sink, args=(port, accepted, duplicates, ready), daemon=True)
            sink.start()
            if not ready.wait(30):
                raise RuntimeError("the SMTP sink did not start")
            env["CONGDOAN_NOTIFY_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        # The bench plays the plans service, publishing its deadline events as its NATS user.
        nc = await nats.connect(nats_server.url, **connect_options("plans", creds=users.seed_path("plans")))
        js = nc.jetstream(timeout=30)
        due = date(2026, 11, 30)
        now = datetime.now(UTC)
        t_pub = time.perf_counter()
        await ensure_streams(js)
        window: list[Any] = []
        for i in range(args.units):
            data = DeadlineApproaching(occurrence_id=f"occ-2026-item-5-g-{i:06d}", plan_id="plan-tld-2026",
                                       item_id="item-5", unit_id=f"g-{i:06d}", period="2026", days_before=7,
                                       content="Gửi báo cáo kết quả thực hiện Kết luận số 01-KL/TW năm 2026 "
                                               "về Liên đoàn Lao động tỉnh (qua Ban Tuyên giáo - Nữ công)",
                                       due_date=due)
            ev = build_event(type_=TYPE, source="/congdoan/plans", data=data, time=now + timedelta(microseconds=i))
            window.append(js.publish(SUBJECT, json.dumps(ev, ensure_ascii=False).encode(),
                                     headers={"Nats-Msg-Id": ev["id"]}))
            if len(window) >= 1000:
                await asyncio.gather(*window)
                window.clear()
        await asyncio.gather(*window)
        published_s = time.perf_counter() - t_pub
        print(f"published {args.units:,} events in {published_s:.1f}s (before notify starts: a backlog, as when "
              f"plans' scheduler fires one national due date)", flush=True)
        await nc.close()

        http = env["CONGDOAN_NOTIFY_HTTP_PORT"]
        started = time.perf_counter()  # the clock runs from the start of the notify process
        proc = subprocess.Popen([sys.executable, "-m", "services.notify"], env=env,
                                stdout=open(work / "notify.log", "ab"), stderr=subprocess.STDOUT)

        def ready_() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"notify exited with {proc.returncode}; see {work / 'notify.log'}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http}/readyz", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False

        cpu0 = 0.0
        wait_for(ready_, 60, "notify /readyz")
        print(f"notify ready after {time.perf_counter() - started:.1f}s", flush=True)
        cpu_recorded = None

        engine = make_engine(db_url)
        analyzer = asyncio.create_task(_analyze_every(db_url, 10.0)) if engine.dialect.name == "postgresql" else None
        expected_emails = 0 if args.no_email else contacts
        recorded_s = mailed_s = None
        last = -1.0
        deadline_at = started + args.timeout
        while time.perf_counter() < deadline_at:
            n = await count(engine, "SELECT count(*) FROM notifications")
            sent = await count(engine, "SELECT count(*) FROM deliveries WHERE status = 'sent'") if expected_emails else 0
            el = time.perf_counter() - started
            if el - last >= 5:
                print(f"  {el:6.1f}s  notifications {n:>8,}/{contacts:,}  e-mails sent {sent:>8,}/{expected_emails:,}",
                      flush=True)
                last = el
            if recorded_s is None and n >= contacts:
                recorded_s = el
                cpu_recorded = (cpu_s(proc.pid) or 0.0) - cpu0
                print(f"all {n:,} notifications recorded after {el:.1f}s", flush=True)
            if recorded_s is not None and (sent >= expected_emails or args.until_recorded):
                mailed_s = el if expected_emails and sent >= expected_emails else None
                break
            await asyncio.sleep(0.5)
        if analyzer is not None:
            analyzer.cancel()
        queued = await count(engine, "SELECT count(*) FROM deliveries")
        sent = await count(engine, "SELECT count(*) FROM deliveries WHERE status = 'sent'")
        n = await count(engine, "SELECT count(*) FROM notifications")
        await engine.dispose()
        result.update(contacts=contacts, published_s=round(published_s, 2), notifications=n,
                      recorded_s=round(recorded_s, 1) if recorded_s else None,
                      recorded_per_s=round(n / recorded_s) if recorded_s else None,
                      emails_queued=queued, emails=sent, mailed_s=round(mailed_s, 1) if mailed_s else None,
                      mailed_per_s=round(sent / mailed_s) if mailed_s and sent >= expected_emails else None,
                      notify_cpu_s_until_recorded=round(cpu_recorded, 1) if cpu_recorded else None,
                      notify_cpu_s=round((cpu_s(proc.pid) or 0.0) - cpu0, 1),
                      load_avg=os.getloadavg()[0], notify_peak_rss_mb=rss_peak_mb(proc.pid))
        if sink is not None:
            result.update(sink_accepted=accepted.value, sink_repeats=duplicates.value)
            if mailed_s and not args.no_raw:
                # After the run (notify idle), the same sink, the same number of sessions.
                raw = await raw_smtp(port, min(sent, args.raw_emails), args.smtp_connections)
                result.update(raw_smtp_per_s=round(raw), mail_ratio=round(result["mailed_per_s"] / raw, 3))
        if recorded_s is None:
            el = time.perf_counter() - started
            result["timed_out_s"] = round(el, 1)
            result["recorded_per_s_so_far"] = round(n / el)
        return result
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if sink is not None and sink.pid is not None:
            sink.terminate()
            sink.join(10)
        nats_server.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--units", type=int, default=130_000)
    p.add_argument("--second-contact", type=float, default=0.92, help="share of units with a cadre besides the chair")
    p.add_argument("--db-url", help="an empty database (default: SQLite in the temporary directory)")
    p.add_argument("--no-email", action="store_true", help="the inbox only")
    p.add_argument("--until-recorded", action="store_true",
                   help="stop once every notification is recorded (e-mails queued), without waiting for the sending")
    p.add_argument("--fetch-batch", type=int, default=1000, help="CONGDOAN_FETCH_BATCH of notify's consumers")
    p.add_argument("--smtp-connections", type=int, default=8)
    p.add_argument("--delivery-batch", type=int, default=500)
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--raw-emails", type=int, default=20_000, help="e-mails of the raw SMTP baseline")
    p.add_argument("--no-raw", action="store_true", help="skip the raw SMTP baseline")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)
    result = asyncio.run(run(args))
    print(json.dumps(result, ensure_ascii=False))
    print(" ".join(f"{k}={v}" for k, v in result.items()))
    return 0 if result.get("recorded_s") else 1


if __name__ == "__main__":
    sys.exit(main())
