"""Durable JetStream pull consumers with explicit acks, an idempotent inbox, bounded redelivery and
a dead-letter stream.

One fetched batch is handled in one database transaction: the handlers' effects and the inbox rows
of the batch's event ids commit together, then the messages are acked. Duplicates (ids already in
the inbox, or twice in a batch) are acked without effect. If the batch transaction fails, its
messages are retried one by one so that one bad message cannot hold back the others:

* anything that fails while decoding one message (malformed, too deep, oversized, unknown, invalid —
  whatever the exception) and `PermanentError`s → that message alone is parked at once;
* the database does not answer (or SQLite's file is locked) → an outage, not the messages' fault:
  the consumer stops fetching, holds the batch in progress (no NAK, no delivery spent) and tries it
  again, with backoff, once the database answers;
* any other exception → NAK with a growing delay; at the `max_deliver`-th failed delivery → parked.

Events are read tolerantly: data fields a consumer does not know are ignored (contracts/README.md,
"Evolution"). Parking publishes the original payload and headers, plus the reason, to CONGDOAN_DLQ
(congdoan.dlq.<service>.<durable>), and acks the original only once the DLQ publish is
acknowledged. The server itself never drops a message (no server-side max_deliver); a message
delivered many times with no outcome at all (the process died each time) is parked on receipt.
Nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import nats.errors
import nats.js.errors
import sqlalchemy as sa
from nats.js.api import AckPolicy as JsAckPolicy  # server-side ack policy (not faststream.AckPolicy)
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import BaseModel, ValidationError

from contracts import naming
from contracts.catalogue import EVENTS_BY_TYPE, event_of
from contracts.envelope import CloudEvent, RawCloudEvent
from contracts.streams import DLQ_MAX_MSG_SIZE
from runtime import tracing
from runtime.db import UnitOfWork, inbox, is_lock_contention
from runtime.errors import PermanentError
from runtime.inputs import BadInput, parse_json
from runtime.logging import get_logger
from runtime.metrics import HANDLE_SECONDS, MESSAGES
from runtime.redrive import REDRIVE_FOR

log = get_logger("runtime.consumer")

# The unit of work is the service's own (its ServiceDefinition.uow_class), hence Any.
Handler = Callable[[CloudEvent[Any], Any], Awaitable[None]]


class Poison(Exception):
    """A message that can never be handled as it is."""


class _Stopping(Exception):
    """The consumer stops while holding messages through an outage."""


@dataclass
class Subscription:
    """What one service consumes from one producer's stream: the event's data model (its type
    comes from the catalogue) → handler."""

    producer: str
    handlers: dict[Any, Handler] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.handlers = {(k if isinstance(k, str) else event_of(k).type): h for k, h in self.handlers.items()}


# The inbox row that keeps a consumer's position (event_id "<stream>@<created>#<ack floor seq>").
POSITION_TYPE = "~position"


def _incarnation(stream_info: Any) -> str:
    """The stream's name and creation time: a stream deleted and made again restarts its sequences."""
    return f"{stream_info.config.name}@{stream_info.created}"


def _header_safe(text: str, limit: int = 1000) -> str:
    return " ".join(text.split())[:limit]


def decode(data: bytes, subject: str, max_bytes: int, accepted: dict[str, Handler]) -> CloudEvent[Any]:
    """Parse and validate one message, or raise Poison with a reason a person can act on. Whatever
    goes wrong while decoding one message is that message's fault alone: any exception becomes
    Poison (the message is parked, the rest of its batch is handled)."""
    try:
        return _decode(data, subject, max_bytes, accepted)
    except Poison:
        raise
    except Exception as exc:  # a bug in a validator, MemoryError…: still this message's problem
        raise Poison(f"undecodable: {type(exc).__name__}: {exc}") from None


def _decode(data: bytes, subject: str, max_bytes: int, accepted: dict[str, Handler]) -> CloudEvent[Any]:
    try:
        obj = parse_json(data, max_bytes=max_bytes)  # size and depth bounded before parsing
    except BadInput as exc:
        raise Poison(f"{_POISON_KIND.get(exc.kind, exc.kind)}: {exc.detail}") from None
    try:
        raw = RawCloudEvent.model_validate(obj)
    except ValidationError as exc:
        raise Poison(f"invalid CloudEvent envelope: {_errors(exc)}") from None
    spec = EVENTS_BY_TYPE.get(raw.type)
    if spec is None or raw.type not in accepted:
        raise Poison(f"unknown event type {raw.type!r} for this consumer")
    if spec.subject != subject:
        raise Poison(f"type {raw.type!r} does not belong on subject {subject!r}")
    try:
        # A tolerant reader: data fields this consumer does not know (a producer a minor version
        # ahead, contracts/README.md "Evolution") are ignored, at every level, not refused.
        data_model: BaseModel = spec.model.model_validate(raw.data, extra="ignore")
    except ValidationError as exc:
        raise Poison(f"invalid data for {raw.type}: {_errors(exc)}") from None
    return raw.model_copy(update={"data": data_model})


# The first word of a parking reason, by what parse_json refused (operators filter on it).
_POISON_KIND = {"too_large": "oversized", "too_deep": "malformed", "encoding": "malformed",
                "malformed": "malformed", "control_character": "invalid", "number_out_of_range": "invalid"}


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()[:10])


class EventConsumer:
    def __init__(self, *, service: str, subscription: Subscription, js: Any,
                 uow_factory: Callable[[], UnitOfWork], batch: int = 256, max_deliver: int = 5,
                 nak_delay_s: float = 1.0, ack_wait_s: float = 30.0, max_message_bytes: int = 256 * 1024,
                 pause_min_s: float = 0.2, pause_max_s: float = 5.0, probe_timeout_s: float = 5.0) -> None:
        self.service = service
        self.sub = subscription
        self.js = js
        self.uow_factory = uow_factory
        self.batch = batch
        self.max_deliver = max_deliver
        self.nak_delay_s = nak_delay_s
        self.ack_wait_s = ack_wait_s
        self.max_bytes = max_message_bytes
        self.pause_min_s = pause_min_s
        self.pause_max_s = pause_max_s
        self.probe_timeout_s = probe_timeout_s
        # Deliveries beyond max_deliver that ended in no outcome at all (a kill, a crash) before a
        # message is parked on receipt: kills and restarts alone must not park a valid event.
        self.crash_slack = max(5, max_deliver)
        self.paused = False  # holding a batch through a database outage
        self.position_every_s = 5.0  # how often the server's ack floor is saved in the inbox
        self._position_saved_at = 0.0
        self._saved_floor = 0
        self._stop_event = asyncio.Event()
        self.durable = naming.durable_name(service, subscription.producer)
        self.stream = naming.stream_name(subscription.producer)
        self.subjects = sorted(EVENTS_BY_TYPE[t].subject for t in subscription.handlers)
        self.ready = asyncio.Event()
        self._stopping = False
        self._busy = asyncio.Lock()
        self._psub: Any = None
        self._tracer = tracing.tracer(service)  # None: tracing off

    def _config(self, deliver_policy: DeliverPolicy = DeliverPolicy.ALL, opt_start_seq: int | None = None,
                opt_start_time: datetime | None = None) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            ack_policy=JsAckPolicy.EXPLICIT,
            deliver_policy=deliver_policy,
            opt_start_seq=opt_start_seq,
            opt_start_time=opt_start_time,
            filter_subjects=self.subjects,
            ack_wait=self.ack_wait_s,
            # No server-side bound: the server would drop a message silently at it. We park
            # ourselves, after max_deliver handler failures or too many deliveries without outcome.
            max_deliver=-1,
            max_ack_pending=max(1000, self.batch * 4),
        )

    async def start(self) -> None:
        await self._ensure_consumer()
        self._psub = await self.js.pull_subscribe_bind(durable=self.durable, stream=self.stream)
        self.ready.set()

    async def _ensure_consumer(self) -> None:
        """Create the durable, or bring an existing one to our settings. One that is missing is
        created where the inbox says this consumer was (not the stream's start); one changed beyond
        what an update can set is deleted and created so."""
        try:
            info = await self.js.consumer_info(self.stream, self.durable)
        except NotFoundError:
            await self.js.add_consumer(self.stream, await self._resume_config("missing"))
            return
        cur = info.config
        try:  # keep where it started from: deliver policy and start are not updatable
            await self.js.add_consumer(self.stream, self._config(cur.deliver_policy or DeliverPolicy.ALL,
                                                                 cur.opt_start_seq, cur.opt_start_time))
        except nats.js.errors.BadRequestError as exc:
            log.warning("durable consumer changed beyond an update; recreating it", consumer=self.durable,
                        error=repr(exc)[:300])
            await self.js.delete_consumer(self.stream, self.durable)
            await self.js.add_consumer(self.stream, await self._resume_config("changed"))

    async def _resume_config(self, why: str) -> ConsumerConfig:
        """The durable's config starting after the position last saved in the inbox (the server's
        ack floor: everything at or below it was handled or parked). Without a saved position of
        this very stream (the stream was recreated, or nothing was ever handled), from the start:
        the inbox makes a replay harmless, only slower."""
        position = await self._saved_position()
        try:
            stream = await self.js.stream_info(self.stream)
            incarnation = _incarnation(stream)
            last_seq = stream.state.last_seq
        except Exception:
            incarnation, last_seq = "", 0
        if position is not None and position[0] == incarnation and 0 < position[1] <= last_seq:
            log.warning("durable consumer " + why + "; created again from the inbox's position", consumer=self.durable,
                        stream=self.stream, resume_after_seq=position[1], last_seq=last_seq)
            return self._config(DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=position[1] + 1)
        if position is not None or why != "missing":  # else: a first start, nothing to resume
            log.warning("durable consumer " + why + "; created again from the stream's start (no position of "
                        "this stream saved)", consumer=self.durable, stream=self.stream)
        return self._config()

    async def _saved_position(self) -> tuple[str, int] | None:
        try:
            async with self.uow_factory() as uow:
                key = (await uow.session.execute(sa.select(inbox.c.event_id).where(
                    inbox.c.consumer == self.durable, inbox.c.event_type == POSITION_TYPE))).scalar()
        except Exception as exc:
            log.warning("cannot read the consumer's saved position", consumer=self.durable, error=repr(exc)[:300])
            return None
        if not key:
            return None
        incarnation, _, seq = key.rpartition("#")
        return (incarnation, int(seq)) if seq.isdigit() else None

    async def save_position(self) -> None:
        """Record the server's ack floor in the inbox (a row of its own), for `_resume_config`."""
        info = await self.js.consumer_info(self.stream, self.durable)
        floor = info.ack_floor.stream_seq if info.ack_floor else 0
        if not floor or floor == self._saved_floor:
            return
        stream = await self.js.stream_info(self.stream)
        key = f"{_incarnation(stream)}#{floor}"
        async with self.uow_factory() as uow:
            await uow.session.execute(inbox.delete().where(inbox.c.consumer == self.durable,
                                                           inbox.c.event_type == POSITION_TYPE))
            await uow.session.execute(inbox.insert().values(consumer=self.durable, event_id=key,
                                                            event_type=POSITION_TYPE, processed_at=datetime.now(UTC)))
            await uow.commit()
        self._saved_floor = floor

    async def _heal(self, exc: Exception) -> None:
        """A fetch failed other than by timeout or a NATS reconnect: if our durable is gone (deleted
        by hand, the stream recreated) or changed, make it again and bind to it; keep running."""
        try:
            await self.js.consumer_info(self.stream, self.durable)
            log.warning("fetch failed; retrying", consumer=self.durable, error=repr(exc)[:300])
            return
        except NotFoundError:
            pass
        log.warning("durable consumer missing; recreating it", consumer=self.durable, error=repr(exc)[:300])
        await self._ensure_consumer()
        old, self._psub = self._psub, await self.js.pull_subscribe_bind(durable=self.durable, stream=self.stream)
        with contextlib.suppress(Exception):
            await old.unsubscribe()
        MESSAGES.labels(self.service, self.durable, "recreated").inc()

    async def run(self) -> None:
        if self._psub is None:
            await self.start()
        backoff = 0.5
        while not self._stopping:
            try:
                msgs = await self._psub.fetch(batch=self.batch, timeout=1.0)
                backoff = 0.5
            except (TimeoutError, nats.errors.TimeoutError):
                await self._maybe_save_position()
                continue
            except (nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError,
                    nats.errors.NoRespondersError) as exc:
                log.warning("fetch failed; retrying", consumer=self.durable, error=repr(exc))
                await asyncio.sleep(0.5)
                continue
            except Exception as exc:  # the durable deleted or changed, the stream gone: heal, never die
                if self._stopping:
                    break
                try:
                    await self._heal(exc)
                except Exception as heal_exc:
                    log.error("cannot recreate the durable consumer; retrying", consumer=self.durable,
                              error=repr(heal_exc)[:300], retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if not msgs:
                continue
            async with self._busy:  # stop() waits for the batch in hand
                started = time.perf_counter()
                try:
                    await self.handle_batch(msgs)
                except Exception as exc:  # never let the loop die: unacked messages come back after ack_wait
                    log.error("batch handling failed", consumer=self.durable, error=repr(exc))
                    await asyncio.sleep(0.5)
                HANDLE_SECONDS.labels(self.service, self.durable).observe(time.perf_counter() - started)
            await self._maybe_save_position()

    async def _maybe_save_position(self) -> None:
        if time.monotonic() - self._position_saved_at < self.position_every_s:
            return
        self._position_saved_at = time.monotonic()
        try:
            await self.save_position()
        except Exception as exc:  # NATS or the database away: next time
            log.debug("position not saved", consumer=self.durable, error=repr(exc)[:300])

    async def stop(self) -> None:
        self._stopping = True
        self._stop_event.set()
        async with self._busy:
            if self._psub is not None:
                try:
                    await self._psub.unsubscribe()
                except Exception:
                    pass

    async def handle_batch(self, msgs: list[Any]) -> None:
        good: list[tuple[Any, CloudEvent[Any]]] = []
        for msg in msgs:
            target = (msg.headers or {}).get(REDRIVE_FOR)
            if target and target != self.durable:  # redriven for another consumer of this subject
                await msg.ack()
                MESSAGES.labels(self.service, self.durable, "redrive_for_other").inc()
                continue
            delivered = msg.metadata.num_delivered
            if delivered > self.max_deliver + self.crash_slack:  # the process died with it in hand, again and again
                await self.park(msg, f"delivered {delivered} times without an outcome (the service stopped "
                                     "while handling it each time?)")
                continue
            try:
                good.append((msg, decode(msg.data, msg.subject, self.max_bytes, self.sub.handlers)))
            except Poison as exc:  # this message alone; the others of the batch go on
                await self.park(msg, str(exc))
        if not good:
            return
        try:
            outcomes = await self._apply_through_outages(good)
        except _Stopping:
            return
        except Exception as exc:
            if len(good) == 1:
                await self._failed(good[0][0], exc)
                return
            log.info("batch failed; isolating", consumer=self.durable, size=len(good), error=repr(exc))
            for item in good:
                try:
                    outcomes = await self._apply_through_outages([item])
                except _Stopping:
                    return
                except Exception as one_exc:
                    await self._failed(item[0], one_exc)
                    continue
                await self._ack([item[0]], outcomes)
            return
        await self._ack([m for m, _ in good], outcomes)

    async def _apply_through_outages(self, items: list[tuple[Any, CloudEvent[Any]]]) -> dict[str, int]:
        """`_apply`, holding the messages through an outage of the database: while it does not
        answer, nothing is counted against the messages (no NAK, no redelivery: they are kept in
        progress), nothing more is fetched, and the batch is tried again once it answers. A
        failure while the database answers is the handler's, and is raised."""
        while True:
            try:
                return await self._apply(items)
            except Exception as exc:
                if is_lock_contention(exc) or not await self._dependency_answers():
                    await self._pause(items, exc)
                    continue
                raise

    async def _dependency_answers(self) -> bool:
        try:
            async with asyncio.timeout(self.probe_timeout_s):
                async with self.uow_factory() as uow:
                    await uow.session.execute(sa.text("SELECT 1"))
            return True
        except Exception:
            return False

    async def _pause(self, items: list[tuple[Any, CloudEvent[Any]]], exc: Exception) -> None:
        """Wait, with backoff, until the database answers; keep the messages in hand meanwhile."""
        self.paused = True
        started = last_progress = time.monotonic()
        log.warning("database unavailable; consumer paused, messages held", consumer=self.durable,
                    held=len(items), error=repr(exc)[:500])
        MESSAGES.labels(self.service, self.durable, "paused").inc(len(items))
        delay = self.pause_min_s
        try:
            while True:
                # In progress well before ack_wait runs out, so the server does not redeliver them.
                wait = min(delay, self.ack_wait_s / 4)
                try:
                    await asyncio.wait_for(self._stop_event.wait(), timeout=wait)
                except TimeoutError:
                    pass
                if self._stopping:  # hand them back at once for the next start or another replica
                    for msg, _ in items:
                        with contextlib.suppress(Exception):
                            await msg.nak()
                    raise _Stopping
                if time.monotonic() - last_progress >= self.ack_wait_s / 4:
                    for msg, _ in items:
                        with contextlib.suppress(Exception):  # NATS away too: they come back later
                            await msg.in_progress()
                    last_progress = time.monotonic()
                if await self._dependency_answers():
                    log.info("database answers; consumer resumes", consumer=self.durable,
                             paused_s=round(time.monotonic() - started, 1))
                    return
                delay = min(delay * 2, self.pause_max_s)
        finally:
            self.paused = False

    async def _apply(self, items: list[tuple[Any, CloudEvent[Any]]]) -> dict[str, int]:
        processed = duplicate = 0
        async with self.uow_factory() as uow:
            ids = [ev.id for _, ev in items]
            seen = set((await uow.session.execute(
                sa.select(inbox.c.event_id).where(inbox.c.consumer == self.durable, inbox.c.event_id.in_(ids))
            )).scalars())
            rows = []
            now = datetime.now(UTC)
            traced: list[tracing.SpanContext] = []
            for _, ev in items:
                if ev.id in seen:
                    duplicate += 1
                    continue
                seen.add(ev.id)
                if self._tracer is None:
                    await self.sub.handlers[ev.type](ev, uow)
                else:
                    traced.append(await self._traced(ev, uow))
                rows.append({"consumer": self.durable, "event_id": ev.id, "event_type": ev.type, "processed_at": now})
                processed += 1
            if rows:
                await uow.session.execute(inbox.insert(), rows)
            if not traced:
                await uow.commit()
            else:
                # Work a service does once for the whole batch at commit (notify's fan-out) and the
                # events it records belong to the batch's trace, or link to each of its traces.
                parent, links = tracing.batch_parent(traced)
                assert self._tracer is not None
                with self._tracer.start_as_current_span(f"commit {self.durable}", context=parent, links=links,
                                                        attributes={"congdoan.events": len(traced)}):
                    await uow.commit()
        return {"processed": processed, "duplicate": duplicate}

    async def _traced(self, ev: CloudEvent[Any], uow: UnitOfWork) -> tracing.SpanContext:
        """The handler in a consumer span, child of the context the event carries (its tracing
        extension): the events it records in turn continue the same trace."""
        assert self._tracer is not None
        subject = EVENTS_BY_TYPE[ev.type].subject
        attributes = {**tracing.event_attributes(self.service, ev.id, ev.type, subject),
                      "messaging.consumer.group.name": self.durable}
        with self._tracer.start_as_current_span(
                f"process {subject}", context=tracing.extract({"traceparent": ev.traceparent, "tracestate": ev.tracestate}),
                kind=tracing.SpanKind.CONSUMER, attributes=attributes) as span:
            await self.sub.handlers[ev.type](ev, uow)
        return span.get_span_context()

    async def _ack(self, msgs: list[Any], outcomes: dict[str, int]) -> None:
        for msg in msgs:
            await msg.ack()
        for outcome, n in outcomes.items():
            if n:
                MESSAGES.labels(self.service, self.durable, outcome).inc(n)

    async def _failed(self, msg: Any, exc: Exception) -> None:
        if isinstance(exc, PermanentError):
            await self.park(msg, f"rejected by handler: {exc}")
            return
        delivered = msg.metadata.num_delivered
        if delivered >= self.max_deliver:
            await self.park(msg, f"failed {delivered} deliveries; last error: {exc!r}")
            return
        delay = self.nak_delay_s * (2 ** (delivered - 1))
        log.warning("handler failed; will retry", consumer=self.durable, delivered=delivered,
                    retry_in_s=delay, error=repr(exc))
        MESSAGES.labels(self.service, self.durable, "nak").inc()
        await msg.nak(delay=delay)

    def _park_limit(self) -> int:
        """The largest message (body and headers) the dead-letter stream takes from us: the DLQ
        stream's own bound, and the server's max_payload (a message over it costs the connection)."""
        limit = DLQ_MAX_MSG_SIZE
        with contextlib.suppress(Exception):
            limit = min(limit, int(self.js._nc.max_payload))
        return limit - 512  # NATS/1.0 header line, subject and framing

    async def park(self, msg: Any, reason: str) -> None:
        md = msg.metadata
        original = msg.headers or {}
        original_id = original.get("Nats-Msg-Id", "")
        ours = {
            "Nats-Msg-Id": f"{md.stream}:{md.sequence.stream}:{self.durable}",
            "Congdoan-Parked-Reason": _header_safe(reason),
            "Congdoan-Parked-By": f"{self.service}/{self.durable}",
            "Congdoan-Parked-At": datetime.now(UTC).isoformat(),
            "Congdoan-Original-Subject": msg.subject,
            "Congdoan-Original-Stream": md.stream,
            "Congdoan-Original-Seq": str(md.sequence.stream),
            "Congdoan-Original-Msg-Id": _header_safe(original_id, 200),
            "Congdoan-Deliveries": str(md.num_delivered),
        }
        headers = {**{k: v for k, v in original.items() if k != "Nats-Msg-Id"}, **ours}
        body = msg.data
        if len(body) + _headers_size(headers) > self._park_limit():
            # Too large to park whole: park a reference to the original (still in its stream, by
            # sequence) with the start of its body. Parking never fails for size.
            headers = {**ours, "Congdoan-Parked-Body": "reference"}
            body = json.dumps({"parked": "reference", "stream": md.stream, "seq": md.sequence.stream,
                               "subject": msg.subject, "size": len(msg.data),
                               "headers": {k: _header_safe(str(v), 200) for k, v in list(original.items())[:20]},
                               "head": msg.data[:4096].decode("utf-8", "replace")}, ensure_ascii=False).encode()
        try:
            await self.js.publish(naming.dlq_subject(self.service, self.durable), body, headers=headers, timeout=10)
        except Exception as exc:  # keep the message: it comes back and is parked next time
            log.error("parking failed; message kept for redelivery", consumer=self.durable, error=repr(exc))
            await msg.nak(delay=self.nak_delay_s)
            return
        log.warning("message parked", consumer=self.durable, reason=_header_safe(reason, 300),
                    subject=msg.subject, stream_seq=md.sequence.stream, whole=body is msg.data)
        MESSAGES.labels(self.service, self.durable, "parked").inc()
        await msg.ack()


def _headers_size(headers: dict[str, str]) -> int:
    return 12 + sum(len(k.encode()) + len(str(v).encode()) + 4 for k, v in headers.items())
