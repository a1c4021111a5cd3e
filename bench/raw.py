"""The baseline: plain nats-py JetStream, publish + pull-consume + ack, no database, no services.

    python -m bench.raw [--n 5000] [--url nats://…]   # without --url: starts its own nats-server

Publishes N messages of ~400 bytes to a stream of its own (BENCH_RAW, subjects bench.raw.>, file
storage like the services' streams), each with a `Nats-Msg-Id` header, with a window of `window`
publishes in flight (asyncio.gather per chunk, each awaiting its PubAck). At the same time a durable
pull consumer on a second connection fetches batches of `fetch` and acks each message. The figure is
N / (publish start → last ack). `bench.e2e` calls `measure()` against the stack's nats-server so
that both numbers come from the same machine in the same minute.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

STREAM = "BENCH_RAW"
SUBJECT_PREFIX = "bench.raw"
BENCH_USER = "bench"


def bench_user(nkey: str) -> dict[str, Any]:
    """A NATS user for the raw baseline on congdoan's server (whose users may not make streams of
    their own): its stream, its consumer, its inbox, nothing of congdoan's."""
    return {"nkey": nkey, "permissions": {
        "publish": {"allow": [f"{SUBJECT_PREFIX}.>", f"$JS.API.STREAM.*.{STREAM}", f"$JS.API.CONSUMER.*.{STREAM}.>",
                              f"$JS.API.CONSUMER.*.*.{STREAM}.>", f"$JS.ACK.{STREAM}.>"]},
        "subscribe": {"allow": [f"_INBOX.{BENCH_USER}.>"]}}}


@dataclass
class RawResult:
    n: int
    elapsed_s: float
    publish_s: float

    @property
    def per_s(self) -> float:
        return self.n / self.elapsed_s if self.elapsed_s > 0 else 0.0


def payload(i: int, size: int = 400) -> bytes:
    head = f'{{"i":{i},"pad":"'.encode()
    return head + b"x" * max(0, size - len(head) - 2) + b'"}'


async def measure(url: str, n: int = 5000, window: int = 500, fetch: int = 500, size: int = 400,
                  timeout_s: float = 120.0, **connect_options: Any) -> RawResult:
    pub_nc = await nats.connect(url, name="bench-raw-pub", **connect_options)
    sub_nc = await nats.connect(url, name="bench-raw-sub", **connect_options)
    try:
        js = pub_nc.jetstream(timeout=10)
        try:
            await js.delete_stream(STREAM)
        except Exception:  # not there yet
            pass
        await js.add_stream(StreamConfig(name=STREAM, subjects=[f"{SUBJECT_PREFIX}.>"], storage=StorageType.FILE,
                                         duplicate_window=120))
        durable = "bench_raw"
        await js.add_consumer(STREAM, ConsumerConfig(durable_name=durable, ack_policy=AckPolicy.EXPLICIT,
                                                     deliver_policy=DeliverPolicy.ALL,
                                                     max_ack_pending=max(1000, fetch * 4)))
        sjs = sub_nc.jetstream(timeout=10)
        psub = await sjs.pull_subscribe_bind(durable=durable, stream=STREAM)
        run = uuid.uuid4().hex[:8]
        bodies = [payload(i, size) for i in range(n)]

        async def publish() -> float:
            t0 = time.perf_counter()
            for start in range(0, n, window):
                await asyncio.gather(*(
                    js.publish(f"{SUBJECT_PREFIX}.{i % 100}", bodies[i], headers={"Nats-Msg-Id": f"{run}-{i}"},
                               timeout=10)
                    for i in range(start, min(n, start + window))))
            return time.perf_counter() - t0

        async def consume() -> float:
            got = 0
            deadline = time.monotonic() + timeout_s
            while got < n:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"raw consumer got {got} of {n} messages in {timeout_s:.0f}s")
                try:
                    msgs = await psub.fetch(batch=fetch, timeout=1.0)
                except (TimeoutError, nats.errors.TimeoutError):
                    continue
                for m in msgs:
                    await m.ack()
                got += len(msgs)
            await sub_nc.flush()  # the acks have left this process
            return time.perf_counter()

        t0 = time.perf_counter()
        publish_s, t_last_ack = await asyncio.gather(publish(), consume())
        result = RawResult(n=n, elapsed_s=t_last_ack - t0, publish_s=publish_s)
        await psub.unsubscribe()
        try:
            await js.delete_stream(STREAM)
        except Exception:
            pass
        return result
    finally:
        await sub_nc.close()
        await pub_nc.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=5000)
    p.add_argument("--window", type=int, default=500, help="publishes in flight")
    p.add_argument("--fetch", type=int, default=500, help="pull batch size")
    p.add_argument("--size", type=int, default=400, help="payload bytes")
    p.add_argument("--url", default=None, help="an existing NATS server with JetStream; default: start one")
    args = p.parse_args(argv)
    server = None
    url = args.url
    tmp = None
    if url is None:
        from runtime.launcher import NatsServer, free_port

        tmp = tempfile.TemporaryDirectory(prefix="congdoan-bench-raw-")
        server = NatsServer(Path(tmp.name) / "nats", free_port(), log_file=Path(tmp.name) / "nats.log")
        server.start()
        url = server.url
    try:
        r = asyncio.run(measure(url, args.n, args.window, args.fetch, args.size))
    finally:
        if server:
            server.stop()
        if tmp:
            tmp.cleanup()
    print(f"raw JetStream: {r.n} msgs of ~{args.size} B, window {args.window}, fetch {args.fetch}: "
          f"{r.elapsed_s:.2f}s to the last ack (publishing took {r.publish_s:.2f}s)")
    print(f"raw_js_per_s={r.per_s:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
