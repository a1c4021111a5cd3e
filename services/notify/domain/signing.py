"""Webhook signatures in the Standard Webhooks scheme (standardwebhooks.com), made with the
`standardwebhooks` package, so that a receiver checks them with any stock verifier:

    webhook-id: <delivery id>            the same on every retry of one (event, person): the dedupe key
    webhook-timestamp: <unix seconds>    when this attempt was signed, by the service's clock
    webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>

The secret is `whsec_` + base64 of 32 random bytes (the key). A receiver refuses a timestamp more
than 5 minutes from its own clock (replays): in production the shared clock's offset is zero; a
demo that moves the clock moves the timestamps with it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"  # = webhook-id, for receivers that dedupe by the common header
SECRET_PREFIX = "whsec_"
KEY_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def fingerprint(secret: str) -> str:
    """Tells which secret is set without telling the secret: the first 8 hex digits of SHA-256 of
    the whole `whsec_…` string (a receiver computes the same to compare)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


def signed_headers(secret: str, msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, signed at `at`. Raises ValueError for a
    secret that is not base64 (made before this scheme: it needs rotating)."""
    try:
        hook = Webhook(secret)
    except Exception as exc:  # binascii.Error (a ValueError), EmptyWebhookSecretError
        raise ValueError(f"the webhook secret is not a Standard Webhooks secret ({exc}): rotate it") from None
    # The library reads the datetime's wall-clock fields as UTC (replace(tzinfo=utc)): hand it UTC.
    utc = at.astimezone(UTC).replace(microsecond=0)
    return {ID_HEADER: msg_id, TIMESTAMP_HEADER: str(int(utc.timestamp())),
            SIGNATURE_HEADER: hook.sign(msg_id, utc, body.decode())}
