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
# Refreshed by each service every CONGDOAN_METRICS_INTERVAL_S (runtime/app.py, Runtime.refresh_gauges):
OUTBOX_OLDEST_AGE = Gauge("congdoan_outbox_oldest_age_seconds",
                          "Age of the oldest unpublished outbox event on the shared clock (0: none)", ["service"])
CONSUMER_LAG = Gauge("congdoan_consumer_lag", "Events in the stream not yet delivered to the durable consumer",
                     ["service", "consumer"])
CONSUMER_ACK_PENDING = Gauge("congdoan_consumer_ack_pending", "Events delivered to the durable consumer, not yet acked",
                             ["service", "consumer"])
DEAD_LETTERS = Gauge("congdoan_dead_letters", "Messages the consumer parked on the dead-letter stream, still there",
                     ["service", "consumer"])
REMINDERS_DUE = Gauge("congdoan_reminders_due", "Reminders due on the shared clock and not fired yet", ["service"])
