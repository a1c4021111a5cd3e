"""The one naming scheme for event types, subjects, streams, durable consumers and endpoints.

    event type     vn.congdoan.<producer>.<entity>.<action>.v<N>     vn.congdoan.reports.report.submitted.v1
    event subject  congdoan.evt.<producer>.<entity>.<action>.v<N>    congdoan.evt.reports.report.submitted.v1
    stream         CONGDOAN_<PRODUCER>  (subjects congdoan.evt.<producer>.>)
    dead letters   stream CONGDOAN_DLQ, subject congdoan.dlq.<consumer>.<durable>
    replay asks    congdoan.dlq.<consumer>.<durable>.replay  (an operator asks a consumer to take one back)
    operators' log congdoan.dlq.ops.<action>                  (who replayed, discarded or purged what)
    durable        <consumer>-from-<producer>                        notify-from-reports
    endpoint       congdoan.api.<service>.v<N>.<endpoint>            congdoan.api.reports.v1.submit_report
    micro service  congdoan-<service>                                congdoan-reports  ($SRV.INFO.congdoan-reports)

A breaking change to an event's data makes a new type with the next version (…v2) on its own
subject; producers publish both for a deprecation period, consumers filter the versions they know.
"""

from __future__ import annotations

import re

TYPE_PREFIX = "vn.congdoan"
SUBJECT_PREFIX = "congdoan.evt"
API_PREFIX = "congdoan.api"
DLQ_STREAM = "CONGDOAN_DLQ"
DLQ_PREFIX = "congdoan.dlq"
CLOCK_BUCKET = "congdoan_clock"
SERVICES = ("plans", "reports", "notify", "awards")

_TYPE_RE = re.compile(r"^vn\.congdoan\.([a-z]+)\.([a-z_]+)\.([a-z_]+)\.v([1-9][0-9]*)$")


def event_type(producer: str, entity: str, action: str, version: int = 1) -> str:
    return f"{TYPE_PREFIX}.{producer}.{entity}.{action}.v{version}"


def parse_type(type_: str) -> tuple[str, str, str, int]:
    m = _TYPE_RE.match(type_)
    if not m:
        raise ValueError(f"not a congdoan event type: {type_!r}")
    return m.group(1), m.group(2), m.group(3), int(m.group(4))


def subject_for_type(type_: str) -> str:
    producer, entity, action, version = parse_type(type_)
    return f"{SUBJECT_PREFIX}.{producer}.{entity}.{action}.v{version}"


def stream_name(producer: str) -> str:
    return f"CONGDOAN_{producer.upper()}"


def stream_subjects(producer: str) -> list[str]:
    return [f"{SUBJECT_PREFIX}.{producer}.>"]


def durable_name(consumer: str, producer: str) -> str:
    return f"{consumer}-from-{producer}"


def dlq_subject(consumer: str, durable: str) -> str:
    return f"{DLQ_PREFIX}.{consumer}.{durable}"


def replay_subject(consumer: str, durable: str) -> str:
    """Where an operator asks `durable` to take a parked message back (runtime/replay.py)."""
    return f"{dlq_subject(consumer, durable)}.replay"


DLQ_OPS_PREFIX = f"{DLQ_PREFIX}.ops"  # the operators' record of what they did with dead letters


def endpoint_subject(service: str, endpoint: str, version: int = 1) -> str:
    return f"{API_PREFIX}.{service}.v{version}.{endpoint}"


def micro_name(service: str) -> str:
    return f"congdoan-{service}"


def source_for(service: str) -> str:
    """CloudEvents `source`: a URI-reference naming the producing service."""
    return f"/congdoan/{service}"
