"""The knobs the use cases need (filled from the process settings by the entry point)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    email_enabled: bool = False  # an SMTP server is configured
    web_base_url: str = ""  # prefix of links in e-mails ("" leaves them relative)
    mail_domain: str = "congdoan.local"  # right-hand side of Message-IDs
    max_attempts: int = 8  # failed attempts (of one message) before it is parked
    backoff_base_s: float = 30.0
    backoff_cap_s: float = 3600.0
    channel_pause_s: float = 5.0  # first pause of a channel that is down (doubles)
    channel_pause_cap_s: float = 60.0
    lease_s: float = 60.0  # a claimed delivery is another replica's again after this
    hold_days: int = 30  # events nobody can be found for yet are kept this long
    escalate_after_h: int = 24  # a known unit with nobody to tell this long: its notice goes up a level
    digest_hour: int = 7  # local hour of the daily digest
    digest_max_items: int = 100  # listed in one digest e-mail; the rest are counted

    def url(self, link: str | None) -> str | None:
        if not link:
            return None
        return f"{self.web_base_url.rstrip('/')}{link}" if self.web_base_url else link
