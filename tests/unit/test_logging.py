"""One log format per container (runtime/logging.py): the libraries' stdlib records (nats,
SQLAlchemy, aiohttp, FastStream…) come out as the same JSON lines as congdoan's own, on the same
stream. Run in a child process: logging's configuration is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import logging
    from runtime.logging import configure_logging, get_logger
    configure_logging("INFO", True, service="reports")
    get_logger("runtime.api").info("ours", endpoint="submit_report")
    logging.getLogger("nats.aio.client").warning("nats: %s", "slow consumer")
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT 1")  # below the libraries' level
    logging.getLogger("sqlalchemy.pool").error("connection invalidated")
    try:
        raise ConnectionResetError("peer gone")
    except ConnectionResetError:
        logging.getLogger("aiohttp.server").exception("Error handling request")
    logging.getLogger("faststream").error("handler failed", extra={"subject": "congdoan.evt.x"})
    logging.getLogger("alembic.runtime.migration").info("Running upgrade")  # quiet
""")


def test_library_logs_are_the_same_json_lines_on_one_stream() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stderr == ""
    lines = [json.loads(line) for line in done.stdout.splitlines()]  # every line is one JSON object
    assert [(r.get("logger"), r["event"]) for r in lines] == [
        (None, "ours"), ("nats.aio.client", "nats: slow consumer"), ("sqlalchemy.pool", "connection invalidated"),
        ("aiohttp.server", "Error handling request"), ("faststream", "handler failed")]
    for record in lines:
        assert record["service"] == "reports"
        assert record["timestamp"].endswith("Z")
        assert record["level"] in ("info", "warning", "error")
    assert "ConnectionResetError: peer gone" in lines[3]["exception"]
    assert lines[4]["subject"] == "congdoan.evt.x"
    assert lines[0]["endpoint"] == "submit_report"
