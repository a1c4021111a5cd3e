"""The runbook's backup and restore (deploy/README.md, "Backup and restore"), as the runbook tells
operators to do it: PostgreSQL with `pg_dump -Fc` of the service's database and `pg_restore`;
JetStream by stopping nats-server and archiving its store directory with `tar`, then unpacking it
into an empty store before the server starts again. Between the two: the database dropped and the
store deleted. After: the same rows in every table, the same messages in every stream (sequence,
subject, event id, body), the consumers where they were — and the service carries on from there,
its next event one sequence further, nothing published twice."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from runtime.db import outbox
from tests.conftest import _create_pg_database, _drop_pg_database, wait_until
from tests.support import LOADER, api, call, connect_harness, running, test_nats_server

pytestmark = pytest.mark.skipif(not (shutil.which("pg_dump") and shutil.which("pg_restore")),
                                reason="the runbook's PostgreSQL backup needs the pg_dump and pg_restore binaries")

UNITS = ["g1", "g2", "g3", "g4", "g5"]


def libpq(url: str) -> str:
    """postgresql+asyncpg://… → the postgresql://… URL pg_dump and pg_restore take."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run(*cmd: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(cmd[:2])}: {done.stderr}"


async def row_counts(url: str) -> dict[str, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            tables = (await conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars()
            return {t: int((await conn.execute(sa.text(f'SELECT count(*) FROM "{t}"'))).scalar_one()) for t in sorted(tables)}
    finally:
        await engine.dispose()


async def streams_content(js: Any) -> dict[str, Any]:
    """Every congdoan stream: its messages (seq, subject, event id, body) and its consumers' positions."""
    from nats.js.errors import NotFoundError

    out: dict[str, Any] = {}
    for info in await js.streams_info():
        name = info.config.name
        if not name.startswith("CONGDOAN_"):
            continue
        msgs = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1) if info.state.messages else ():
            try:
                m = await js.get_msg(name, seq)
            except NotFoundError:
                continue
            msgs.append((m.seq, m.subject, (m.headers or {}).get("Nats-Msg-Id"), m.data))
        consumers = {c.name: (c.delivered.stream_seq, c.ack_floor.stream_seq, c.num_pending)
                     for c in await js.consumers_info(name)}
        out[name] = {"last_seq": info.state.last_seq, "messages": msgs, "consumers": consumers}
    return out


async def unpublished(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(sa.select(sa.func.count()).select_from(outbox)
                                           .where(outbox.c.published_at.is_(None)))).scalar_one())
    finally:
        await engine.dispose()


async def register(nc: Any, unit_id: str, parent: str | None = "prov") -> None:
    body = {"unit_id": unit_id, "code": unit_id.upper(), "name": f"Đơn vị {unit_id}",
            "kind": "grassroots_union" if parent else "provincial_federation", "effective_from": "2020-01-01"}
    if parent:
        body["parent_id"] = parent
    h, reply = await call(nc, api("plans", "register_unit"), body, as_=LOADER)
    assert "Nats-Service-Error" not in h, reply


@pytest.mark.slow
async def test_back_up_wipe_restore_nothing_lost(tmp_path: Path, postgres_admin_url: str) -> None:
    server = test_nats_server(tmp_path / "nats", log_file=tmp_path / "nats.log")
    store = server.store_dir / "jetstream"  # nats-server's <store_dir>/jetstream (deploy: the volume's /data/jetstream)
    backup = tmp_path / "backup"
    backup.mkdir()
    db = await _create_pg_database(postgres_admin_url)
    server.start()
    try:
        nc = await connect_harness(server.url)
        try:
            async with running("plans", server.url, db):
                await register(nc, "prov", parent=None)
                for uid in UNITS:
                    await register(nc, uid)
                await wait_until(lambda: _zero(unpublished(db)), what="every event published")
            # a reader's durable consumer three events in: its position is part of what is kept
            sub = await nc.jetstream().pull_subscribe("congdoan.evt.plans.>", durable="reader", stream="CONGDOAN_PLANS")
            for m in await sub.fetch(3, timeout=5):
                await m.ack_sync()
            before_rows = await row_counts(db)
            before = await streams_content(nc.jetstream())
        finally:
            await nc.close()
        assert before_rows["outbox"] == 1 + len(UNITS) and before_rows["dir_units"] >= 1 + len(UNITS), before_rows
        assert len(before["CONGDOAN_PLANS"]["messages"]) == 1 + len(UNITS)
        assert before["CONGDOAN_PLANS"]["consumers"]["reader"] == (3, 3, len(UNITS) - 2)

        # Back up: the database while it serves (pg_dump takes a consistent snapshot), JetStream stopped.
        run("pg_dump", "--format=custom", "--no-owner", f"--file={backup / 'plans.dump'}", libpq(db))
        server.stop()
        run("tar", "-C", str(store), "-czf", str(backup / "jetstream.tar.gz"), ".")

        # Wipe: the database dropped, the store gone.
        await _drop_pg_database(postgres_admin_url, db)
        shutil.rmtree(store)

        # Restore: an empty database of the same name, the dump into it; the store unpacked, then NATS.
        name = sa.engine.make_url(db).database
        await _create_pg_database(postgres_admin_url, str(name))
        run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={libpq(db)}", str(backup / "plans.dump"))
        store.mkdir()
        run("tar", "-C", str(store), "-xzf", str(backup / "jetstream.tar.gz"))
        server.start()

        assert await row_counts(db) == before_rows
        nc = await connect_harness(server.url)
        try:
            await wait_until(lambda: _has_streams(nc, set(before)), what="JetStream to load the restored streams")
            after = await streams_content(nc.jetstream())
            assert after == before
            # ...and the service carries on from there: the next event is the next sequence, none twice.
            async with running("plans", server.url, db):
                await register(nc, "g6")
                await wait_until(lambda: _zero(unpublished(db)), what="the new event published")
            plans = (await streams_content(nc.jetstream()))["CONGDOAN_PLANS"]
            assert plans["messages"][:-1] == before["CONGDOAN_PLANS"]["messages"]
            assert plans["last_seq"] == before["CONGDOAN_PLANS"]["last_seq"] + 1
            ids = [m[2] for m in plans["messages"]]
            assert len(ids) == len(set(ids)) == 2 + len(UNITS)
        finally:
            await nc.close()
    finally:
        server.stop()
        await _drop_pg_database(postgres_admin_url, db)


async def _zero(awaitable: Any) -> bool:
    return await awaitable == 0


async def _has_streams(nc: Any, names: set[str]) -> bool:
    try:
        return names <= {i.config.name for i in await nc.jetstream().streams_info()}
    except Exception:
        return False
