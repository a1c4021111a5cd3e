"""One clock for every service of a running stack, in Asia/Ho_Chi_Minh.

Real time plus an offset. The offset lives in the NATS KV bucket `congdoan_clock` (key `offset`),
so moving it once (`python -m runtime.clockctl`, or a test) moves every service; services poll the
key and wake whatever waits on time (deadline scheduling) when it changes.

Locked by default: a service reads real time and never looks at the bucket unless
`CONGDOAN_CLOCK_LOCKED=false` — which only the embedded stack sets (`make run`, `make demo`, the
tests: runtime.launcher.Stack). Only the NATS `operator` user may write the bucket
(runtime/natsauth.py); services may only read it.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from nats.js.errors import BucketNotFoundError, KeyNotFoundError

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


async def read_shared_offset(js) -> timedelta:
    kv = await _bucket(js)
    if kv is None:
        return timedelta(0)
    try:
        entry = await kv.get(KEY)
    except KeyNotFoundError:
        return timedelta(0)
    if not entry.value:
        return timedelta(0)
    return timedelta(seconds=float(json.loads(entry.value)["offset_s"]))


async def set_shared_offset(js, offset: timedelta) -> None:
    """Write the shared offset (the NATS operator user: others are refused)."""
    kv = await _bucket(js, create=True)
    await kv.put(KEY, json.dumps({"offset_s": offset.total_seconds()}).encode())


async def set_shared_time(js, at: datetime) -> timedelta:
    """Move the shared clock so that now() reads `at` (naive datetimes are Vietnamese local time)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=TZ)
    offset = at - datetime.now(TZ)
    await set_shared_offset(js, offset)
    return offset
