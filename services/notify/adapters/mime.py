"""A MIME message (multipart/alternative, text and HTML, UTF-8) written directly as bytes.

The standard library's `email` package folds every Vietnamese header through its generic parser at
several milliseconds a message — more than everything else notify does for an e-mail together. The
shape here is fixed and simple, so it is written out: headers as RFC 2047 base64 encoded-words,
bodies base64 in 76-column lines, CRLF line ends. Tests read the result back with `email.parser`.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from email.utils import format_datetime


def _words(text: str, limit: int = 45) -> list[bytes]:
    """UTF-8 bytes of `text` in chunks of at most `limit` bytes, never splitting a character."""
    raw = text.encode("utf-8")
    out: list[bytes] = []
    start = 0
    while start < len(raw):
        end = min(start + limit, len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:  # inside a character: step back to its start
            end -= 1
        out.append(raw[start:end])
        start = end
    return out or [b""]


def encode_header(text: str) -> str:
    """An unstructured header value: ASCII as is (if short and clean), else encoded-words."""
    text = " ".join(text.split())  # no CR/LF can reach the header
    if text.isascii() and len(text) <= 900 and "=?" not in text:
        return text
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode()}?=" for w in _words(text))


def mailbox(name: str | None, address: str) -> str:
    if not address.isascii() or any(c in address for c in "<>\r\n\" ,"):
        raise ValueError(f"cannot send to {address!r}: not a plain ASCII address")
    if not name:
        return address
    name = " ".join(name.split())
    if name.isascii() and all(c.isalnum() or c in " .-_'" for c in name):
        return f"{name} <{address}>"
    return f"{encode_header(name)} <{address}>"


def _b64_body(text: str) -> bytes:
    raw = base64.b64encode(text.encode("utf-8"))
    return b"\r\n".join(raw[i:i + 76] for i in range(0, len(raw), 76))


def build(*, subject: str, from_name: str | None, from_address: str, to_name: str | None, to_address: str,
          message_id: str, date: datetime, text: str, html: str, extra: dict[str, str] | None = None) -> bytes:
    boundary = f"=_congdoan_{uuid.uuid4().hex}"
    headers = [
        ("From", mailbox(from_name, from_address)),
        ("To", mailbox(to_name, to_address)),
        ("Subject", encode_header(subject)),
        ("Date", format_datetime(date)),
        ("Message-ID", message_id),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        ("Auto-Submitted", "auto-generated"),
    ]
    for k, v in (extra or {}).items():
        headers.append((k, encode_header(v)))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers).encode("ascii")
    part = lambda ctype, body: (  # noqa: E731
        f"--{boundary}\r\nContent-Type: {ctype}; charset=\"utf-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        .encode("ascii") + _b64_body(body) + b"\r\n")
    return head + b"\r\n" + part("text/plain", text) + part("text/html", html) + f"--{boundary}--\r\n".encode("ascii")
