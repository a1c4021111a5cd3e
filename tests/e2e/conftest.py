from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import nats
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.naming import SERVICES
from runtime.launcher import Stack, free_port
from tests.conftest import pin_clock
from tests.support import auth_env


@pytest_asyncio.fixture
async def stack(tmp_path, make_db_url) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    """The four services as real subprocesses, the way `make run` starts them, on a nats-server of
    their own; databases on the parametrised backend."""
    dbs = {name: await make_db_url(name) for name in SERVICES}
    s = Stack(data_dir=tmp_path / "var", nats_port=free_port(), http_ports={n: free_port() for n in SERVICES},
              database_urls=dbs, log_dir=tmp_path / "logs", env={"CONGDOAN_LOG_LEVEL": "INFO", **auth_env()})
    s.start_nats()
    nc = await nats.connect(s.nats_url, **s.connect_options("operator"))  # the one user that writes the clock
    try:
        await pin_clock(nc)  # before any service starts: none of them ever sees today's date
    finally:
        await nc.close()
    await asyncio.to_thread(s.start_services, 60)
    try:
        yield s
    finally:
        codes = s.stop()
        assert all(c == 0 for c in codes.values()), f"unclean exit codes {codes}; logs in {tmp_path / 'logs'}"


@pytest_asyncio.fixture
async def client(stack: Stack) -> AsyncIterator[Any]:
    """A front-end's connection: the NATS `client` user (requests and its own inbox only)."""
    nc = await nats.connect(stack.nats_url, **stack.connect_options("client"))
    yield nc
    await nc.close()


@asynccontextmanager
async def connected(stack: Stack, user: str) -> AsyncIterator[Any]:
    """A connection as one of the stack's NATS users (a producer, the operator, a subscriber)."""
    nc = await nats.connect(stack.nats_url, **stack.connect_options(user))
    try:
        yield nc
    finally:
        await nc.close()


async def scalar(stack: Stack, service: str, sql: str) -> Any:
    engine = create_async_engine(stack.database_urls[service])
    try:
        async with engine.connect() as conn:
            return (await conn.execute(sa.text(sql))).scalar_one()
    finally:
        await engine.dispose()
