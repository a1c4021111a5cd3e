"""The three NATS nodes of deploy/compose.yaml, run as processes from the generated nats.conf:
they form one cluster, JetStream fsyncs every write (sync_interval always), anonymous clients
are refused, and a stream at three replicas keeps its acknowledged messages when a node is
killed (kill -9) and comes back."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from pathlib import Path

import nats
import nats.js.errors
import pytest
from nats.errors import NoRespondersError

from contracts import naming
from contracts.catalogue import produced_by
from contracts.streams import STREAMS
from runtime.deploygen import generate
from runtime.natsauth import connect_options
from runtime.streams import ensure_streams
from tests.deploy.topology import Cluster


async def publish_retrying(js, subject: str, data: bytes, msg_id: str, timeout: float = 20) -> None:
    """What the outbox relay does: the same message again (same Nats-Msg-Id) until acknowledged."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await js.publish(subject, data, headers={"Nats-Msg-Id": msg_id}, timeout=2)
            return
        except (NoRespondersError, TimeoutError, nats.errors.TimeoutError, nats.js.errors.NoStreamResponseError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


@pytest.fixture
def cluster(tmp_path: Path):
    made = generate(tmp_path / "generated")
    c = Cluster(made["nats_conf"], tmp_path / "run")
    c.start()
    c.secrets = tmp_path / "generated" / "secrets"  # type: ignore[attr-defined]
    yield c
    c.stop()


async def test_cluster_from_the_compose_config(cluster: Cluster) -> None:
    for node in cluster.nodes.values():
        v = node.varz()
        assert v["server_name"] == node.name
        assert v["cluster"]["name"] == "congdoan"
        assert v["jetstream"]["config"]["sync_always"] is True
        assert v["http_port"] == node.http_port
    with pytest.raises((nats.errors.Error, OSError)):
        await nats.connect(cluster.urls, allow_reconnect=False, connect_timeout=2, max_reconnect_attempts=0)
    opts = connect_options("plans", creds=cluster.secrets / "nats" / "plans.nk")  # type: ignore[attr-defined]
    nc = await nats.connect(cluster.urls, **opts, connect_timeout=5, reconnect_time_wait=0.2)
    try:
        js = nc.jetstream(timeout=10)
        name = naming.stream_name("plans")
        # Streams as the services declare them: first at one replica, then moved to three in
        # place when CONGDOAN_STREAM_REPLICAS says so.
        await ensure_streams(js, replicas=1)
        assert (await js.stream_info(name)).config.num_replicas == 1
        await ensure_streams(js, replicas=3)
        for spec in STREAMS:
            assert (await js.stream_info(spec.name)).config.num_replicas == 3
        subject = produced_by("plans")[0].subject
        for i in range(50):
            await publish_retrying(js, subject, str(i).encode(), f"m{i}")

        async def current() -> bool:  # the two followers have caught up
            i = await js.stream_info(name)
            return len([r for r in (i.cluster.replicas or []) if r.current]) == 2 if i.cluster else False

        deadline = time.monotonic() + 20
        while not await current():
            assert time.monotonic() < deadline, "replicas did not catch up"
            await asyncio.sleep(0.2)
        info = await js.stream_info(name)
        assert info.config.num_replicas == 3 and info.state.messages == 50
        leader = info.cluster.leader
        cluster.kill(leader)
        for i in range(50, 100):  # a new leader takes over; the client reconnects to a live node
            await publish_retrying(js, subject, str(i).encode(), f"m{i}")
        cluster.start(leader)
        info = await js.stream_info(name)
        assert info.state.messages == 100 and info.cluster.leader != leader
    finally:
        await nc.close()


def test_embedded_server_monitoring_and_fsync(tmp_path: Path) -> None:
    """The embedded nats-server of `make run`: a monitoring port, and sync_interval as asked."""
    from runtime.launcher import NatsServer

    srv = NatsServer(tmp_path, sync_interval="always")
    srv.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.http_port}/varz", timeout=2) as r:
            js = json.loads(r.read())["jetstream"]["config"]
        assert js["sync_always"] is True
    finally:
        srv.stop()
