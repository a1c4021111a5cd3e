"""Create or update the streams of contracts/streams.py — the one place they are declared.

How many copies of each a cluster keeps is the deployment's, not the contract's: 1 on the
embedded single server, 3 on a three-node cluster (setting CONGDOAN_STREAM_REPLICAS)."""

from __future__ import annotations

from typing import Any

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from contracts.streams import STREAMS, StreamSpec


def stream_config(spec: StreamSpec, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        description=spec.description,
        subjects=spec.subjects,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=spec.max_age_days * 86400,
        duplicate_window=spec.duplicate_window_s,
        max_msg_size=spec.max_msg_size,
        num_replicas=replicas,
    )


async def ensure_streams(js: Any, replicas: int = 1) -> None:
    for spec in STREAMS:
        cfg = stream_config(spec, replicas)
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            try:
                await js.add_stream(cfg)
            except Exception:  # another service created it at the same moment: same settings
                await js.stream_info(spec.name)
            continue
        cur = info.config
        if (sorted(cur.subjects or []) != sorted(cfg.subjects or []) or cur.max_age != cfg.max_age
                or cur.duplicate_window != cfg.duplicate_window or cur.max_msg_size != cfg.max_msg_size
                or (cur.num_replicas or 1) != replicas):  # JetStream moves a stream to more (or fewer) peers in place
            await js.update_stream(cfg)
