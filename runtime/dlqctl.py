"""Dead letters: what was parked, why, and handing it back (README "Operating").

    python -m runtime.dlqctl list [--consumer notify-from-reports] [--all]
    python -m runtime.dlqctl show SEQ                     # headers and body of one parked message
    python -m runtime.dlqctl replay SEQ [SEQ …]           # ask the consumer that parked it to try again
    python -m runtime.dlqctl replay --consumer notify-from-reports   # every message it parked
    python -m runtime.dlqctl discard SEQ [SEQ …]          # delete parked messages, on the record
    python -m runtime.dlqctl purge --consumer notify-from-reports --yes   # or --everything --yes
    python -m runtime.dlqctl log                          # who replayed, discarded or purged what

Connects as the NATS `operator` user (CONGDOAN_NATS_CREDS, or the embedded stack's seed under
--data-dir). A replay publishes no event: it asks the consumer's service to take the parked
message back from the dead-letter stream (runtime/replay.py), which handles it like a fresh
delivery — its inbox makes an event already handled a no-op, and a message that fails again is
parked again. Each replay, discard and purge is recorded, with who did it (--by, default the
login name and host), on `congdoan.dlq.ops.<action>` in the same stream.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import socket
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contracts import naming
from runtime.natsauth import OPERATOR, connect, durables_of
from runtime.replay import text_headers

DLQ = naming.DLQ_STREAM


@dataclass
class Parked:
    seq: int
    subject: str
    headers: dict[str, str]
    data: bytes
    time: datetime | None

    @property
    def consumer(self) -> str:  # the durable: congdoan.dlq.<service>.<durable>
        return self.subject.split(".", 3)[3] if self.subject.count(".") >= 3 else self.subject

    @property
    def service(self) -> str:
        return self.subject.split(".")[2]

    @property
    def reason(self) -> str:
        return self.headers.get("Congdoan-Parked-Reason", "")

    def event(self) -> dict[str, Any] | None:
        try:
            obj = json.loads(self.data)
        except ValueError:
            return None
        return obj if isinstance(obj, dict) else None


def kind(subject: str) -> str:
    """parked, replay (an ask) or ops (the operators' record)."""
    parts = subject.split(".")
    if subject.startswith(naming.DLQ_OPS_PREFIX + "."):
        return "ops"
    if len(parts) == 5 and parts[-1] == "replay":
        return "replay"
    return "parked"


def who() -> str:
    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def durables() -> dict[str, str]:
    """durable → service, for every durable consumer of the installation."""
    return {d: svc for svc in naming.SERVICES for _, d in durables_of(svc)}


class DeadLetters:
    def __init__(self, js: Any) -> None:
        self.js = js

    async def scan(self, subject: str = f"{naming.DLQ_PREFIX}.>") -> list[Parked]:
        """Every message of the dead-letter stream on `subject`, oldest first."""
        from nats.js.errors import NotFoundError

        try:
            info = await self.js.stream_info(DLQ)
        except NotFoundError:
            return []
        out: list[Parked] = []
        seq = info.state.first_seq
        while info.state.messages and seq <= info.state.last_seq:
            try:
                m = await self.js.get_msg(DLQ, seq=seq, subject=subject, next=True)
            except NotFoundError:
                break
            out.append(Parked(int(m.seq or 0), m.subject or "", text_headers(m.headers), m.data or b"", m.time))
            seq = int(m.seq or 0) + 1
        return out

    async def parked(self, consumer: str | None = None) -> list[Parked]:
        subject = f"{naming.DLQ_PREFIX}.{durables()[consumer]}.{consumer}" if consumer else f"{naming.DLQ_PREFIX}.>"
        return [p for p in await self.scan(subject) if kind(p.subject) == "parked"]

    async def replays(self) -> dict[int, list[dict[str, Any]]]:
        """Parked seq → the replay asks made for it."""
        out: dict[int, list[dict[str, Any]]] = {}
        for p in await self.scan():
            if kind(p.subject) == "replay":
                try:
                    ask = json.loads(p.data)
                    out.setdefault(int(ask["seq"]), []).append(ask)
                except (ValueError, KeyError, TypeError):
                    continue
        return out

    async def get(self, seq: int) -> Parked:
        m = await self.js.get_msg(DLQ, seq)
        return Parked(int(m.seq or seq), m.subject or "", text_headers(m.headers), m.data or b"", m.time)

    async def record(self, action: str, by: str, **details: Any) -> None:
        body = {"action": action, "by": by, "at": datetime.now(UTC).isoformat(), **details}
        await self.js.publish(f"{naming.DLQ_OPS_PREFIX}.{action}", json.dumps(body, ensure_ascii=False).encode(),
                              headers={"Nats-Msg-Id": f"ops-{uuid.uuid4()}"}, timeout=10)

    async def replay(self, p: Parked, by: str) -> None:
        if kind(p.subject) != "parked":
            raise ValueError(f"{p.seq} is not a parked message ({kind(p.subject)})")
        ask = {"seq": p.seq, "by": by, "at": datetime.now(UTC).isoformat()}
        await self.js.publish(naming.replay_subject(p.service, p.consumer), json.dumps(ask).encode(),
                              headers={"Nats-Msg-Id": f"replay-{p.seq}-{uuid.uuid4()}"}, timeout=10)
        await self.record("replay", by, seq=p.seq, consumer=p.consumer, subject=p.headers.get("Congdoan-Original-Subject"))

    async def discard(self, p: Parked, by: str) -> None:
        await self.js.delete_msg(DLQ, p.seq)
        await self.record("discard", by, seq=p.seq, consumer=p.consumer, reason=p.reason[:300])

    async def purge(self, consumer: str | None, by: str) -> int:
        """Every parked message (and replay ask) of one consumer, or of all; the record stays."""
        targets = [consumer] if consumer else sorted(durables())
        n = 0
        for d in targets:
            svc = durables()[d]
            for subject in (naming.dlq_subject(svc, d), naming.replay_subject(svc, d)):
                n += len(await self.scan(subject))
                await self.js.purge_stream(DLQ, subject=subject)
        await self.record("purge", by, consumer=consumer or "*", messages=n)
        return n


def _short(p: Parked) -> str:
    ev = p.event() or {}
    when = p.headers.get("Congdoan-Parked-At", p.time.isoformat() if p.time else "")[:19]
    return (f"{p.seq:>6}  {when:<19}  {p.consumer:<24}  {str(ev.get('type') or p.headers.get('Congdoan-Original-Subject', '?')):<48}"
            f"  {p.reason[:90]}")


async def run(args: argparse.Namespace, out: Any = sys.stdout) -> int:
    if getattr(args, "consumer", None) and args.consumer not in durables():
        print(f"dlqctl: no consumer {args.consumer} (one of {', '.join(sorted(durables()))})", file=sys.stderr)
        return 2
    nc = await connect(args.nats_url, OPERATOR, data_dir=args.data_dir, connect_timeout=5, allow_reconnect=False)
    try:
        dl = DeadLetters(nc.jetstream(timeout=10))
        by = args.by or who()
        if args.cmd == "list":
            parked = await dl.parked(args.consumer)
            replays = await dl.replays()
            if not parked:
                print("no parked messages", file=out)
            else:
                print(f"{'seq':>6}  {'parked at (UTC)':<19}  {'consumer':<24}  {'event type':<48}  reason", file=out)
            for p in parked:
                asked = replays.get(p.seq)
                if asked and not args.all:
                    continue
                line = _short(p)
                if asked:
                    line += f"  [replayed by {asked[-1].get('by')} at {str(asked[-1].get('at'))[:19]}]"
                print(line, file=out)
            shown = [p for p in parked if args.all or p.seq not in replays]
            hidden = len(parked) - len(shown)
            print(f"{len(shown)} parked" + (f" ({hidden} replayed, shown with --all)" if hidden else ""), file=out)
        elif args.cmd == "show":
            p = await dl.get(args.seq)
            print(f"seq      {p.seq}\nsubject  {p.subject} ({kind(p.subject)})\ntime     {p.time}", file=out)
            for k, v in sorted(p.headers.items()):
                print(f"  {k}: {v}", file=out)
            ev = p.event()
            print(json.dumps(ev, indent=2, ensure_ascii=False) if ev is not None
                  else p.data.decode("utf-8", "replace"), file=out)
        elif args.cmd == "replay":
            items = [await dl.get(s) for s in args.seq] if args.seq else await dl.parked(args.consumer)
            if not items:
                print("nothing to replay", file=out)
            for i, p in enumerate(items, 1):
                await dl.replay(p, by)
                print(f"[{i}/{len(items)}] asked {p.consumer} to take back {p.seq}", file=out)
        elif args.cmd == "discard":
            for s in args.seq:
                p = await dl.get(s)
                await dl.discard(p, by)
                print(f"discarded {s} ({p.consumer}: {p.reason[:80]})", file=out)
        elif args.cmd == "purge":
            if not (args.consumer or args.everything) or not args.yes:
                print("dlqctl: purge needs --consumer X or --everything, and --yes", file=sys.stderr)
                return 2
            n = await dl.purge(args.consumer, by)
            print(f"purged {n} messages of {args.consumer or 'every consumer'}", file=out)
        elif args.cmd == "log":
            for p in await dl.scan(f"{naming.DLQ_OPS_PREFIX}.>"):
                print(p.data.decode("utf-8", "replace"), file=out)
    finally:
        await nc.close()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m runtime.dlqctl", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--nats-url", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4223"))
    p.add_argument("--data-dir", default=os.environ.get("CONGDOAN_DATA_DIR", "var"))
    p.add_argument("--by", default=None, help="who does it, for the record (default: login@host)")
    sub = p.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list", help="parked messages, oldest first")
    ls.add_argument("--consumer")
    ls.add_argument("--all", action="store_true", help="also those already replayed")
    show = sub.add_parser("show", help="one message: headers and body")
    show.add_argument("seq", type=int)
    rp = sub.add_parser("replay", help="ask the consumer that parked it to take it back")
    rp.add_argument("seq", type=int, nargs="*")
    rp.add_argument("--consumer")
    dc = sub.add_parser("discard", help="delete parked messages")
    dc.add_argument("seq", type=int, nargs="+")
    pg = sub.add_parser("purge", help="delete every parked message of a consumer (or all)")
    pg.add_argument("--consumer")
    pg.add_argument("--everything", action="store_true")
    pg.add_argument("--yes", action="store_true")
    sub.add_parser("log", help="what operators did with dead letters")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.cmd == "replay" and not (args.seq or args.consumer):
        print("dlqctl: replay SEQ … or --consumer X", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(args))
    except OSError as exc:
        print(f"dlqctl: cannot reach NATS at {args.nats_url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
