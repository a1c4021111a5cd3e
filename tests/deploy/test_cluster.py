"""The three NATS nodes of deploy/compose.yaml, run as processes from the generated nats.conf:
they form one cluster, JetStream fsyncs every write (sync_interval always), anonymous clients
are refused, and a stream at three replicas keeps its acknowledged messages when a node is
killed (kill -9) and comes back."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import nats
import nats.js.errors
import pytest
from nats.errors import NoRespondersError
from nats.js.api import StreamConfig

from contracts import naming
from contracts.catalogue import produced_by
from runtime.deploygen import generate
from runtime.natsauth import connect_options
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
        await js.add_stream(StreamConfig(name=name, subjects=naming.stream_subjects("plans"), num_replicas=3))
        subject = produced_by("plans")[0].subject
        for i in range(50):
            await js.publish(subject, str(i).encode(), headers={"Nats-Msg-Id": f"m{i}"})
        info = await js.stream_info(name)
        assert info.config.num_replicas == 3 and info.state.messages == 50
        assert info.cluster is not None and len(info.cluster.replicas or []) == 2
        leader = info.cluster.leader
        cluster.kill(leader)
        for i in range(50, 100):  # a new leader takes over; the client reconnects to a live node
            await publish_retrying(js, subject, str(i).encode(), f"m{i}")
        cluster.start(leader)
        info = await js.stream_info(name)
        assert info.state.messages == 100 and info.cluster.leader != leader
    finally:
        await nc.close()
