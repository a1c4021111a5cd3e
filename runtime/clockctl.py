"""Move the shared clock of a running stack.

    python -m runtime.clockctl show
    python -m runtime.clockctl set 2026-11-29T08:00      # Vietnamese local time
    python -m runtime.clockctl advance 7d                # or 12h, 30m
    python -m runtime.clockctl reset

Connects as the NATS `operator` user, the only one that may write the clock bucket (its seed
under <CONGDOAN_DATA_DIR>/secrets/nats/, or CONGDOAN_NATS_CREDS). Services follow the bucket only
when they run unlocked (CONGDOAN_CLOCK_LOCKED=false: the embedded stack).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
from datetime import datetime, timedelta

from runtime.clock import TZ, read_shared_offset, set_shared_offset, set_shared_time
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


async def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="clockctl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nats-url", default=default_nats_url())
    p.add_argument("--data-dir", default=None, help="the stack's data folder (default CONGDOAN_DATA_DIR or var)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("show")
    s = sub.add_parser("set")
    s.add_argument("at", type=datetime.fromisoformat)
    a = sub.add_parser("advance")
    a.add_argument("by", type=_duration)
    sub.add_parser("reset")
    args = p.parse_args(argv)
    nc = await connect(args.nats_url, OPERATOR, data_dir=args.data_dir, connect_timeout=5, allow_reconnect=False)
    js = nc.jetstream()
    try:
        if args.cmd == "set":
            await set_shared_time(js, args.at)
        elif args.cmd == "advance":
            await set_shared_offset(js, await read_shared_offset(js) + args.by)
        elif args.cmd == "reset":
            await set_shared_offset(js, timedelta(0))
        offset = await read_shared_offset(js)
        print(f"now={(datetime.now(TZ) + offset).isoformat(timespec='seconds')} offset={offset}")
    finally:
        await nc.close()


if __name__ == "__main__":
    asyncio.run(main())
