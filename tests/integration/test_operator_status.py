"""`congdoan status` against a real nats-server with congdoan's permissions, as the operator: it
lists the running service (found by `$SRV.PING`) and its durable consumers, the dead-letter depth,
and an outbox row the relay has not published yet as backlog with its age."""

from __future__ import annotations

import io
import json
import uuid
from datetime import timedelta

import pytest

from contracts import naming
from runtime.cli import main, run_status
from runtime.db import outbox
from runtime.natsauth import durables_of
from tests.integration.test_reliability import SUBJECT, submitted_event
from tests.support import TEST_NATS, connect_as, running


@pytest.fixture
def as_operator(monkeypatch: pytest.MonkeyPatch, nats_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CONGDOAN_NATS_CREDS", str(TEST_NATS.seed_path("operator")))
    monkeypatch.setenv("NATS_URL", nats_server.url)
    for svc in naming.SERVICES:  # only the databases the test names
        monkeypatch.delenv(f"CONGDOAN_{svc.upper()}_DATABASE_URL", raising=False)
    monkeypatch.setenv("CONGDOAN_DATA_DIR", str(tmp_path / "no-embedded-stack"))


async def congdoan_status(*argv: str) -> str:
    out = io.StringIO()
    assert await run_status(list(argv), out=out) == 0
    return out.getvalue()


async def test_status_shows_services_consumers_dead_letters_and_outbox_backlog(nc, nats_server, make_db_url, as_operator):
    db = await make_db_url("awards")
    # the relay polls once an hour here and nothing wakes it: a row written behind its back stays unpublished
    async with running("awards", nats_server.url, db, relay_poll_s=3600) as rt:
        async with rt.engine.begin() as conn:
            await conn.execute(outbox.insert().values(
                event_id=str(uuid.uuid4()), type="vn.congdoan.awards.test.v1", subject="congdoan.evt.awards.test.v1",
                payload="{}", created_at=rt.clock.now() - timedelta(minutes=2)))
        notify = await connect_as(nats_server.url, "notify")
        try:  # one parked message, as if notify had parked it
            await notify.jetstream().publish(naming.dlq_subject("notify", "notify-from-reports"),
                                             json.dumps(submitted_event(3)).encode(),
                                             headers={"Congdoan-Original-Subject": SUBJECT, "Congdoan-Parked-Reason": "x"})
        finally:
            await notify.close()

        text = await congdoan_status("--db", f"awards={db}")
        assert "congdoan-awards" in text and "1 instance(s)" in text
        for _, durable in durables_of("awards"):
            assert durable in text
        assert "1 parked" in text and "notify-from-reports" in text
        (line,) = [ln for ln in text.splitlines() if ln.strip().startswith("awards ")]
        assert line.split()[1] == "1" and line.split()[2].startswith("2m"), line

        st = json.loads(await congdoan_status("--json", "--db", f"awards={db}"))
        (svc,) = [s for s in st["services"] if s["name"] == "congdoan-awards"]
        assert len(svc["instances"]) == 1 and svc["endpoints"] > 0
        mine = {c["name"]: c for c in st["consumers"]}
        for stream, durable in durables_of("awards"):
            assert mine[durable]["stream"] == stream
            assert {"num_pending", "num_redelivered", "num_ack_pending"} <= set(mine[durable])
        assert st["dead_letter_depth"] == 1 and st["dead_letters"] == {"notify-from-reports": 1}
        (awards_db,) = st["databases"]
        assert awards_db["service"] == "awards" and awards_db["outbox_backlog"] == 1 and awards_db["error"] is None
        assert 115 <= awards_db["oldest_unpublished_age_s"] <= 180, awards_db
        async with rt.engine.begin() as conn:  # not an event awards may publish: gone before the relay's last round
            await conn.execute(outbox.delete())


def test_congdoan_delegates_to_the_tools(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["nats", "--data-dir", str(tmp_path), "init"]) == 0
    assert "operator" in capsys.readouterr().out
    assert main(["nats", "--data-dir", str(tmp_path), "permissions", "operator"]) == 0
    assert "$SRV" in capsys.readouterr().out
    assert main(["bogus"]) == 2
