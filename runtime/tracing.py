"""OpenTelemetry traces across the services (README "Observability").

W3C trace context travels two ways: on requests as the `traceparent`/`tracestate` NATS headers
(runtime/client.py injects, runtime/api.py extracts), and in every CloudEvent as the CloudEvents
distributed-tracing extension attributes of the same names — the context active when the event was
recorded in the outbox (runtime/db.py). The relay publishing it later (runtime/relay.py) and each
consumer handling it (runtime/consumer.py) start their spans as children of that context, and what
a consumer records in turn carries the consumer's span: one trace runs from a submission through
reports, the relay, notify and awards.

Off by default: with no provider installed, `tracer()` is None and `enabled()` False, and the hot
paths check that once and skip tracing altogether (not even a no-op span is made).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, NonRecordingSpan, Span, SpanContext, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from runtime.settings import ServiceSettings

# W3C Trace Context only (not baggage): the attribute names are the CloudEvents extension's too.
_W3C = TraceContextTextMapPropagator()
TRACE_KEYS = ("traceparent", "tracestate")

_provider: TracerProvider | None = None


def enabled() -> bool:
    return _provider is not None


def tracer(service: str) -> Tracer | None:
    """The tracer of one service's plumbing (its instrumentation scope names the service, so the
    spans of several services in one process — the tests — stay apart), or None when off."""
    return _provider.get_tracer(f"congdoan.{service}") if _provider is not None else None


def use(provider: TracerProvider | None) -> None:
    """Install a tracer provider (a test's, with an in-memory exporter), or None to turn tracing off.
    Components take their tracer when they are built: install before starting services."""
    global _provider
    _provider = provider


def configure_tracing(settings: ServiceSettings) -> None:
    """The process's exporter from settings: `otlp` sends spans over OTLP/HTTP to the endpoint the
    standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT/_HEADERS variables name; `none` keeps tracing off."""
    if settings.otel_exporter != "otlp" or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or f"congdoan-{settings.service}",
                                "service.namespace": "congdoan", "service.instance.id": settings.instance})
    provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.otel_sample_ratio)))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)  # for any library instrumentation an operator adds
    use(provider)


def shutdown_tracing() -> None:
    """Export what is still buffered (a service ends with os._exit: atexit hooks do not run)."""
    if _provider is not None:
        _provider.shutdown()


def extract(carrier: Mapping[str, Any] | None) -> Context:
    """The context in NATS headers or a CloudEvent's attributes to start a span in: empty (a new
    trace, whatever this task happens to have active) when absent or malformed — W3C says a
    receiver that cannot parse `traceparent` starts over."""
    if not carrier or not carrier.get("traceparent"):
        return Context()
    return _W3C.extract({k: str(carrier[k]) for k in TRACE_KEYS if carrier.get(k)}, context=Context())


def current_context_attributes() -> dict[str, str]:
    """The active span's `traceparent` (and `tracestate`), for a header set or a CloudEvent; empty
    when tracing is off or no span is active."""
    if _provider is None:
        return {}
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier


@contextmanager
def request_span(service: str, endpoint: str, subject: str) -> Iterator[dict[str, str]]:
    """A client span around one request; yields the headers that carry it to the server."""
    assert _provider is not None
    with _provider.get_tracer("congdoan.client").start_as_current_span(
            rpc_span_name(service, endpoint), kind=SpanKind.CLIENT,
            attributes=rpc_attributes(service, endpoint, subject)):
        yield current_context_attributes()


def rpc_span_name(service: str, endpoint: str) -> str:
    return f"congdoan-{service}/{endpoint}"


def rpc_attributes(service: str, endpoint: str, subject: str) -> dict[str, str]:
    return {"rpc.system": "nats", "rpc.service": f"congdoan-{service}", "rpc.method": endpoint,
            "messaging.destination.name": subject}


def event_attributes(service: str, event_id: str, event_type: str, subject: str) -> dict[str, str]:
    return {"messaging.system": "nats", "messaging.destination.name": subject, "messaging.message.id": event_id,
            "cloudevents.event_id": event_id, "cloudevents.event_type": event_type, "congdoan.service": service}


def batch_parent(contexts: list[SpanContext]) -> tuple[Context, list[Link]]:
    """Where work done once for a batch of events goes: under their spans' trace when they share
    one (the usual case: one submission), else in a new trace; linked to each event's span."""
    links = [Link(c) for c in contexts]
    if len({c.trace_id for c in contexts}) == 1:
        return trace.set_span_in_context(NonRecordingSpan(contexts[0]), Context()), links
    return Context(), links


def fail(span: Span, description: str) -> None:
    span.set_status(Status(StatusCode.ERROR, description))


__all__ = ["Span", "SpanContext", "SpanKind", "Tracer", "batch_parent", "configure_tracing", "current_context_attributes", "enabled",
           "event_attributes", "extract", "fail", "request_span", "rpc_attributes", "rpc_span_name",
           "shutdown_tracing", "tracer", "use"]
