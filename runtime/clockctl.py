"""The shared clock of a running stack: `congdoan clock …` (or `python -m runtime.clockctl …`).

    congdoan clock show [--json]                 # now on the shared clock, its offset, its lock
    congdoan clock set 2026-11-29T08:00          # Vietnamese local time
    congdoan clock advance 7d                    # or 12h, 30m, -1d
    congdoan clock reset                         # back to real time
    congdoan clock lock [--reason "drill 20/12"] [--by NAME]   # nobody moves it until unlocked
    congdoan clock unlock

Connects as the NATS `operator` user, the only one that may write the clock bucket (its seed
under <CONGDOAN_DATA_DIR>/secrets/nats/, or CONGDOAN_NATS_CREDS). Services follow the bucket only
when they run unlocked (CONGDOAN_CLOCK_LOCKED=false: the embedded stack, a drill's stack).

`lock` keeps the shared clock's offset where it is — time still runs, at the chosen date — and
refuses set, advance and reset (from this command, the demo or a test) until `unlock`: a drill
set to a date that nobody moves by mistake, or a stack whose clock must no longer move at all. It
records who locked it, when and why; `show` says so. Lock and moves are written with the key's
revision, so a lock and a move never cross.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from datetime import datetime, timedelta
from typing import Any

from runtime.clock import (
    TZ,
    ClockLocked,
    SharedClock,
    lock_shared_clock,
    read_shared_clock,
    set_shared_offset,
    set_shared_time,
    unlock_shared_clock,
)
from runtime.natsauth import OPERATOR, connect


def _duration(text: str) -> timedelta:
    m = re.fullmatch(r"(-?\d+)([dhms])", text)
    if not m:
        raise argparse.ArgumentTypeError("use e.g. 7d, 12h, 30m, 45s")
    n, unit = int(m.group(1)), m.group(2)
    return {"d": timedelta(days=n), "h": timedelta(hours=n), "m": timedelta(minutes=n), "s": timedelta(seconds=n)}[unit]


def default_nats_url() -> str:
    """NATS_URL, else the embedded stack's port as `make run` chose it (CONGDOAN_NATS_PORT, 4223)."""
    return os.environ.get("NATS_URL") or f"nats://127.0.0.1:{os.environ.get('CONGDOAN_NATS_PORT') or 4223}"


def describe(clock: SharedClock) -> dict[str, object]:
    return {"now": (datetime.now(TZ) + clock.offset).isoformat(timespec="seconds"),
            "offset_s": clock.offset.total_seconds(), "locked": clock.lock is not None, "lock": clock.lock}


def render(clock: SharedClock) -> str:
    line = f"now={(datetime.now(TZ) + clock.offset).isoformat(timespec='seconds')} offset={clock.offset}"
    if clock.lock:
        lock = clock.lock
        line += f"\nlocked by {lock.get('by')} since {lock.get('at')}" + (f": {lock['reason']}" if lock.get("reason") else "")
    return line


def parser() -> argparse.ArgumentParser:
    from runtime.dlqctl import who

    p = argparse.ArgumentParser(prog="congdoan clock", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nats-url", default=default_nats_url())
    p.add_argument("--data-dir", default=None, help="the stack's data folder (default CONGDOAN_DATA_DIR or var)")
    sub = p.add_subparsers(dest="cmd", required=True)
    show = sub.add_parser("show")
    show.add_argument("--json", action="store_true", help="machine-readable")
    s = sub.add_parser("set")
    s.add_argument("at", type=datetime.fromisoformat)
    a = sub.add_parser("advance")
    a.add_argument("by", type=_duration)
    sub.add_parser("reset")
    lk = sub.add_parser("lock")
    lk.add_argument("--reason", default="", help="what the lock is for (shown by `show`)")
    lk.add_argument("--by", default=who(), help="who locks it (default: login name and host)")
    sub.add_parser("unlock")
    return p


async def main(argv: list[str] | None = None, out: Any = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    nc = await connect(args.nats_url, OPERATOR, data_dir=args.data_dir, connect_timeout=5, allow_reconnect=False)
    js = nc.jetstream()
    try:
        try:
            if args.cmd == "set":
                await set_shared_time(js, args.at)
            elif args.cmd == "advance":
                await set_shared_offset(js, (await read_shared_clock(js)).offset + args.by)
            elif args.cmd == "reset":
                await set_shared_offset(js, timedelta(0))
            elif args.cmd == "lock":
                await lock_shared_clock(js, args.by, args.reason)
            elif args.cmd == "unlock":
                await unlock_shared_clock(js)
        except ClockLocked as exc:
            print(f"congdoan clock {args.cmd}: refused: {exc}", file=sys.stderr)
            return 1
        clock = await read_shared_clock(js)
        json_out = getattr(args, "json", False)
        print(json.dumps(describe(clock), ensure_ascii=False) if json_out else render(clock), file=out)
        return 0
    finally:
        await nc.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
