"""`congdoan migrate`: bring services' databases to their newest schema, or say where they are.

    congdoan migrate                        # every service whose database is configured or found
    congdoan migrate reports plans          # these services (their default database if none is set)
    congdoan migrate --db reports=postgresql+asyncpg://…   # that database
    congdoan migrate --status               # versions only: exit 1 when one is behind
    congdoan migrate --json

Each service migrates itself at start-up (runtime/app.py); this runs the very same step —
runtime.db.migrate, under PostgreSQL's advisory lock, so a replica starting meanwhile waits — ahead
of an upgrade, or to see which version each database is at. A service's database comes from
`--db SERVICE=URL`, else from its settings (CONGDOAN_<SERVICE>_DATABASE_URL or _FILE), else the
embedded stack's SQLite file <data-dir>/<service>.db. Its migrations are the Alembic scripts of its
package, services/<service>/migrations (no service code is imported).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from contracts import naming


def migrations_dir(service: str) -> Path:
    """services/<service>/migrations, found without importing the service."""
    spec = importlib.util.find_spec(f"services.{service}")
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"no package services.{service}")
    return Path(next(iter(spec.submodule_search_locations))) / "migrations"


@dataclass
class Migrated:
    service: str
    database: str
    before: list[str] = field(default_factory=list)  # versions (Alembic heads) found
    after: list[str] = field(default_factory=list)
    head: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)  # revisions run now, oldest first
    error: str | None = None

    @property
    def current(self) -> bool:
        return self.error is None and sorted(self.after) == sorted(self.head)


def _versions(connection: sa.Connection) -> list[str]:
    from alembic.runtime.migration import MigrationContext

    return sorted(MigrationContext.configure(connection).get_current_heads())


def _scripts(location: Path) -> Any:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    return ScriptDirectory.from_config(cfg)


def _no_sqlite_file(url: str) -> bool:
    from runtime.db import is_sqlite

    database = sa.engine.make_url(url).database
    return is_sqlite(url) and bool(database) and database != ":memory:" and not Path(str(database)).exists()


def _lineage(scripts: Any, heads: list[str]) -> set[str]:
    return {s.revision for h in heads for s in scripts.iterate_revisions(h, "base")}


async def migrate_one(service: str, url: str, *, status_only: bool = False) -> Migrated:
    from runtime.db import make_engine, migrate

    result = Migrated(service, sa.engine.make_url(url).render_as_string(hide_password=True))
    if status_only and _no_sqlite_file(url):
        result.error = "no database file (the service has not started here yet)"  # and looking makes none
        return result
    engine = make_engine(url)
    try:
        location = migrations_dir(service)
        scripts = _scripts(location)
        result.head = sorted(scripts.get_heads())
        async with engine.connect() as conn:
            result.before = await conn.run_sync(_versions)
        if not status_only:
            await migrate(engine, location)
            async with engine.connect() as conn:
                result.after = await conn.run_sync(_versions)
            # What ran: below what is there now, and not below what was there before; oldest first.
            new = _lineage(scripts, result.after) - _lineage(scripts, result.before)
            result.applied = [s.revision for s in reversed(list(scripts.walk_revisions())) if s.revision in new]
        else:
            result.after = result.before
    except Exception as exc:  # a database that does not answer is this service's finding, not a crash
        result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
    finally:
        await engine.dispose()
    return result


def database_urls(services: list[str] | None, data_dir: Path, given: dict[str, str]) -> dict[str, str]:
    """Named services: their database, the embedded default if none is configured; none named:
    those with a database given, configured or present (as `congdoan status` finds them)."""
    from runtime.cli import database_urls as found
    from runtime.settings import load_settings

    urls = found(data_dir, given)
    if not services:
        return urls
    return {svc: urls.get(svc) or load_settings(svc, data_dir=data_dir).db_url for svc in services}


def render(results: list[Migrated], status_only: bool) -> str:
    def v(versions: list[str]) -> str:
        return ",".join(versions) or "(empty)"

    lines = []
    for r in results:
        if r.error:
            lines.append(f"{r.service:<8} FAILED {r.error}  ({r.database})")
        elif status_only:
            state = "current" if r.current else f"behind (head {v(r.head)})"
            lines.append(f"{r.service:<8} at {v(r.after)}: {state}  ({r.database})")
        elif r.applied:
            lines.append(f"{r.service:<8} {v(r.before)} → {v(r.after)}: applied {', '.join(r.applied)}  ({r.database})")
        else:
            lines.append(f"{r.service:<8} at {v(r.after)}: up to date  ({r.database})")
    return "\n".join(lines) if lines else "no database given or found (--db SERVICE=URL, CONGDOAN_<SERVICE>_DATABASE_URL)"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="congdoan migrate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("services", nargs="*", metavar="SERVICE", help=f"{', '.join(naming.SERVICES)} or all (default: all found)")
    p.add_argument("--db", action="append", metavar="SERVICE=URL", help="a service's database (repeatable)")
    p.add_argument("--data-dir", default=os.environ.get("CONGDOAN_DATA_DIR", "var"))
    p.add_argument("--status", action="store_true", help="show versions, migrate nothing; exit 1 if one is behind")
    p.add_argument("--json", action="store_true", help="machine-readable")
    return p


async def run(argv: list[str], out: Any = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    named = [s for s in args.services if s != "all"]
    unknown = [s for s in named if s not in naming.SERVICES]
    given: dict[str, str] = {}
    for item in args.db or []:
        svc, _, url = item.partition("=")
        if svc not in naming.SERVICES or not url:
            unknown.append(item)
        given[svc] = url
    if unknown:
        print(f"congdoan migrate: unknown {', '.join(unknown)}: services are {', '.join(naming.SERVICES)} "
              "(--db SERVICE=URL)", file=sys.stderr)
        return 2
    if "all" in args.services:
        named = list(naming.SERVICES)
    urls = database_urls(named or None, Path(args.data_dir), given)
    results = [await migrate_one(svc, url, status_only=args.status) for svc, url in urls.items()]
    if args.json:
        print(json.dumps([{**asdict(r), "current": r.current} for r in results], ensure_ascii=False, indent=2), file=out)
    else:
        print(render(results, args.status), file=out)
    if any(r.error for r in results):
        return 1
    return 1 if args.status and not all(r.current for r in results) else 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(list(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    sys.exit(main())
