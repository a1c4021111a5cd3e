"""E-mail over SMTP with aiosmtplib: a small pool of kept-open connections, messages composed from
the Vietnamese templates (plain text and HTML), and every failure sorted into what the delivery
worker does next.

SMTP is at-least-once: a process killed after the server accepted a message and before the
delivery was marked sent resends it. The Message-ID is derived from the delivery id, so the resend
carries the same id, and the receiving side (a mail store, the local catcher, the tests) drops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from email.utils import parseaddr
from typing import Any

import aiosmtplib

from services.notify.adapters import mime
from services.notify.domain import render
from services.notify.domain.model import Outcome, Outgoing, Result, count_by_kind, group_by_day, message_id

CONNECTION_ERRORS = (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError,
                     ConnectionError, OSError, asyncio.TimeoutError)


def compose(job: Outgoing, *, mail_from: str, mail_domain: str, url: Callable[[str | None], str | None],
            now: datetime) -> bytes:
    """The whole e-mail of one delivery, as the bytes SMTP carries."""
    name = job.recipient_name or job.address
    if job.is_digest:
        days = group_by_day(job.digest_items)
        first, last = days[0][0], days[-1][0]
        subject = render.digest_subject(job.digest_total, first, last)
        text, html = render.render_digest(
            recipient_name=name, subject=subject, total=job.digest_total,
            by_kind=job.digest_by_kind or count_by_kind(job.digest_items),
            days=[(d, [{"title": it.title, "url": url(it.link)} for it in items]) for d, items in days],
            omitted=max(0, job.digest_total - len(job.digest_items)), inbox_url=url("/inbox"))
    else:
        subject = job.title
        text, html = render.render_email(recipient_name=name, title=job.title, body=job.body, url=url(job.link))
    from_name, from_address = parseaddr(mail_from)
    return mime.build(subject=f"[Công đoàn] {subject}", from_name=from_name, from_address=from_address or mail_from,
                      to_name=job.recipient_name, to_address=job.address,
                      message_id=message_id(job.delivery_id, mail_domain), date=now, text=text, html=html,
                      extra={"X-Congdoan-Notification-Id": job.reported_id, "X-Congdoan-Kind": job.kind})


class SmtpSender:
    """Sends one e-mail per call through a pool of up to `connections` SMTP sessions."""

    channel = "email"

    def __init__(self, *, host: str, port: int, mail_from: str, mail_domain: str,
                 url: Callable[[str | None], str | None], now: Callable[[], datetime],
                 username: str | None = None, password: str | None = None, use_tls: bool = False,
                 start_tls: bool | None = None, timeout_s: float = 10.0, connections: int = 4) -> None:
        self.host, self.port = host, port
        self.mail_from = mail_from
        self.envelope_from = parseaddr(mail_from)[1] or mail_from
        self.mail_domain = mail_domain
        self.url = url
        self.now = now
        self.username, self.password = username, password
        self.use_tls, self.start_tls = use_tls, start_tls
        self.timeout_s = timeout_s
        self.concurrency = connections
        self._idle: list[aiosmtplib.SMTP] = []
        self._sem = asyncio.Semaphore(connections)

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(hostname=self.host, port=self.port, use_tls=self.use_tls, start_tls=self.start_tls,
                               username=self.username, password=self.password, timeout=self.timeout_s)

    def _keep(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None:
            self._idle.append(client)

    async def send(self, job: Outgoing) -> Result:
        try:
            msg = compose(job, mail_from=self.mail_from, mail_domain=self.mail_domain, url=self.url, now=self.now())
        except (ValueError, TypeError, IndexError) as exc:
            return Result(job.delivery_id, Outcome.PERMANENT, f"cannot compose the e-mail: {exc}")
        async with self._sem:
            reused = bool(self._idle)
            client = self._idle.pop() if reused else None
            for attempt in (1, 2):
                try:
                    if client is None or not client.is_connected:
                        client = self._client()
                        await client.connect()
                    await client.sendmail(self.envelope_from, [job.address], msg)
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    self._keep(client)  # the session is fine; this address is not
                    refused = exc.recipients[0] if exc.recipients else None
                    code = refused.code if refused else 0
                    text = f"SMTP {code} for {job.address}: {refused.message if refused else exc}"
                    return Result(job.delivery_id, Outcome.PERMANENT if 500 <= code < 600 else Outcome.TRANSIENT, text)
                except aiosmtplib.SMTPSenderRefused as exc:  # our side (the From address): not the recipient's fault
                    self._keep(client)
                    return Result(job.delivery_id, Outcome.TRANSIENT, f"SMTP {exc.code} sender refused: {exc.message}")
                except aiosmtplib.SMTPResponseException as exc:
                    if exc.code == 421:  # the server is going away: the channel, not the message
                        await _close(client)
                        return Result(job.delivery_id, Outcome.CHANNEL_DOWN, f"SMTP 421: {exc.message}")
                    self._keep(client)
                    outcome = Outcome.PERMANENT if 500 <= exc.code < 600 else Outcome.TRANSIENT
                    return Result(job.delivery_id, outcome, f"SMTP {exc.code}: {exc.message}")
                except CONNECTION_ERRORS as exc:
                    await _close(client)
                    client = None
                    if attempt == 1 and reused:  # a kept-open session the server dropped: one fresh try
                        continue
                    return Result(job.delivery_id, Outcome.CHANNEL_DOWN,
                                  f"SMTP server {self.host}:{self.port} unreachable: {type(exc).__name__}: {exc}")
                else:
                    self._idle.append(client)
                    return Result(job.delivery_id, Outcome.SENT)
        return Result(job.delivery_id, Outcome.CHANNEL_DOWN, "SMTP: no session")

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            try:
                await asyncio.wait_for(client.quit(), timeout=2)
            except Exception:
                await _close(client)


async def _close(client: Any) -> None:
    if client is None:
        return
    try:
        client.close()
    except Exception:
        pass
