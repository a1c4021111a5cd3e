"""Parked messages taken back by the consumer that parked them, when an operator asks.

An operator (`python -m runtime.dlqctl replay SEQ`) publishes a *replay ask* — a reference to the
parked message's sequence in CONGDOAN_DLQ, never an event — on `congdoan.dlq.<service>.<durable>.replay`.
The service's `ReplayConsumer` for that durable reads the parked message itself from the
dead-letter stream (or, for one parked as a reference because it was too large, the original from
its event stream), checks it was parked by that very durable, and hands it to the durable's
`EventConsumer` as if it had just been delivered: the same decoding, handlers, one transaction with
the inbox (an event already handled has no second effect), and parking again if it fails again.

So an operator can make a consumer try again, and cannot make it handle anything that was not
published by its producer: the operator publishes no event (runtime/natsauth.py).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts import naming
from runtime.logging import get_logger

log = get_logger("runtime.replay")

# Headers of the parking record itself: not the original event's.
PARKING_HEADERS = ("Nats-Msg-Id", "Congdoan-Parked-Reason", "Congdoan-Parked-By", "Congdoan-Parked-At",
                   "Congdoan-Original-Subject", "Congdoan-Original-Stream", "Congdoan-Original-Seq",
                   "Congdoan-Original-Msg-Id", "Congdoan-Deliveries", "Congdoan-Parked-Body")


def text_headers(headers: Any) -> dict[str, str]:
    """Headers as str → str. nats-py reads a stored message's headers with the e-mail parser, which
    hands back non-ASCII values (a Vietnamese parking reason) as `email.header.Header` objects."""
    from email.header import decode_header

    out: dict[str, str] = {}
    for k, v in (headers or {}).items():
        if not isinstance(v, str):
            v = b"".join(b if isinstance(b, bytes) else b.encode("utf-8", "surrogateescape")
                         for b, _ in decode_header(v)).decode("utf-8", "replace")
        out[str(k)] = v
    return out


def replay_durable(durable: str) -> str:
    return f"{durable}-replay"


class _Replayed:
    """A parked message dressed as a fresh delivery: the original's body, subject and headers;
    acknowledging, NAKing and the delivery count are the replay ask's."""

    def __init__(self, ask: Any, data: bytes, subject: str, headers: dict[str, str]) -> None:
        self._ask = ask
        self.data = data
        self.subject = subject
        self.headers = headers

    def __getattr__(self, name: str) -> Any:  # metadata, ack, nak, in_progress, term …
        return getattr(self._ask, name)


class ReplayConsumer:
    """The replay asks of one durable consumer (`target`, an EventConsumer)."""

    def __init__(self, target: Any, js: Any, ack_wait_s: float = 30.0) -> None:
        self.target = target
        self.js = js
        self.ack_wait_s = ack_wait_s
        self.parked_subject = naming.dlq_subject(target.service, target.durable)
        self.subject = naming.replay_subject(target.service, target.durable)
        self.durable = replay_durable(target.durable)
        self.ready = asyncio.Event()
        self._stopping = False
        self._busy = asyncio.Lock()
        self._psub: Any = None

    async def start(self) -> None:
        cfg = ConsumerConfig(durable_name=self.durable, ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
                             filter_subject=self.subject, ack_wait=self.ack_wait_s, max_ack_pending=64)
        await self.js.add_consumer(naming.DLQ_STREAM, cfg)
        self._psub = await self.js.pull_subscribe_bind(durable=self.durable, stream=naming.DLQ_STREAM)
        self.ready.set()

    async def run(self) -> None:
        if self._psub is None:
            await self.start()
        backoff = 0.5
        while not self._stopping:
            try:
                asks = await self._psub.fetch(batch=16, timeout=1.0)
                backoff = 0.5
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except Exception as exc:  # NATS restarting, JetStream not ready, the durable gone: re-bind, never die
                if self._stopping:
                    break
                log.warning("fetch failed; retrying", consumer=self.durable, error=repr(exc)[:300], retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                try:
                    await self.start()
                except Exception:  # still away: the next turn tries again
                    pass
                continue
            async with self._busy:
                for ask in asks:
                    try:
                        await self.handle(ask)
                    except Exception as exc:  # never let the loop die: the ask comes back after ack_wait
                        log.error("replay failed", consumer=self.durable, error=repr(exc))

    async def stop(self) -> None:
        self._stopping = True
        async with self._busy:
            if self._psub is not None:
                try:
                    await self._psub.unsubscribe()
                except Exception:
                    pass

    async def handle(self, ask: Any) -> None:
        try:
            body = json.loads(ask.data)
            seq = int(body["seq"])
        except (ValueError, KeyError, TypeError):
            log.warning("replay ask ignored: not {\"seq\": N}", consumer=self.durable)
            await ask.ack()
            return
        try:
            parked = await self.js.get_msg(naming.DLQ_STREAM, seq)
        except Exception as exc:  # discarded or purged since: nothing to replay
            log.warning("replay ask ignored: no parked message", consumer=self.durable, seq=seq, error=repr(exc))
            await ask.ack()
            return
        if parked.subject != self.parked_subject:
            log.warning("replay ask ignored: parked by another consumer", consumer=self.durable, seq=seq,
                        parked_subject=parked.subject)
            await ask.ack()
            return
        headers = text_headers(parked.headers)
        data = parked.data or b""
        subject = headers.get("Congdoan-Original-Subject", "")
        if headers.get("Congdoan-Parked-Body") == "reference":  # too large to park: the original is in its stream
            original = await self.js.get_msg(headers["Congdoan-Original-Stream"], int(headers["Congdoan-Original-Seq"]))
            data, subject, headers = original.data or b"", original.subject, text_headers(original.headers)
        event_headers = {k: v for k, v in headers.items() if k not in PARKING_HEADERS}
        event_headers["Congdoan-Replay-Of"] = str(seq)
        if by := body.get("by"):
            event_headers["Congdoan-Replayed-By"] = str(by)[:200]
        log.info("replaying a parked message", consumer=self.target.durable, seq=seq, subject=subject, by=body.get("by"))
        await self.target.handle_batch([_Replayed(ask, data, subject, event_headers)])
