"""Database plumbing: engines for SQLite (embedded default) and PostgreSQL (production), the
outbox and inbox tables every service carries, Alembic migrations run at start-up, and the base
unit of work."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
import sqlalchemy as sa
from pydantic import BaseModel
from pydantic_core import from_json
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from contracts.catalogue import event_of
from contracts.envelope import event_json
from runtime import tracing

# Tables of the plumbing, present in every service's database (created by each service's first
# migration, written out in full there). Kept in their own MetaData: services own theirs.
plumbing = sa.MetaData()

outbox = sa.Table(
    "outbox", plumbing,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(128), nullable=False, unique=True),
    sa.Column("type", sa.String(256), nullable=False),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
)
sa.Index("ix_outbox_pending", outbox.c.id,
         sqlite_where=outbox.c.published_at.is_(None), postgresql_where=outbox.c.published_at.is_(None))

inbox = sa.Table(
    "inbox", plumbing,
    sa.Column("consumer", sa.String(128), primary_key=True),
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("event_type", sa.String(256), nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
)


async def outbox_backlog(conn: Any) -> tuple[int, datetime | None]:
    """Unpublished outbox rows and when the oldest was recorded (aware; on the shared clock, which
    stamps them) — what `congdoan status` and the outbox gauges report."""
    n, oldest = (await conn.execute(sa.select(sa.func.count(), sa.func.min(outbox.c.created_at))
                                    .select_from(outbox).where(outbox.c.published_at.is_(None)))).one()
    if isinstance(oldest, str):
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        from runtime.clock import TZ

        # SQLite keeps the shared clock's local time without its zone.
        oldest = oldest.replace(tzinfo=TZ)
    return int(n), oldest


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


# SQLite says its file is busy or unreachable, not that the statement is wrong: wait, don't blame.
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "database is busy", "disk i/o error",
                       "unable to open database file", "database or disk is full")


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 20:
        e = todo.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo.extend([getattr(e, "orig", None), e.__cause__, e.__context__])
    return seen


def is_lock_contention(exc: BaseException) -> bool:
    """SQLite's "database is locked" and kin, anywhere in the exception's chain."""
    return any(isinstance(e, sqlite3.OperationalError) and any(m in str(e).lower() for m in _SQLITE_UNAVAILABLE)
               for e in _causes(exc))


def is_unavailable(exc: BaseException) -> bool:
    """The database (or the network to it, or another dependency) did not answer — as opposed to a
    statement or a handler that failed. Looks through the chain of causes: SQLAlchemy's connection
    errors (OperationalError, InterfaceError, an invalidated connection, pool exhaustion), asyncpg's
    connection and shutdown errors, SQLite's busy file, refused/reset connections and timeouts."""
    try:
        import asyncpg.exceptions as pg
        pg_kinds: tuple[type[BaseException], ...] = (
            pg.PostgresConnectionError, pg.InterfaceError, pg.AdminShutdownError, pg.CrashShutdownError,
            pg.CannotConnectNowError, pg.TooManyConnectionsError)
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        pg_kinds = ()
    for e in _causes(exc):
        if isinstance(e, sa.exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, sa.exc.OperationalError | sa.exc.InterfaceError | sa.exc.TimeoutError | sa.exc.DisconnectionError):
            if isinstance(e.orig if isinstance(e, sa.exc.DBAPIError) else None, sqlite3.OperationalError):
                if is_lock_contention(e):
                    return True
                continue  # SQLite's OperationalError is also "no such table": a bug, not an outage
            return True
        if isinstance(e, sqlite3.OperationalError) and is_lock_contention(e):
            return True
        if pg_kinds and isinstance(e, pg_kinds):
            return True
        if isinstance(e, ConnectionError | TimeoutError | socket.gaierror):
            return True
    return False


class _InlineSqliteConnection(aiosqlite.Connection):
    """aiosqlite runs every call on a worker thread; each hop costs ~0.25 ms, ~20 hops a request.
    A SQLite statement in WAL mode takes microseconds (a commit with synchronous=FULL ~0.3 ms, its fsync) and the file belongs
    to this one process, so after connecting we run calls inline on the event loop instead."""

    async def _execute(self, fn, *args, **kwargs):
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def _sqlite_creator(path: str, busy_timeout_s: float) -> Callable[[], Any]:
    async def create() -> aiosqlite.Connection:
        conn = _InlineSqliteConnection(
            lambda: sqlite3.connect(path, timeout=busy_timeout_s, check_same_thread=False), iter_chunk_size=64)
        return await conn

    return create


# SQLite's durability: FULL fsyncs the WAL at every commit, so an acknowledged request survives a
# power loss, not only a crash of the process (NORMAL, ~25x more commits a second, may lose the
# last ones on power loss). README "Durability" says what an acknowledgement guarantees.
SQLITE_SYNCHRONOUS = "FULL"


def make_engine(url: str, sqlite_inline: bool = True, sqlite_synchronous: str = SQLITE_SYNCHRONOUS) -> AsyncEngine:
    if sqlite_synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"SQLite synchronous must be OFF, NORMAL, FULL or EXTRA, not {sqlite_synchronous!r}")
    if is_sqlite(url):
        path = url.removeprefix("sqlite+aiosqlite:///")
        if url.startswith("sqlite+aiosqlite:///") and ":memory:" not in url:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        extra: dict[str, Any] = {}
        if sqlite_inline and ":memory:" not in url:
            extra["async_creator"] = _sqlite_creator(path, 5.0)
        # One connection: SQLite has one writer anyway; a single connection avoids "database is locked".
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60,
                                     connect_args={"timeout": 30}, json_serializer=_dumps,
                                     json_deserializer=_loads, **extra)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
            cur.execute(f"PRAGMA synchronous={sqlite_synchronous}")  # FULL: acknowledged = on disk
            cur.execute("PRAGMA foreign_keys=ON")
            # Inline on the event loop a lock wait would stall the process: wait briefly, then fail
            # (the request errors, the message is NAK'd and retried). One process owns each file.
            cur.execute("PRAGMA busy_timeout=5000")
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, json_serializer=_dumps,
                               json_deserializer=_loads)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _loads(text: str | bytes) -> Any:
    """JSON columns read with pydantic-core's parser (Rust): the same values as json.loads, about
    four times faster (a national consolidation reads ~120,000 reports' figures)."""
    return from_json(text)


def run_migrations_sync(connection: sa.Connection, script_location: Path, version_table: str = "alembic_version") -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["connection"] = connection
    cfg.attributes["version_table"] = version_table
    command.upgrade(cfg, "head")


async def migrate(engine: AsyncEngine, script_location: Path) -> None:
    """Bring the schema to head. On PostgreSQL an advisory lock keeps two replicas from racing."""
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(sa.text("SELECT pg_advisory_lock(715517)"))
        try:
            await conn.run_sync(run_migrations_sync, script_location)
            await conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                await conn.execute(sa.text("SELECT pg_advisory_unlock(715517)"))
                await conn.commit()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@dataclass(frozen=True, slots=True)
class SerializedData:
    """An event's data already serialised: ``json`` is what ``model(...).model_dump_json()`` gives.
    For a cascade's thousands of events built from a few validated parts (validating 48,000
    occurrence references one by one is a quarter of issuing a plan)."""

    model: type[BaseModel]
    json: str


class UnitOfWork:
    """cosmicpython's unit of work: one database transaction; nothing is kept unless `commit()`
    is called. Events recorded with `emit()` land in the outbox inside the same transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, source: str,
                 now: Callable[[], datetime], on_commit: Callable[[], None] | None = None) -> None:
        self._sessions = sessions
        self._source = source
        self._now = now
        self._on_commit = on_commit
        self._emitted = 0
        self.session: AsyncSession

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self._emitted = 0
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.rollback()
        await self.session.close()

    def now(self) -> datetime:
        return self._now()

    async def commit(self) -> None:
        await self.session.commit()
        if self._emitted and self._on_commit:
            self._on_commit()
        self._emitted = 0

    async def rollback(self) -> None:
        await self.session.rollback()
        self._emitted = 0

    async def emit(self, data: BaseModel, *, subject: str | None = None, event_id: str | None = None) -> str:
        """Record an event in the outbox (same transaction as the state change). Its type is the
        one the catalogue pairs with the data's model."""
        row = self._outbox_row(data, subject, event_id, self._now(), tracing.current_context_attributes())
        await self.session.execute(_OUTBOX_INSERT, row)
        self._emitted += 1
        return str(row["event_id"])

    async def emit_many(self, items: list[tuple[Any, ...]]) -> int:
        """`emit` for many events (a cascade to thousands of units) in one bulk insert. Each item
        is (data, CloudEvents subject) or (data, subject, event id); data is a model instance or a
        SerializedData (what its model would serialise, made by the caller from validated parts)."""
        now = self._now()
        trace = tracing.current_context_attributes()  # the same span for all of them: taken once
        rows = [self._outbox_row(item[0], item[1], item[2] if len(item) > 2 else None, now, trace) for item in items]
        await bulk_insert(self.session, outbox, rows)
        self._emitted += len(rows)
        return len(rows)

    def _outbox_row(self, data: BaseModel | SerializedData, subject: str | None, event_id: str | None,
                    now: datetime, trace: dict[str, str]) -> dict[str, Any]:
        # The trace context active now goes into the event itself (the distributed-tracing
        # extension): the relay publishing it later and its consumers continue this trace.
        if isinstance(data, SerializedData):
            spec = event_of(data.model)
            id_, payload = event_json(type_=spec.type, source=self._source, data=data.json, time=now,
                                      subject=subject, id_=event_id, extensions=trace)
        else:
            spec = event_of(data)
            id_, payload = event_json(type_=spec.type, source=self._source, data=data, time=now, subject=subject,
                                      id_=event_id, extensions=trace)
        return {"event_id": id_, "type": spec.type, "subject": spec.subject, "created_at": now, "attempts": 0,
                "payload": payload}


_BULK_SQL: dict[tuple[int, str, tuple[str, ...]], tuple[str, list[tuple[str, Any]]]] = {}


def _bulk_statement(table: sa.Table, dialect: Any, keys: tuple[str, ...]) -> tuple[str, list[tuple[str, Any]]]:
    """The INSERT of `keys` into `table` compiled once per dialect, and per parameter position its
    key and the column type's bind processor (None when the driver takes the value as it is)."""
    ck = (id(table), dialect.name, keys)
    hit = _BULK_SQL.get(ck)
    if hit is None:
        missing = [c.key for c in table.columns if c.key not in keys and c.default is not None]
        if missing:
            raise ValueError(f"bulk insert into {table.name}: no value for {missing} (Python-side defaults)")
        compiled = table.insert().compile(dialect=dialect, column_keys=list(keys))
        order = list(compiled.positiontup or [])
        hit = (str(compiled), [(k, table.c[k].type._cached_bind_processor(dialect)) for k in order])
        _BULK_SQL[ck] = hit
    return hit


def insert_new(conn: AsyncSession | Any, table: sa.Table) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the dialect in use (SQLite or PostgreSQL): a row whose key
    is there already is left alone. What replicas doing the same thing at once need — with a
    check-then-insert the second one fails on the key (two notify replicas planning one digest)."""
    from sqlalchemy.dialects import postgresql, sqlite

    bind = conn.get_bind() if isinstance(conn, AsyncSession) else conn
    return (postgresql if bind.dialect.name == "postgresql" else sqlite).insert(table).on_conflict_do_nothing()


async def bulk_insert(conn: AsyncSession | Any, table: sa.Table, rows: list[dict[str, Any]],
                      chunk: int = 5000, prepared: Collection[str] = ()) -> None:
    """INSERT many rows (dicts with the same keys) as driver-level executemany: the statement is
    compiled once and each column's bind processor applied in one pass, without SQLAlchemy's
    per-row parameter handling (~10 µs a row). Same transaction as `conn` (a session or a
    connection). Rows must give every column that has a Python-side default. The columns named in
    `prepared` hold what the driver takes already (a JSON column's text), not converted again."""
    if not rows:
        return
    connection = await conn.connection() if isinstance(conn, AsyncSession) else conn
    sql, params = _bulk_statement(table, connection.dialect, tuple(rows[0]))
    columns = []
    for key, proc in params:
        values = [r[key] for r in rows]
        if proc is not None and key not in prepared:
            try:  # a cascade repeats its few dates and one timestamp: each distinct value converted once
                done = {v: proc(v) for v in set(values) if v is not None}
                values = [None if v is None else done[v] for v in values]
            except TypeError:  # unhashable (JSON documents): one by one
                values = [None if v is None else proc(v) for v in values]
        columns.append(values)
    tuples = list(zip(*columns))
    if connection.dialect.driver == "asyncpg":
        # COPY, about twice as fast as a prepared executemany. The statement first makes sure the
        # transaction has begun (SQLAlchemy's asyncpg adapter begins it lazily): COPY is then part of it.
        await connection.exec_driver_sql("SELECT 1")
        raw: Any = (await connection.get_raw_connection()).driver_connection
        await raw.copy_records_to_table(table.name, records=tuples, columns=[k for k, _ in params],
                                        schema_name=table.schema)
        return
    for i in range(0, len(tuples), chunk):
        await connection.exec_driver_sql(sql, tuples[i:i + chunk])


async def plain_rows(conn: AsyncSession | Any, stmt: sa.Select[Any]) -> list[Any]:
    """A SELECT's rows as the driver gave them (tuples on SQLite, asyncpg records), without
    SQLAlchemy's Row objects: for reads of a whole nation (~1 µs a row saved on 130,000). Only when
    no selected column's type converts results (plain strings, numbers); otherwise the rows are
    read the ordinary way, as tuples."""
    connection = await conn.connection() if isinstance(conn, AsyncSession) else conn
    dialect = connection.dialect
    if any(c.type._cached_result_processor(dialect, None) is not None for c in stmt.selected_columns):
        return [tuple(r) for r in (await connection.execute(stmt)).all()]
    result = await connection.execute(stmt)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


# Prebuilt: building `outbox.insert().values(...)` per event costs a statement compile and a
# cache-key walk (~0.3 ms), a sizeable share of a submission.
_OUTBOX_INSERT = outbox.insert()


def run_alembic_env() -> None:
    """The body of every service's migrations/env.py: migrations run on the connection handed
    over by `migrate()` (online), or print SQL for a URL given on the alembic command line."""
    from alembic import context

    cfg = context.config
    connection = cfg.attributes.get("connection")
    if connection is None:
        context.configure(url=cfg.get_main_option("sqlalchemy.url"), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite",
                      version_table=cfg.attributes.get("version_table", "alembic_version"))
    with context.begin_transaction():
        context.run_migrations()


_VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # runtime.clock.TZ (ZoneInfo keeps one instance per key)


class AwareDateTime(sa.types.TypeDecorator):
    """Timestamps stored in UTC and read back aware, in Asia/Ho_Chi_Minh, on SQLite and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one (clock.now())")
        v = value.astimezone(UTC)
        return v.replace(tzinfo=None) if dialect.name == "sqlite" else v

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(_VN_TZ)
