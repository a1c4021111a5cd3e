"""Server-side sessions. The browser holds only a random session id (cookie: HttpOnly,
SameSite=Lax, Secure behind TLS); the person's access and refresh tokens stay here, in the
session's `ApiClient`, which renews them before they expire. Every form carries the session's
CSRF token; the login form, before a session exists, a token keyed to a pre-session cookie."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from runtime.client import ApiClient

COOKIE = "congdoan_sid"
PRE_COOKIE = "congdoan_pre"


@dataclass
class Session:
    sid: str
    client: ApiClient
    person: dict[str, Any]  # person_id, full_name, unit_id, roles
    unit: dict[str, Any] = field(default_factory=dict)  # the person's unit: name, kind, parent_id
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    created: float = field(default_factory=time.monotonic)
    last_seen: float = field(default_factory=time.monotonic)
    flashes: list[tuple[str, str]] = field(default_factory=list)  # (kind, message), shown once

    @property
    def person_id(self) -> str:
        return str(self.person["person_id"])

    @property
    def unit_id(self) -> str:
        return str(self.person["unit_id"])

    @property
    def roles(self) -> set[str]:
        return set(self.person.get("roles") or [])

    def flash(self, message: str, kind: str = "ok") -> None:
        self.flashes.append((kind, message))

    def take_flashes(self) -> list[tuple[str, str]]:
        out, self.flashes = self.flashes, []
        return out

    def check_csrf(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, str(token))


class SessionStore:
    """In this process's memory: a restart logs everyone out (their refresh tokens expire on
    their own). Several replicas behind a load balancer need sticky sessions."""

    def __init__(self, idle_s: float, max_s: float, max_sessions: int) -> None:
        self.idle_s, self.max_s, self.max_sessions = idle_s, max_s, max_sessions
        self._by_id: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def new(self, client: ApiClient, person: dict[str, Any], unit: dict[str, Any]) -> Session:
        if len(self._by_id) >= self.max_sessions:
            self.sweep()
            if len(self._by_id) >= self.max_sessions:  # the oldest gives way
                oldest = min(self._by_id.values(), key=lambda s: s.last_seen)
                self._by_id.pop(oldest.sid, None)
        s = Session(sid=secrets.token_urlsafe(32), client=client, person=person, unit=unit)
        self._by_id[s.sid] = s
        return s

    def get(self, sid: str | None) -> Session | None:
        """The live session of this id (its idle clock restarted), or None."""
        if not sid:
            return None
        s = self._by_id.get(sid)
        if s is None:
            return None
        now = time.monotonic()
        if self.expired(s, now):
            self._by_id.pop(sid, None)
            return None
        s.last_seen = now
        return s

    def alive(self, sid: str) -> bool:
        """Whether the session still stands, without counting this as activity (a page left open
        on its live stream does not keep a session from expiring)."""
        s = self._by_id.get(sid)
        return s is not None and not self.expired(s)

    def expired(self, s: Session, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return now - s.last_seen > self.idle_s or now - s.created > self.max_s

    def drop(self, sid: str) -> Session | None:
        return self._by_id.pop(sid, None)

    def sweep(self) -> list[Session]:
        """Remove expired sessions; returns them (to log them out at plans)."""
        now = time.monotonic()
        gone = [s for s in self._by_id.values() if self.expired(s, now)]
        for s in gone:
            self._by_id.pop(s.sid, None)
        return gone


def pre_token(secret: str, pre: str) -> str:
    """The login form's CSRF token: an HMAC of the pre-session cookie."""
    return hmac.new(secret.encode(), pre.encode(), hashlib.sha256).hexdigest()


def check_pre_token(secret: str, pre: str | None, token: str | None) -> bool:
    return bool(pre) and bool(token) and hmac.compare_digest(pre_token(secret, str(pre)), str(token))


class RateLimit:
    """At most `limit` events per `window_s` per key (a client address), sliding window."""

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._events: dict[str, deque[float]] = {}

    def allow(self, key: str) -> float:
        """0 if allowed (and counted), else the seconds to wait."""
        now = time.monotonic()
        q = self._events.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        if len(q) >= self.limit:
            return self.window_s - (now - q[0])
        q.append(now)
        if len(self._events) > 50_000:  # forget quiet addresses
            for k in [k for k, v in self._events.items() if not v or now - v[-1] > self.window_s]:
                self._events.pop(k, None)
        return 0.0
