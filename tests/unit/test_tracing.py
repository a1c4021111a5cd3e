"""runtime/tracing.py's rules, without NATS: off by default, how the exporter is chosen, trace
context read leniently from an event, a batch's parent."""

from __future__ import annotations

import json

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanContext, TraceFlags

from runtime import tracing
from runtime.consumer import decode
from runtime.settings import load_settings
from tests.unit.test_runtime import HANDLERS, SUBJECT, _event

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_off_by_default() -> None:
    assert not tracing.enabled() and tracing.tracer("reports") is None
    assert tracing.current_context_attributes() == {}


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "none"),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "otlp"),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, "otlp"),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "CONGDOAN_OTEL_EXPORTER": "none"}, "none"),
    ({"CONGDOAN_OTEL_EXPORTER": "otlp"}, "otlp"),
])
def test_exporter_from_settings(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    for key in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "CONGDOAN_OTEL_EXPORTER"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert load_settings("reports").otel_exporter == expected


def test_configure_otlp_installs_a_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")  # nothing is sent in this test
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    monkeypatch.setattr(trace, "set_tracer_provider", lambda provider: None)  # leave the process's global alone
    try:
        tracing.configure_tracing(load_settings("reports", instance="r-1"))
        assert tracing.enabled()
        provider = tracing._provider
        assert provider is not None
        assert provider.resource.attributes["service.name"] == "congdoan-reports"
        assert provider.resource.attributes["service.instance.id"] == "r-1"
    finally:
        if tracing._provider is not None:
            tracing._provider.shutdown()
        tracing.use(None)


def test_event_trace_context_round_trips_and_is_read_leniently() -> None:
    ctx = tracing.extract({"traceparent": TRACEPARENT, "tracestate": "congdoan=1"})
    span = trace.get_current_span(ctx).get_span_context()
    assert (f"{span.trace_id:032x}", f"{span.span_id:016x}") == ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    assert span.trace_state.get("congdoan") == "1"
    # A malformed traceparent does not make the event poison: it is read, and starts a new trace.
    ev = decode(json.dumps({**_event(), "traceparent": "garbage"}).encode(), SUBJECT, 10_000, HANDLERS)  # type: ignore[arg-type]
    assert ev.traceparent == "garbage"
    assert not trace.get_current_span(tracing.extract({"traceparent": ev.traceparent})).get_span_context().is_valid
    assert not trace.get_current_span(tracing.extract({})).get_span_context().is_valid


def test_emitted_events_carry_the_active_span() -> None:
    provider = TracerProvider()
    tracing.use(provider)
    try:
        with provider.get_tracer("t").start_as_current_span("s") as s:
            attrs = tracing.current_context_attributes()
        ctx = s.get_span_context()
        assert attrs["traceparent"].startswith(f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-")
    finally:
        tracing.use(None)
        provider.shutdown()
    assert tracing.current_context_attributes() == {}


def _ctx(trace_id: int, span_id: int) -> SpanContext:
    return SpanContext(trace_id, span_id, is_remote=False, trace_flags=TraceFlags(1))


def test_batch_parent() -> None:
    parent, links = tracing.batch_parent([_ctx(1, 10), _ctx(1, 11)])
    assert trace.get_current_span(parent).get_span_context().span_id == 10 and len(links) == 2
    parent, links = tracing.batch_parent([_ctx(1, 10), _ctx(2, 20)])  # two traces: a new one, linked to both
    assert not trace.get_current_span(parent).get_span_context().is_valid
    assert [link.context.span_id for link in links] == [10, 20]
