"""How another system subscribes to congdoan's events with FastStream — e.g. a provincial HR system
that wants to know of every report submitted. It imports nothing of congdoan: the subjects,
stream names and JSON Schemas are in contracts/asyncapi and contracts/schemas.

What it does deliberately (FastStream's defaults would not):
- a *pull* consumer with its own durable name (push consumers with a durable do not scale out);
- binds to the stream congdoan declares (`declare=False`): congdoan owns the stream's settings;
- `AckPolicy.NACK_ON_ERROR`: a handler that fails NAKs the message, which comes back; FastStream's
  NATS default, REJECT_ON_ERROR, would `term` it — dropped for good;
- bounded redelivery (`max_deliver`) — and since `Nats-Msg-Id` dedupes only inside the stream's
  window, it keeps its own record of handled event ids;
- per-message log lines at DEBUG, not INFO;
- it connects as a NATS subscriber user (congdoan refuses anonymous connections): its nkey seed
  file and its own reply inbox `_INBOX.<user>` (README "Security": `runtime.natsctl add-user`).

    NATS_URL=nats://127.0.0.1:4223 NATS_NKEY_SEED_FILE=var/secrets/nats/subscriber.nk \
      faststream run examples.faststream_subscriber:app
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy, FastStream
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsMessage, PullSub

SUBJECT = "congdoan.evt.reports.report.submitted.v1"
STREAM = "CONGDOAN_REPORTS"


def make_app(url: str, on_event: Callable[[dict[str, Any]], Awaitable[None]], durable: str = "hr-system-reports",
             max_deliver: int = 5, inbox_prefix: str = "_INBOX", ack_wait_s: float = 30,
             **connect_options: Any) -> tuple[FastStream, NatsBroker]:
    """`inbox_prefix`: the user's own reply inbox (`_INBOX.<user>`), for the connection and the
    pull consumer alike; `connect_options` go to nats-py's connect (e.g. `nkeys_seed=` a seed file)."""
    broker = NatsBroker(url, log_level=logging.DEBUG, inbox_prefix=inbox_prefix, **connect_options)
    seen: set[str] = set()  # a real system keeps this in its database, with its own effects

    @broker.subscriber(SUBJECT, stream=JStream(STREAM, declare=False), durable=durable,
                       pull_sub=PullSub(batch_size=100, timeout=1.0), ack_policy=AckPolicy.NACK_ON_ERROR,
                       config=ConsumerConfig(max_deliver=max_deliver, ack_wait=ack_wait_s),
                       inbox_prefix=f"{inbox_prefix}.".encode())
    async def on_report_submitted(event: dict[str, Any], msg: NatsMessage) -> None:
        # Structured-mode CloudEvent: the whole envelope is the body.
        if event.get("specversion") != "1.0" or event.get("type") != "vn.congdoan.reports.report.submitted.v1":
            return  # not for us: ack and move on
        if event["id"] in seen:
            return
        await on_event(event)
        seen.add(event["id"])

    return FastStream(broker), broker


async def _print(event: dict[str, Any]) -> None:
    data = event["data"]
    print(f"{event['time']}  {data['unit_id']} submitted {data['requirement_id']} {data['period']}"
          f" ({'on time' if data['on_time'] else 'late'})")


_user = os.environ.get("NATS_USER_NAME", "subscriber")
app, broker = make_app(os.environ.get("NATS_URL", "nats://127.0.0.1:4223"), _print,
                       nkeys_seed=os.environ.get("NATS_NKEY_SEED_FILE", f"var/secrets/nats/{_user}.nk"),
                       inbox_prefix=f"_INBOX.{_user}")
