"""The schema a service migrates to is the schema its code declares: each service's migrations,
run on an empty database, give exactly the tables, columns, types, indexes and constraints of
its ORM metadata and the runtime's shared tables (Alembic's autogenerate comparison) — on SQLite
and PostgreSQL. Migrations are history: they import no live table of the code."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from contracts.naming import SERVICES
from runtime.db import make_engine, migrate, plumbing
from runtime.directory import directory
from runtime.scheduler import scheduling

ROOT = Path(__file__).resolve().parents[2]


def declared(service: str) -> sa.MetaData:
    orm = importlib.import_module(f"services.{service}.adapters.orm")
    md = sa.MetaData()
    for part in (plumbing, directory, scheduling, orm.metadata):
        for table in part.tables.values():
            if table.name not in md.tables:
                table.to_metadata(md)
    return md


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_give_the_declared_schema(service: str, make_db_url) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(await make_db_url(service))
    try:
        await migrate(engine, ROOT / "services" / service / "migrations")
        md = declared(service)

        def diff(conn: sa.Connection) -> list[object]:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
            return [d for d in compare_metadata(ctx, md)
                    if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")]

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


def test_migrations_are_history() -> None:
    """A migration may not import the code's tables: a later change of the code would rewrite it."""
    for path in (ROOT / "services").glob("*/migrations/versions/*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert imported <= {"sqlalchemy", "alembic", "hashlib", "datetime", "json"}, (path, imported)
