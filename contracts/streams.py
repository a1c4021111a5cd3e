"""Stream settings, declared in one place. Every service calls `runtime.streams.ensure_streams`
with exactly these, so no two services ever fight over a stream's configuration."""

from __future__ import annotations

from dataclasses import dataclass

from contracts import naming

EVENT_MAX_MSG_SIZE = 4 * 1024 * 1024  # larger than any service accepts: oversized events get parked, not refused
# The dead-letter stream takes anything an event stream takes, plus the parking headers. (Above the
# server's max_payload a consumer parks a reference to the original instead: runtime/consumer.py.)
DLQ_MAX_MSG_SIZE = EVENT_MAX_MSG_SIZE + 64 * 1024


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: list[str]
    max_age_days: int = 400  # a campaign year plus the consolidation after it
    duplicate_window_s: int = 120
    max_msg_size: int = EVENT_MAX_MSG_SIZE
    description: str = ""


STREAMS: tuple[StreamSpec, ...] = tuple(
    StreamSpec(naming.stream_name(s), naming.stream_subjects(s), description=f"events of the {s} service")
    for s in naming.SERVICES
) + (
    StreamSpec(naming.DLQ_STREAM, [f"{naming.DLQ_PREFIX}.>"], max_age_days=3650, max_msg_size=DLQ_MAX_MSG_SIZE,
               description="parked messages, with the reason and the original headers"),
)
