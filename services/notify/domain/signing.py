"""Webhook signatures: HMAC-SHA256 over the timestamp and the exact body, in the shape Stripe and
others made familiar, so a receiver can check both who sent it and that it is fresh.

    X-Congdoan-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

A receiver recomputes v1 with its secret, compares in constant time, and refuses a timestamp more
than a few minutes away from its own clock (replays)."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Congdoan-Signature"
TIMESTAMP_HEADER = "X-Congdoan-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TOLERANCE_S = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance_s: int = DEFAULT_TOLERANCE_S) -> bool:
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).split(",v1=", 1)[1]
    return hmac.compare_digest(expected, given)
