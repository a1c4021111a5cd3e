"""`congdoan migrate` (runtime/migratectl.py) on SQLite and PostgreSQL: a fresh database brought
to head with the revisions it ran listed; a database one revision behind gets only the missing
one; `--status` says behind or current (exit 1 / 0) and migrates nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import sqlalchemy as sa

from runtime.cli import main
from runtime.db import make_engine, migrate
from runtime.migratectl import migrations_dir, run


async def congdoan_migrate(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await run(list(argv), out=out)
    return code, out.getvalue()


async def _tables_and_version(url: str) -> tuple[set[str], list[str]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
            versions = sorted((await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalars())
    finally:
        await engine.dispose()
    return tables, versions


def revisions(service: str) -> list[str]:
    """The service's migration revisions, from its versions folder (so a new one needs no edit here)."""
    return sorted(f.name[:4] for f in (migrations_dir(service) / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


async def test_migrate_fresh_then_current(make_db_url, tmp_path: Path):  # type: ignore[no-untyped-def]
    reports, awards = await make_db_url("reports"), await make_db_url("awards")
    dbs = ("--db", f"reports={reports}", "--db", f"awards={awards}", "--data-dir", str(tmp_path))
    code, text = await congdoan_migrate("--status", *dbs)
    assert code == 1, text  # an empty PostgreSQL database is behind; a SQLite file not made yet is absent
    assert "reports  at (empty): behind (head 0003)" in text or "reports  FAILED no database file" in text

    code, text = await congdoan_migrate(*dbs)
    assert code == 0, text
    assert "reports  (empty) → 0003: applied 0001, 0002, 0003" in text
    awards_revs = revisions("awards")
    assert f"awards   (empty) → {awards_revs[-1]}: applied {', '.join(awards_revs)}" in text
    tables, versions = await _tables_and_version(reports)
    assert {"outbox", "inbox", "reminders", "report_revisions"} <= tables and versions == ["0003"]

    code, text = await congdoan_migrate(*dbs)  # again: nothing to do
    assert code == 0 and "reports  at 0003: up to date" in text, text
    code, text = await congdoan_migrate("--status", "--json", *dbs)
    assert code == 0
    assert {r["service"]: (r["after"], r["current"], r["applied"]) for r in json.loads(text)} == {
        "reports": (["0003"], True, []), "awards": ([awards_revs[-1]], True, [])}


async def test_migrate_runs_only_what_is_missing(make_db_url, tmp_path: Path):  # type: ignore[no-untyped-def]
    url = await make_db_url("reports")
    engine = make_engine(url)
    try:  # a database left at 0002 by the previous release
        async with engine.connect() as conn:
            await conn.run_sync(_upgrade_to, migrations_dir("reports"), "0002")
            await conn.commit()
    finally:
        await engine.dispose()
    code, text = await congdoan_migrate("reports", "--status", "--db", f"reports={url}", "--data-dir", str(tmp_path))
    assert code == 1 and "reports  at 0002: behind (head 0003)" in text, text
    assert (await _tables_and_version(url))[1] == ["0002"]  # --status changed nothing
    code, text = await congdoan_migrate("reports", "--db", f"reports={url}", "--data-dir", str(tmp_path))
    assert code == 0 and "reports  0002 → 0003: applied 0003" in text, text
    # What the services run at start-up finds nothing left to do.
    engine = make_engine(url)
    try:
        await migrate(engine, migrations_dir("reports"))
    finally:
        await engine.dispose()
    assert (await _tables_and_version(url))[1] == ["0003"]


def _upgrade_to(connection: sa.Connection, location: Path, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


def test_migrate_refuses_unknown_services(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert main(["migrate", "payroll", "--data-dir", str(tmp_path)]) == 2
    assert "unknown payroll" in capsys.readouterr().err
    assert main(["migrate", "--db", "reports", "--data-dir", str(tmp_path)]) == 2  # no URL


def test_status_of_an_embedded_stack_that_never_ran_creates_nothing(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert main(["migrate", "plans", "--status", "--data-dir", str(tmp_path)]) == 1
    assert "no database file" in capsys.readouterr().out
    assert not (tmp_path / "plans.db").exists()
