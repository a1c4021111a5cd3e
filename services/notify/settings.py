"""Settings of the notify service beyond the runtime's, from CONGDOAN_NOTIFY_* variables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.notify.domain.targets import AllowList
from services.notify.service_layer.policy import Policy

KEY_FILE = Path("secrets") / "notify-webhook.key"  # under CONGDOAN_DATA_DIR, unless set


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONGDOAN_NOTIFY_", extra="ignore")

    # e-mail: smtp://[user:password@]host[:port][?starttls=true], smtps://… for implicit TLS.
    # Unset: no e-mail is queued at all (the in-app inbox and webhooks still work).
    smtp_url: str | None = None
    smtp_connections: int = Field(default=4, ge=1, le=100)
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    mail_from: str = "Hệ thống Công đoàn <no-reply@congdoan.local>"
    mail_domain: str = "congdoan.local"
    web_base_url: str = ""  # e.g. https://congdoan.example.vn: links in e-mails and webhooks become absolute
    # rate limits per channel and replica (token bucket: `rate` a second, bursts of `burst`)
    email_rate: float = Field(default=20.0, gt=0)
    email_burst: float = Field(default=50.0, ge=1)
    webhook_rate: float = Field(default=20.0, gt=0)
    webhook_burst: float = Field(default=50.0, ge=1)
    webhook_concurrency: int = Field(default=8, ge=1, le=200)
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    # webhook targets that are not public but admitted all the same (and may use http://): host
    # names, addresses, CIDRs, comma-separated, e.g. "hooks.intranet.vn, 10.20.0.0/16"
    webhook_allow: str = ""
    # the keys of webhook secrets (one Fernet key a line, the first seals); made on first start
    secrets_key_file: Path | None = None
    # retries
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_base_s: float = Field(default=30.0, ge=0)
    backoff_cap_s: float = Field(default=3600.0, ge=0)
    channel_pause_s: float = Field(default=5.0, gt=0)
    channel_pause_cap_s: float = Field(default=60.0, gt=0)
    lease_s: float = Field(default=60.0, gt=0)
    batch: int = Field(default=200, ge=1, le=5000)
    poll_s: float = Field(default=0.25, gt=0)
    # sending waits while the consumers record a burst (a batch of this many notifying events; 0: never)
    burst_events: int = Field(default=200, ge=0)
    # digest and held events
    digest_hour: int = Field(default=7, ge=0, le=23)
    digest_max_items: int = Field(default=100, ge=1, le=5000)
    hold_days: int = Field(default=30, ge=1)
    sweep_s: float = Field(default=30.0, gt=0)

    @field_validator("webhook_allow")
    @classmethod
    def _allow_list(cls, v: str) -> str:
        AllowList.parse(v)  # a typo should stop the start, not quietly admit nothing
        return v

    def allow_list(self) -> AllowList:
        return AllowList.parse(self.webhook_allow)

    def key_file(self, data_dir: Path) -> Path:
        return self.secrets_key_file or Path(data_dir) / KEY_FILE

    def policy(self) -> Policy:
        return Policy(email_enabled=self.smtp_url is not None, web_base_url=self.web_base_url,
                      mail_domain=self.mail_domain, max_attempts=self.max_attempts,
                      backoff_base_s=self.backoff_base_s, backoff_cap_s=self.backoff_cap_s,
                      channel_pause_s=self.channel_pause_s, channel_pause_cap_s=self.channel_pause_cap_s,
                      lease_s=self.lease_s, hold_days=self.hold_days, digest_hour=self.digest_hour,
                      digest_max_items=self.digest_max_items)


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(f"CONGDOAN_NOTIFY_SMTP_URL must look like smtp://host:port or smtps://host:port, not {url!r}")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", [None])[0]
    return SmtpTarget(host=parts.hostname, port=parts.port or (465 if parts.scheme == "smtps" else 25),
                      username=unquote(parts.username) if parts.username else None,
                      password=unquote(parts.password) if parts.password else None,
                      use_tls=parts.scheme == "smtps",
                      start_tls=None if starttls is None else starttls.lower() in ("1", "true", "yes"))
