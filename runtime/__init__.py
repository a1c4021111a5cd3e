"""Plumbing shared by every congdoan service, written once: settings, logging, clock, database and
unit of work, transactional outbox and relay, idempotent inbox and pull consumers with parking,
NATS Services API endpoints, health/metrics HTTP, and the process lifecycle."""
