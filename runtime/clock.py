"""One clock for every service of a running stack, in Asia/Ho_Chi_Minh.

Real time plus an offset. The offset lives in the NATS KV bucket `congdoan_clock` (key `offset`),
so moving it once (`congdoan clock`, or a test) moves every service; services poll the key and
wake whatever waits on time (deadline scheduling) when it changes. An operator may lock it
(`congdoan clock lock`): then nobody moves it until it is unlocked.

Locked by default: a service reads real time and never looks at the bucket unless
`CONGDOAN_CLOCK_LOCKED=false` — which only the embedded stack sets (`make run`, `make demo`, the
tests: runtime.launcher.Stack). Only the NATS `operator` user may write the bucket
(runtime/natsauth.py); services may only read it.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError

from contracts.naming import CLOCK_BUCKET

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
KEY = "offset"


class Clock:
    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._changed = asyncio.Event()

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        return datetime.now(TZ) + self._offset

    def today(self) -> date:
        return self.now().date()

    def set_offset(self, offset: timedelta) -> None:
        if offset == self._offset:
            return
        self._offset = offset
        self._changed.set()
        self._changed = asyncio.Event()

    async def sleep_until(self, when: datetime, max_wait: float = 60.0) -> None:
        """Sleep until `when` on this clock, waking early when the clock is moved."""
        delay = (when - self.now()).total_seconds()
        if delay <= 0:
            return
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout=min(delay, max_wait))
        except TimeoutError:
            pass


def wall_now() -> datetime:
    """Real time, never moved: what credentials expire by (tokens, sessions, login backoff). A
    moved demo clock must not stretch a session or a lockout; when the clock is locked
    (production) it reads the same as `Clock.now()`."""
    return datetime.now(TZ)


class FixedClock(Clock):
    """For unit tests: time stands still until moved."""

    def __init__(self, at: datetime) -> None:
        super().__init__()
        self._at = at if at.tzinfo else at.replace(tzinfo=TZ)

    def now(self) -> datetime:
        return (self._at + self._offset).astimezone(TZ)


async def _bucket(js, create: bool = False):
    try:
        return await js.key_value(CLOCK_BUCKET)
    except BucketNotFoundError:  # the operator (clockctl, a test) creates it; readers see no offset
        if not create:
            return None
        replicas = int(os.environ.get("CONGDOAN_STREAM_REPLICAS") or 1)  # as the streams (runtime/streams.py)
        return await js.create_key_value(bucket=CLOCK_BUCKET, history=5, replicas=replicas)


async def follow_shared_clock(js, clock: Clock, interval_s: float = 0.5) -> None:
    """Run forever: apply the shared offset to `clock`. Polling (not a KV watch) so that it simply
    carries on after NATS outages and reconnects."""
    while True:
        try:
            clock.set_offset(await read_shared_offset(js))
        except Exception:  # NATS away: keep the last known offset
            pass
        await asyncio.sleep(interval_s)


class ClockLocked(RuntimeError):
    """The shared clock is locked (`congdoan clock lock`): it is not moved until unlocked."""

    def __init__(self, lock: dict[str, Any]) -> None:
        super().__init__(f"the shared clock is locked by {lock.get('by')} since {lock.get('at')}"
                         + (f" ({lock['reason']})" if lock.get("reason") else "") + "; `congdoan clock unlock` first")
        self.lock = lock


@dataclass(frozen=True)
class SharedClock:
    """What the bucket's one key holds: the offset and, when locked, who locked it, when and why.
    One key, written with its last revision, so that a lock and a move cannot cross."""

    offset: timedelta = timedelta(0)
    lock: dict[str, Any] | None = None
    revision: int = 0  # 0: the key does not exist yet


async def read_shared_clock(js) -> SharedClock:
    kv = await _bucket(js)
    if kv is None:
        return SharedClock()
    try:
        entry = await kv.get(KEY)
    except KeyNotFoundError:
        return SharedClock()
    if not entry.value:
        return SharedClock(revision=entry.revision or 0)
    value = json.loads(entry.value)
    return SharedClock(timedelta(seconds=float(value.get("offset_s", 0))), value.get("lock"), entry.revision or 0)


async def read_shared_offset(js) -> timedelta:
    return (await read_shared_clock(js)).offset


async def _write(js, change: Callable[[SharedClock], SharedClock]) -> SharedClock:
    """Read the key, apply `change`, write it back only if nobody wrote in between (else again)."""
    kv = await _bucket(js, create=True)
    for _ in range(10):
        current = await read_shared_clock(js)
        new = change(current)
        value = json.dumps({"offset_s": new.offset.total_seconds(), **({"lock": new.lock} if new.lock else {})}).encode()
        try:
            if current.revision:
                revision = await kv.update(KEY, value, last=current.revision)
            else:
                revision = await kv.create(KEY, value)
        except KeyWrongLastSequenceError:  # written meanwhile: read again
            continue
        return SharedClock(new.offset, new.lock, revision)
    raise RuntimeError("the shared clock keeps changing under us; try again")


async def set_shared_offset(js, offset: timedelta) -> None:
    """Write the shared offset (the NATS operator user: others are refused). Refused with
    ClockLocked while the clock is locked."""

    def move(current: SharedClock) -> SharedClock:
        if current.lock:
            raise ClockLocked(current.lock)
        return SharedClock(offset)

    await _write(js, move)


async def set_shared_time(js, at: datetime) -> timedelta:
    """Move the shared clock so that now() reads `at` (naive datetimes are Vietnamese local time)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=TZ)
    offset = at - datetime.now(TZ)
    await set_shared_offset(js, offset)
    return offset


async def lock_shared_clock(js, by: str, reason: str = "") -> SharedClock:
    """Keep the shared clock where it is (its offset; time still runs) until unlocked: set,
    advance and reset are refused meanwhile — a drill at a chosen date nobody moves by mistake.
    Locking a locked clock is refused too (say who holds it)."""
    lock = {"by": by, "at": datetime.now(TZ).isoformat(timespec="seconds"), "reason": reason}

    def take(current: SharedClock) -> SharedClock:
        if current.lock:
            raise ClockLocked(current.lock)
        return SharedClock(current.offset, lock)

    return await _write(js, take)


async def unlock_shared_clock(js) -> SharedClock:
    return await _write(js, lambda current: SharedClock(current.offset))
