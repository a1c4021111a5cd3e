"""Who is told what, and through which channel. Plain Python, no I/O.

A *notice* is what one event means to people: a kind, a text context, a link, and its *targets*
(a unit's contacts, the contacts of a unit's parent, one person). The service layer resolves the
targets against the directory projection into recipients; each recipient gets one notification in
the in-app inbox and, by their preferences, one delivery per external channel (e-mail now or in the
daily digest, webhook). Every key below is deterministic, so that handling an event again (a
redelivery, a held event released later, a replay beyond the inbox's memory) lands on the same rows.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from contracts.api.notify import NotificationKind

# --- kinds and audiences --------------------------------------------------------------------


# The kinds are part of the contract (preferences name them): one definition, in contracts/.
Kind = NotificationKind


DIGEST_KIND = "digest"


class Audience(StrEnum):
    OWN = "own"  # about the recipient's own unit or self: something to do, or news for them
    OVERSIGHT = "oversight"  # about a unit below the recipient's: to follow, and to urge (đôn đốc)


class Channel(StrEnum):
    INBOX = "inbox"
    EMAIL = "email"
    WEBHOOK = "webhook"


class EmailMode(StrEnum):
    AUTO = "auto"
    IMMEDIATE = "immediate"
    DIGEST = "digest"
    OFF = "off"


class Status(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    QUEUED = "queued"
    DIGESTED = "digested"


# A unit's contacts: who is told on the unit's behalf. When a unit has none of these, its
# executive committee members are; ordinary members never are (they are not the unit's voice).
CONTACT_ROLES = frozenset({"chairperson", "head_of_unit", "cadre"})
FALLBACK_ROLES = frozenset({"executive_member"})

# "auto" e-mail: what asks the unit to act goes out at once; what a higher level follows about
# the units below it (hundreds or thousands a day for a federation) goes into the daily digest.
IMMEDIATE_KINDS = frozenset({
    Kind.PLAN_ISSUED, Kind.TASKS_ASSIGNED, Kind.DEADLINE_APPROACHING, Kind.DEADLINE_MISSED,
    Kind.REPORT_RETURNED, Kind.REPORT_ACCEPTED, Kind.REPORT_REOPENED, Kind.REPORT_DEADLINE_APPROACHING, Kind.REPORT_OVERDUE,
    Kind.AWARD_ROUND_OPENED, Kind.NOMINATION_DECIDED, Kind.AWARD_GRANTED,
    Kind.NOMINATION_FORWARDED, Kind.NOMINATION_RETURNED, Kind.DECISION_ISSUED, Kind.QUOTAS_CHANGED,
})


def auto_email_mode(kind: str, audience: Audience) -> EmailMode:
    if audience is Audience.OVERSIGHT or kind not in IMMEDIATE_KINDS:
        return EmailMode.DIGEST
    return EmailMode.IMMEDIATE


# --- notices and targets --------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Who a notice is for, before the directory is asked.

    kind "unit": the active people of `id` with `roles` (CONTACT_ROLES, falling back to
    FALLBACK_ROLES when `fallback`); "parent": the same for the unit's current parent;
    "person": the person `id` (when active)."""

    kind: str
    id: str
    audience: Audience = Audience.OWN
    roles: frozenset[str] = CONTACT_ROLES
    fallback: bool = True

    @property
    def hold_key(self) -> str:
        return f"{self.kind}:{self.id}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "audience": self.audience.value, "roles": sorted(self.roles),
                "fallback": self.fallback}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Target:
        return cls(kind=d["kind"], id=d["id"], audience=Audience(d["audience"]), roles=frozenset(d["roles"]),
                   fallback=bool(d.get("fallback", True)))


@dataclass
class Notice:
    """What one event means to the people it concerns (rendered once, sent to each)."""

    event_id: str
    event_type: str
    occurred_at: datetime
    kind: Kind
    link: str
    targets: list[Target]
    context: dict[str, Any] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)  # context key -> unit id (name looked up)
    people: dict[str, str] = field(default_factory=dict)  # context key -> person id (name looked up)
    refs: dict[str, tuple[str, str]] = field(default_factory=dict)  # context key -> (ref type, id)
    source: Any = None  # the event itself, kept (serialised) when a target must be held


class Person(NamedTuple):
    person_id: str
    unit_id: str
    full_name: str
    roles: frozenset[str]
    email: str | None
    active: bool = True


def contacts(people: list[Person], target: Target) -> list[Person]:
    """The people of one unit a target reaches (already filtered to the unit, any order)."""
    active = [p for p in people if p.active]
    chosen = [p for p in active if p.roles & target.roles]
    if not chosen and target.fallback and target.roles == CONTACT_ROLES:
        chosen = [p for p in active if p.roles & FALLBACK_ROLES]
    return sorted(chosen, key=lambda p: p.person_id)


# --- preferences -----------------------------------------------------------------------------


@dataclass
class Preferences:
    person_id: str
    email_mode: EmailMode = EmailMode.AUTO
    email_address: str | None = None
    email_overrides: dict[str, str] = field(default_factory=dict)
    muted_kinds: list[str] = field(default_factory=list)
    webhook_url: str | None = None
    webhook_secret_sealed: str | None = None  # encrypted (adapters/secret_box.py); only the sender opens it
    webhook_secret_fingerprint: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Route:
    channel: Channel
    address: str
    digest: bool = False


def routes(kind: str, audience: Audience, prefs: Preferences | None, directory_email: str | None,
           *, email_enabled: bool) -> list[Route]:
    """The external channels one notification goes through (the inbox is always written)."""
    prefs = prefs or Preferences(person_id="")
    if kind in prefs.muted_kinds:
        return []
    out: list[Route] = []
    address = prefs.email_address or directory_email
    if email_enabled and address:
        mode = EmailMode(prefs.email_overrides.get(kind, prefs.email_mode))
        if mode is EmailMode.AUTO:
            mode = auto_email_mode(kind, audience)
        if mode is EmailMode.IMMEDIATE:
            out.append(Route(Channel.EMAIL, address))
        elif mode is EmailMode.DIGEST:
            out.append(Route(Channel.EMAIL, address, digest=True))
    if prefs.webhook_url and prefs.webhook_secret_sealed:
        out.append(Route(Channel.WEBHOOK, prefs.webhook_url))
    return out


# --- identities -----------------------------------------------------------------------------


def _h(*parts: str, n: int = 16) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:n]


def notification_id(event_id: str, occurred_at: datetime, recipient_id: str) -> str:
    """Sortable by the event's time, and the same every time this event reaches this person."""
    return notification_id_prefix(occurred_at) + notification_hash(event_id, recipient_id)


def notification_id_prefix(occurred_at: datetime) -> str:
    return f"n-{int(occurred_at.timestamp() * 1_000_000):016d}-"


def notification_hash(event_id: str, recipient_id: str) -> str:
    return _h(event_id, recipient_id, "inbox")


def delivery_id(notification_id_: str, channel: Channel | str) -> str:
    return f"{notification_id_}.{Channel(channel).value}"


def digest_id(recipient_id: str, day: date) -> str:
    return f"dg-{day:%Y%m%d}-{_h(recipient_id, 'digest')}"


def digest_event_id(day: date) -> str:
    return f"digest:{day.isoformat()}"


def message_id(delivery_id_: str, domain: str) -> str:
    """The RFC 5322 Message-ID of an e-mail: derived from the delivery, so that a resend after a
    crash (SMTP is at-least-once) carries the same id and the receiving side can drop it."""
    return f"<{delivery_id_}@{domain}>"


# --- retries --------------------------------------------------------------------------------


def backoff_s(attempts: int, *, base_s: float, cap_s: float, jitter: float = 0.2,
              rng: random.Random | None = None) -> float:
    """Exponential backoff after `attempts` failed attempts (1 → base), capped, with ±jitter."""
    delay = min(cap_s, base_s * (2 ** max(0, attempts - 1)))
    r = (rng or random).uniform(1 - jitter, 1 + jitter) if jitter else 1.0
    return max(0.0, delay * r)


class Outcome(StrEnum):
    SENT = "sent"
    TRANSIENT = "transient"  # this message failed, try again later (counts as an attempt)
    PERMANENT = "permanent"  # this address will never take it: park with the reason
    CHANNEL_DOWN = "channel_down"  # the channel itself is unreachable: wait, without using an attempt


@dataclass(frozen=True)
class Result:
    delivery_id: str
    outcome: Outcome
    detail: str = ""


class TokenBucket:
    """Rate limit: `rate` tokens a second, at most `burst` saved up. Time is passed in."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst)
        self.tokens = self.burst
        self.at = now

    def _refill(self, now: float) -> None:
        if now > self.at:
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now

    def take(self, now: float, n: float = 1.0) -> float:
        """Take n tokens; returns 0 when granted, else the seconds to wait before asking again."""
        self._refill(now)
        if self.tokens >= n:
            self.tokens -= n
            return 0.0
        return (n - self.tokens) / self.rate


# --- digest ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestItem:
    notification_id: str
    kind: str
    title: str
    link: str | None
    created_at: datetime


def group_by_day(items: list[DigestItem]) -> list[tuple[date, list[DigestItem]]]:
    """Items of one recipient's digest grouped per local day, days and items in time order."""
    days: dict[date, list[DigestItem]] = {}
    for it in sorted(items, key=lambda i: (i.created_at, i.notification_id)):
        days.setdefault(it.created_at.date(), []).append(it)
    return sorted(days.items())


def count_by_kind(items: list[DigestItem]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for it in items:
        counts[it.kind] = counts.get(it.kind, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


# --- what goes out ----------------------------------------------------------------------------


@dataclass
class Outgoing:
    """One claimed delivery, with what it carries."""

    delivery_id: str
    notification_id: str | None
    event_id: str
    recipient_id: str
    recipient_name: str
    channel: Channel
    kind: str
    address: str
    attempts: int
    title: str = ""
    body: str = ""
    link: str | None = None
    created_at: datetime | None = None
    secret: str | None = None  # webhook signing secret, sealed (the sender opens it just before signing)
    digest_items: list[DigestItem] = field(default_factory=list)
    digest_total: int = 0
    digest_by_kind: list[tuple[str, int]] = field(default_factory=list)

    @property
    def is_digest(self) -> bool:
        return self.kind == DIGEST_KIND

    @property
    def reported_id(self) -> str:
        """The notification id events name (a digest is its own notification)."""
        return self.notification_id or self.delivery_id
