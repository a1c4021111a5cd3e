"""`congdoan clock show | lock | unlock` (runtime/clockctl.py) as the NATS operator: a locked shared
clock keeps its offset and refuses every move — the command's set/advance/reset and
runtime.clock's own set_shared_time (the demo, the tests) — until unlocked; `show` says who locked
it and why."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import pytest

from runtime import clockctl
from runtime.clock import TZ, ClockLocked, read_shared_clock, set_shared_time, unlock_shared_clock
from tests.conftest import PINNED_NOW
from tests.support import TEST_NATS


@pytest.fixture
def as_operator(monkeypatch: pytest.MonkeyPatch, nats_server) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CONGDOAN_NATS_CREDS", str(TEST_NATS.seed_path("operator")))
    monkeypatch.setenv("NATS_URL", nats_server.url)


async def clock(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await clockctl.main(list(argv), out=out)
    return code, out.getvalue()


def _now(shown: dict) -> datetime:  # type: ignore[type-arg]
    return datetime.fromisoformat(str(shown["now"]))


async def test_lock_refuses_moves_until_unlocked(nc, as_operator, capsys):  # type: ignore[no-untyped-def]
    js = nc.jetstream()
    try:
        code, text = await clock("show", "--json")
        shown = json.loads(text)
        assert code == 0 and shown["locked"] is False and shown["lock"] is None
        assert abs(_now(shown) - PINNED_NOW) < timedelta(minutes=5)

        code, text = await clock("lock", "--reason", "diễn tập 20/12", "--by", "ops@test")
        assert code == 0 and "locked by ops@test since" in text and "diễn tập 20/12" in text, text
        offset = (await read_shared_clock(js)).offset

        for move in (["advance", "1d"], ["set", "2026-12-20T08:00"], ["reset"], ["lock"]):
            code, _ = await clock(*move)
            assert code == 1, move
            assert "refused: the shared clock is locked by ops@test" in capsys.readouterr().err
        with pytest.raises(ClockLocked):  # the library call the demo and the tests use: refused too
            await set_shared_time(js, datetime(2027, 1, 1, tzinfo=TZ))
        state = await read_shared_clock(js)
        assert state.offset == offset and state.lock is not None and state.lock["reason"] == "diễn tập 20/12"

        code, text = await clock("show", "--json")
        assert json.loads(text)["locked"] is True

        code, text = await clock("unlock")
        assert code == 0 and "locked" not in text
        code, text = await clock("advance", "1d")
        assert code == 0
        assert (await read_shared_clock(js)).offset == offset + timedelta(days=1)
    finally:
        await unlock_shared_clock(js)  # the next test pins the clock
