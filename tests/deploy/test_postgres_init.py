"""deploy/postgres/init-databases.sh against a real PostgreSQL (TEST_POSTGRES_URL): one role and
one database per service, each role reaches its own database only; running it again changes
nothing but the passwords."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.deploy.compose import ROOT

PG_URL = os.environ.get("TEST_POSTGRES_URL")
SCRIPT = ROOT / "deploy" / "postgres" / "init-databases.sh"


def psql(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1", *args], env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.skipif(not PG_URL or not shutil.which("psql"), reason="needs TEST_POSTGRES_URL and psql")
def test_init_script(tmp_path: Path) -> None:
    url = make_url(PG_URL)  # type: ignore[arg-type]
    base = {**os.environ, "PGHOST": url.host or "127.0.0.1", "PGPORT": str(url.port or 5432),
            "PGUSER": url.username or "postgres", "PGPASSWORD": url.password or ""}
    base.pop("POSTGRES_USER", None)
    tag = f"dt{uuid.uuid4().hex[:8]}"
    names = [f"{tag}_plans", f"{tag}_reports"]
    for n in names:
        (tmp_path / f"postgres_{n}_password").write_text(f"pw-{n}\n")
    env = {**base, "CONGDOAN_SECRETS": str(tmp_path), "CONGDOAN_SERVICES": " ".join(names)}
    try:
        for _ in range(2):  # idempotent
            r = subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
        for n in names:
            own = {**base, "PGUSER": n, "PGPASSWORD": f"pw-{n}"}
            r = psql(own, "-d", n, "-c", "CREATE TABLE t (x int); SELECT current_user")
            assert r.returncode == 0 and r.stdout.strip().splitlines()[-1] == n, r.stderr
            other = names[1 - names.index(n)]
            r = psql(own, "-d", other, "-c", "SELECT 1")
            assert r.returncode != 0 and "permission denied" in r.stderr, r.stderr
    finally:
        for n in names:
            psql(base, "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{n}"')
            psql(base, "-d", "postgres", "-c", f'DROP ROLE IF EXISTS "{n}"')
