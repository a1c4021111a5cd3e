"""Prometheus metrics shared by every service (exposed on /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("congdoan_messages_total", "Event messages handled by consumers",
                   ["service", "consumer", "outcome"])  # outcome: processed, duplicate, parked, nak
HANDLE_SECONDS = Histogram("congdoan_consume_batch_seconds", "Time to handle one fetched batch", ["service", "consumer"])
REQUESTS = Counter("congdoan_requests_total", "Requests served", ["service", "endpoint", "outcome"])
REQUEST_SECONDS = Histogram("congdoan_request_seconds", "Request handling time", ["service", "endpoint"])
OUTBOX_PUBLISHED = Counter("congdoan_outbox_published_total", "Outbox events acknowledged by JetStream", ["service"])
OUTBOX_PUBLISH_ERRORS = Counter("congdoan_outbox_publish_errors_total", "Failed outbox publish passes", ["service"])
OUTBOX_PENDING = Gauge("congdoan_outbox_pending", "Outbox events not yet published", ["service"])
