"""Redrive: parked messages back to their consumer, once the cause is fixed.

    python -m runtime.redrive list [--consumer awards-from-reports|awards] [--reason TEXT]
                                   [--since 2026-11-20T00:00+07:00] [--until …]
    python -m runtime.redrive run  [the same selection] [--delete] [--dry-run]

A parked message (CONGDOAN_DLQ, runtime/consumer.py) is published again on its original subject,
as its producer (only a producer may publish its events: runtime/natsauth.py), with
`Nats-Msg-Id: redrive:<dlq seq>` (a repeat within the stream's dedupe window is dropped) and
`Congdoan-Redrive-For: <durable>`: the other consumers of that subject ack it without effect, the
named one handles it like any delivery — through its inbox, so a redrive of what was already
handled changes nothing, and what is still wrong is parked again with its reason. Reading the
dead-letter stream (and `--delete`, which removes each redriven message from it once the stream
acknowledged the new one) takes the operator's rights. A message parked as a reference (too large
to park whole) is listed but not redriven: its original is still in its stream, by sequence.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nats.js.errors import NotFoundError

from contracts import naming

REDRIVE_FOR = "Congdoan-Redrive-For"
REDRIVEN_FROM = "Congdoan-Redriven-From"


@dataclass(frozen=True)
class Selection:
    """Which parked messages: every criterion given must hold. `consumer` is a durable
    ("awards-from-reports") or a service ("awards"); `reason` a case-insensitive part of the
    parking reason; `since`/`until` bound the parking time (inclusive, exclusive)."""

    consumer: str | None = None
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, headers: dict[str, str]) -> bool:
        by = headers.get("Congdoan-Parked-By", "")  # "<service>/<durable>"
        if self.consumer and self.consumer not in by.split("/"):
            return False
        if self.reason and self.reason.lower() not in headers.get("Congdoan-Parked-Reason", "").lower():
            return False
        if self.since or self.until:
            try:
                at = datetime.fromisoformat(headers.get("Congdoan-Parked-At", ""))
            except ValueError:
                return False
            if (self.since and at < self.since) or (self.until and at >= self.until):
                return False
        return True


@dataclass
class Parked:
    seq: int  # in the dead-letter stream
    subject: str  # the original's
    durable: str
    reason: str
    parked_at: str
    reference: bool
    data: bytes
    headers: dict[str, str]

    @property
    def producer(self) -> str:
        """The service whose event this is (congdoan.evt.<producer>.…), "" if not an event subject."""
        parts = self.subject.split(".")
        ok = self.subject.startswith(naming.SUBJECT_PREFIX + ".") and len(parts) > 3 and parts[2] in naming.SERVICES
        return parts[2] if ok else ""


@dataclass
class Report:
    matched: int = 0
    redriven: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


async def parked(js: Any, selection: Selection = Selection()) -> list[Parked]:
    """The parked messages the selection names, oldest first (reads the dead-letter stream)."""
    try:
        info = await js.stream_info(naming.DLQ_STREAM)
    except NotFoundError:
        return []
    out: list[Parked] = []
    if info.state.messages == 0:
        return out
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            msg = await js.get_msg(naming.DLQ_STREAM, seq)
        except NotFoundError:  # deleted (redriven with --delete, or cleaned)
            continue
        headers = dict(msg.headers or {})
        if not selection.matches(headers):
            continue
        out.append(Parked(seq=seq, subject=headers.get("Congdoan-Original-Subject", ""),
                          durable=headers.get("Congdoan-Parked-By", "/").split("/", 1)[-1],
                          reason=headers.get("Congdoan-Parked-Reason", ""),
                          parked_at=headers.get("Congdoan-Parked-At", ""),
                          reference=headers.get("Congdoan-Parked-Body") == "reference",
                          data=msg.data or b"", headers=headers))
    return out


def _republished_headers(p: Parked) -> dict[str, str]:
    kept = {k: v for k, v in p.headers.items() if not k.startswith(("Congdoan-", "Nats-"))}
    return {**kept, "Nats-Msg-Id": f"redrive:{naming.DLQ_STREAM}:{p.seq}", REDRIVE_FOR: p.durable,
            REDRIVEN_FROM: f"{naming.DLQ_STREAM}:{p.seq}"}


async def redrive(js: Any, publisher: Callable[[str], Awaitable[Any]], selection: Selection = Selection(), *,
                  delete: bool = False, dry_run: bool = False) -> Report:
    """Publish the selected parked messages again for their consumer. `js` reads (and with
    `delete` cleans) the dead-letter stream; `publisher(producer)` gives a JetStream context that
    may publish that producer's events."""
    report = Report()
    for p in await parked(js, selection):
        report.matched += 1
        if p.reference:
            report.skipped.append((p.seq, f"parked as a reference: the original is {p.headers.get('Congdoan-Original-Stream')}"
                                          f" #{p.headers.get('Congdoan-Original-Seq')}"))
            continue
        if not p.producer:
            report.skipped.append((p.seq, f"not parked from an event subject ({p.subject!r})"))
            continue
        if dry_run:
            report.redriven.append(p.seq)
            continue
        pub = await publisher(p.producer)
        await pub.publish(p.subject, p.data, headers=_republished_headers(p), timeout=10)
        report.redriven.append(p.seq)
        if delete:
            await js.delete_msg(naming.DLQ_STREAM, p.seq)
    return report


# --- command line ---------------------------------------------------------------------------------

def _time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        from runtime.clock import TZ

        value = value.replace(tzinfo=TZ)
    return value


async def _main(args: argparse.Namespace) -> int:
    from runtime.natsauth import OPERATOR, connect

    selection = Selection(args.consumer, args.reason, args.since, args.until)
    url = args.nats_url
    ops = await connect(url, OPERATOR, data_dir=args.data_dir)
    producers: dict[str, Any] = {}

    async def publisher(producer: str) -> Any:
        if producer not in producers:
            producers[producer] = await connect(url, producer, data_dir=args.data_dir)
        return producers[producer].jetstream()

    try:
        js = ops.jetstream()
        if args.cmd == "list":
            for p in await parked(js, selection):
                print(f"{p.seq:>8}  {p.parked_at[:19]}  {p.durable:<24} {p.subject}  "
                      f"{'[reference] ' if p.reference else ''}{p.reason[:120]}")
            return 0
        report = await redrive(js, publisher, selection, delete=args.delete, dry_run=args.dry_run)
        verb = "would redrive" if args.dry_run else "redriven"
        print(f"{report.matched} matched, {len(report.redriven)} {verb}, {len(report.skipped)} skipped")
        for seq, why in report.skipped:
            print(f"  skipped {seq}: {why}")
        return 0
    finally:
        for nc in (*producers.values(), ops):
            await nc.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m runtime.redrive", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nats-url", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4223"))
    p.add_argument("--data-dir", default=os.environ.get("CONGDOAN_DATA_DIR", "var"))
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("list", "run"):
        c = sub.add_parser(name)
        c.add_argument("--consumer", help="a durable (awards-from-reports) or a service (awards)")
        c.add_argument("--reason", help="part of the parking reason, any case")
        c.add_argument("--since", type=_time, help="parked at or after (ISO 8601; local time if no offset)")
        c.add_argument("--until", type=_time, help="parked before")
        if name == "run":
            c.add_argument("--delete", action="store_true", help="remove each redriven message from the DLQ")
            c.add_argument("--dry-run", action="store_true", help="say what would be redriven")
    args = p.parse_args(argv)
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
