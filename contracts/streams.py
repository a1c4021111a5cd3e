"""Stream settings, declared in one place. Every service calls `runtime.streams.ensure_streams`
with exactly these, so no two services ever fight over a stream's configuration."""

from __future__ import annotations

from dataclasses import dataclass

from contracts import naming


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: list[str]
    max_age_days: int = 400  # a campaign year plus the consolidation after it
    duplicate_window_s: int = 120
    max_msg_size: int = 4 * 1024 * 1024  # larger than any service accepts: oversized events get parked, not refused
    description: str = ""


STREAMS: tuple[StreamSpec, ...] = tuple(
    StreamSpec(naming.stream_name(s), naming.stream_subjects(s), description=f"events of the {s} service")
    for s in naming.SERVICES
) + (
    StreamSpec(naming.DLQ_STREAM, [f"{naming.DLQ_PREFIX}.>"], max_age_days=3650,
               description="parked messages, with the reason and the original headers"),
)
