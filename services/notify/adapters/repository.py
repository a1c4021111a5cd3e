"""Reads and writes of the notify service, set-based: one query for a whole consumer batch, not one
per event, because a national deadline fans out to a quarter of a million people."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from runtime.db import AwareDateTime, insert_new
from runtime.directory import dir_parents, dir_people, dir_units
from services.notify.adapters.orm import deliveries, held_events, notifications, preferences, refs
from services.notify.domain.model import EmailMode, Person, Preferences, Status

CHUNK = 500


def _chunks(items: Sequence[Any], n: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


class NotifyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def insert_ignore(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Insert rows; any that collide with a unique key already there are left alone."""
        for part in _chunks(rows, 1000):
            await self.session.execute(insert_new(self.session, table), list(part))

    async def insert_ignore_many(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """`insert_ignore` for the hot path (a national fan-out writes a quarter of a million rows):
        one prepared statement through the driver's executemany, values converted here as the
        column types would (timestamps: UTC, SQLite's text form). Only for tables whose columns
        are strings, numbers and `AwareDateTime`s."""
        if not rows:
            return
        cols = list(table.columns)
        names = ", ".join(c.name for c in cols)
        sqlite = self.dialect != "postgresql"
        marks = ", ".join("?" if sqlite else f"${i}" for i in range(1, len(cols) + 1))
        sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING"
        stamps = [c.name for c in cols if isinstance(c.type, AwareDateTime)]
        keys = [c.name for c in cols]
        converted: dict[datetime, Any] = {}  # a batch shares a few timestamps: convert each once

        def stamp(v: datetime | None) -> Any:
            if v is None:
                return None
            if (out := converted.get(v)) is None:
                utc = v.astimezone(UTC)
                out = converted[v] = utc.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else utc
            return out

        conn = await self.session.connection()
        for part in _chunks(rows, 2000):
            params = []
            for r in part:
                r = {**r, **{k: stamp(r[k]) for k in stamps}}
                params.append(tuple([r[k] for k in keys]))
            await conn.exec_driver_sql(sql, params)

    # --- the directory projection, in bulk ----------------------------------------------------
    async def units(self, ids: Iterable[str]) -> dict[str, Any]:
        ids = sorted(set(ids))
        out: dict[str, Any] = {}
        cols = (dir_units.c.unit_id, dir_units.c.name, dir_units.c.kind, dir_units.c.merged_into)
        for part in _chunks(ids):
            for r in (await self.session.execute(sa.select(*cols).where(dir_units.c.unit_id.in_(part)))).all():
                out[r.unit_id] = r
        return out

    async def parents(self, ids: Iterable[str], on: date) -> dict[str, str | None]:
        ids = sorted(set(ids))
        out: dict[str, str | None] = {}
        for part in _chunks(ids):
            q = sa.select(dir_parents.c.unit_id, dir_parents.c.parent_id).where(
                dir_parents.c.unit_id.in_(part), dir_parents.c.valid_from <= on,
                sa.or_(dir_parents.c.valid_to.is_(None), dir_parents.c.valid_to > on))
            for r in (await self.session.execute(q)).all():
                out[r.unit_id] = r.parent_id
        return out

    async def children(self, unit_id: str, on: date) -> list[str]:
        q = sa.select(dir_parents.c.unit_id).where(
            dir_parents.c.parent_id == unit_id, dir_parents.c.valid_from <= on,
            sa.or_(dir_parents.c.valid_to.is_(None), dir_parents.c.valid_to > on)).order_by(dir_parents.c.unit_id)
        return list((await self.session.execute(q)).scalars())

    @staticmethod
    def _person(r: Any) -> Person:
        roles = r.roles
        if isinstance(roles, str):  # selected as text (see _PERSON): the same few role lists, parsed once
            roles = _roles(roles)
        return Person(r.person_id, r.unit_id, r.full_name, frozenset(roles or ()), r.email, bool(r.active))

    _PERSON = (dir_people.c.person_id, dir_people.c.unit_id, dir_people.c.full_name,
               sa.type_coerce(dir_people.c.roles, sa.Text).label("roles"), dir_people.c.email, dir_people.c.active)
    _PREFS = (preferences.c.person_id.label("pref_person_id"), preferences.c.email_mode,
              preferences.c.email_address, preferences.c.email_overrides, preferences.c.muted_kinds,
              preferences.c.webhook_url, preferences.c.webhook_secret_enc, preferences.c.webhook_secret_fp,
              preferences.c.updated_at)

    def _with_prefs(self, where: Any) -> Any:
        return (sa.select(*self._PERSON, *self._PREFS)
                .select_from(dir_people.outerjoin(preferences, preferences.c.person_id == dir_people.c.person_id))
                .where(where))

    def _pref_of(self, r: Any) -> Preferences | None:
        if r.pref_person_id is None:
            return None
        return self._prefs(r)

    async def people_of_units(self, unit_ids: Iterable[str],
                              prefs: dict[str, Preferences] | None = None) -> dict[str, list[Person]]:
        """Active people of these units; their preferences, if any, into `prefs` (one query)."""
        ids = sorted(set(unit_ids))
        out: dict[str, list[Person]] = defaultdict(list)
        for part in _chunks(ids):
            q = self._with_prefs(sa.and_(dir_people.c.unit_id.in_(part), dir_people.c.active.is_(True)))
            for r in (await self.session.execute(q)).all():
                out[r.unit_id].append(self._person(r))
                if prefs is not None and (p := self._pref_of(r)) is not None:
                    prefs[r.person_id] = p
        return out

    async def people(self, ids: Iterable[str], prefs: dict[str, Preferences] | None = None) -> dict[str, Person]:
        ids = sorted(set(ids))
        out: dict[str, Person] = {}
        for part in _chunks(ids):
            for r in (await self.session.execute(self._with_prefs(dir_people.c.person_id.in_(part)))).all():
                out[r.person_id] = self._person(r)
                if prefs is not None and (p := self._pref_of(r)) is not None:
                    prefs[r.person_id] = p
        return out

    # --- references (plans, requirements, rounds, nominations) --------------------------------
    async def upsert_ref(self, ref_type: str, ref_id: str, *, number: str | None = None, title: str | None = None,
                         unit_id: str | None = None) -> None:
        values = {"number": number, "title": title, "unit_id": unit_id}
        done = await self.session.execute(refs.update().where(refs.c.ref_type == ref_type, refs.c.ref_id == ref_id)
                                          .values(**values))
        if done.rowcount == 0:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
            await self.insert_ignore(refs, [{"ref_type": ref_type, "ref_id": ref_id, **values}])

    async def refs(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        by_type: dict[str, set[str]] = defaultdict(set)
        for t, i in keys:
            by_type[t].add(i)
        out: dict[tuple[str, str], Any] = {}
        for t, ids in by_type.items():
            for part in _chunks(sorted(ids)):
                q = sa.select(refs).where(refs.c.ref_type == t, refs.c.ref_id.in_(part))
                for r in (await self.session.execute(q)).all():
                    out[(t, r.ref_id)] = r
        return out

    # --- preferences --------------------------------------------------------------------------
    @staticmethod
    def _prefs(r: Any) -> Preferences:
        return Preferences(person_id=r.person_id, email_mode=EmailMode(r.email_mode), email_address=r.email_address,
                           email_overrides=dict(r.email_overrides or {}), muted_kinds=list(r.muted_kinds or []),
                           webhook_url=r.webhook_url, webhook_secret_sealed=r.webhook_secret_enc,
                           webhook_secret_fingerprint=r.webhook_secret_fp, updated_at=r.updated_at)

    async def preferences(self, ids: Iterable[str]) -> dict[str, Preferences]:
        ids = sorted(set(ids))
        out: dict[str, Preferences] = {}
        for part in _chunks(ids):
            for r in (await self.session.execute(sa.select(preferences).where(preferences.c.person_id.in_(part)))).all():
                out[r.person_id] = self._prefs(r)
        return out

    async def save_preferences(self, p: Preferences) -> None:
        values = dict(email_mode=p.email_mode.value, email_address=p.email_address,
                      email_overrides=dict(p.email_overrides), muted_kinds=list(p.muted_kinds),
                      webhook_url=p.webhook_url, webhook_secret_enc=p.webhook_secret_sealed,
                      webhook_secret_fp=p.webhook_secret_fingerprint, updated_at=p.updated_at)
        done = await self.session.execute(preferences.update().where(preferences.c.person_id == p.person_id)
                                          .values(**values))
        if done.rowcount == 0:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
            await self.session.execute(preferences.insert().values(person_id=p.person_id, **values))

    async def sealed_secrets(self, after: str, limit: int) -> list[tuple[str, str]]:
        """(person id, sealed webhook secret) by person id, after `after`."""
        q = (sa.select(preferences.c.person_id, preferences.c.webhook_secret_enc)
             .where(preferences.c.webhook_secret_enc.is_not(None), preferences.c.person_id > after)
             .order_by(preferences.c.person_id).limit(limit))
        return [(r.person_id, r.webhook_secret_enc) for r in (await self.session.execute(q)).all()]

    async def replace_sealed_secret(self, person_id: str, old: str, new: str) -> int:
        done = await self.session.execute(preferences.update().where(preferences.c.person_id == person_id,
                                                                     preferences.c.webhook_secret_enc == old)
                                          .values(webhook_secret_enc=new))
        return int(done.rowcount or 0)  # type: ignore[attr-defined]  # an UPDATE's CursorResult

    # --- the inbox ----------------------------------------------------------------------------
    async def inbox(self, person_id: str, unread_only: bool, limit: int, before: str | None) -> list[Any]:
        q = sa.select(notifications).where(notifications.c.recipient_id == person_id,
                                           notifications.c.channel == "inbox")
        if unread_only:
            q = q.where(notifications.c.read_at.is_(None))
        if before:
            q = q.where(notifications.c.notification_id < before)
        q = q.order_by(notifications.c.notification_id.desc()).limit(limit)
        return list((await self.session.execute(q)).all())

    async def unread(self, person_id: str) -> int:
        q = sa.select(sa.func.count()).select_from(notifications).where(
            notifications.c.recipient_id == person_id, notifications.c.channel == "inbox",
            notifications.c.read_at.is_(None))
        return int((await self.session.execute(q)).scalar_one())

    async def owned(self, person_id: str, ids: Sequence[str]) -> set[str]:
        q = sa.select(notifications.c.notification_id).where(notifications.c.recipient_id == person_id,
                                                             notifications.c.notification_id.in_(list(ids)))
        return set((await self.session.execute(q)).scalars())

    async def mark_read(self, person_id: str, ids: Sequence[str] | None, at: datetime) -> int:
        q = notifications.update().where(notifications.c.recipient_id == person_id,
                                         notifications.c.read_at.is_(None)).values(read_at=at)
        if ids is not None:
            q = q.where(notifications.c.notification_id.in_(list(ids)))
        return int((await self.session.execute(q)).rowcount or 0)  # type: ignore[attr-defined]  # CursorResult

    # --- held events --------------------------------------------------------------------------
    async def hold(self, rows: list[dict[str, Any]]) -> None:
        await self.insert_ignore(held_events, rows)

    async def releasable(self, limit: int) -> list[Any]:
        """Held events whose target the directory may now resolve (its unit has active people, the
        unit merged into another, the person or the unit itself is known)."""
        h = held_events
        unit_has_people = sa.exists().where(dir_people.c.unit_id == h.c.target_id, dir_people.c.active.is_(True))
        unit_merged = sa.exists().where(dir_units.c.unit_id == h.c.target_id, dir_units.c.merged_into.is_not(None))
        person_known = sa.exists().where(dir_people.c.person_id == h.c.target_id, dir_people.c.active.is_(True))
        unit_known = sa.exists().where(dir_units.c.unit_id == h.c.target_id)
        q = sa.select(h).where(sa.or_(
            sa.and_(h.c.target_kind == "unit", sa.or_(unit_has_people, unit_merged)),
            sa.and_(h.c.target_kind == "person", person_known),
            sa.and_(h.c.target_kind == "parent", unit_known),
        )).order_by(h.c.held_at, h.c.event_id).limit(limit)
        return list((await self.session.execute(q)).all())

    async def escalatable(self, held_before: datetime, limit: int) -> list[Any]:
        """Held since before `held_before` for a unit the directory knows (not merged away) that
        has no active people: whose notice must go up a level."""
        h = held_events  # (a unit whose people hold none of the contact roles is held, and escalated, too)
        unit_known = sa.exists().where(dir_units.c.unit_id == h.c.target_id, dir_units.c.merged_into.is_(None))
        q = (sa.select(h).where(h.c.target_kind == "unit", h.c.held_at < held_before, unit_known)
             .order_by(h.c.held_at, h.c.event_id).limit(limit))
        return list((await self.session.execute(q)).all())

    async def unhold(self, keys: Iterable[tuple[str, str]]) -> None:
        for event_id, hold_key in keys:
            await self.session.execute(held_events.delete().where(held_events.c.event_id == event_id,
                                                                  held_events.c.hold_key == hold_key))

    async def expire_held(self, before: datetime) -> int:
        return int((await self.session.execute(held_events.delete().where(held_events.c.held_at < before))).rowcount or 0)  # type: ignore[attr-defined]

    async def held_count(self) -> int:
        return int((await self.session.execute(sa.select(sa.func.count()).select_from(held_events))).scalar_one())

    # --- deliveries ---------------------------------------------------------------------------
    async def claim(self, now: datetime, lease_until: datetime, channels: Sequence[str], limit: int) -> list[Any]:
        d = deliveries
        q = (sa.select(d).where(d.c.status == Status.PENDING.value, d.c.next_attempt_at <= now,
                                d.c.channel.in_(list(channels)),
                                sa.or_(d.c.leased_until.is_(None), d.c.leased_until < now))
             .order_by(d.c.next_attempt_at).limit(limit))  # the partial index's order: no sort of the whole queue
        if self.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True)
        rows = list((await self.session.execute(q)).all())
        for part in _chunks([r.delivery_id for r in rows]):
            await self.session.execute(d.update().where(d.c.delivery_id.in_(part)).values(leased_until=lease_until))
        return rows

    async def notifications_by_id(self, ids: Iterable[str]) -> dict[str, Any]:
        ids = sorted(set(ids))
        out: dict[str, Any] = {}
        for part in _chunks(ids):
            for r in (await self.session.execute(sa.select(notifications).where(
                    notifications.c.notification_id.in_(part)))).all():
                out[r.notification_id] = r
        return out

    async def digest_items(self, digest_id: str, limit: int) -> tuple[list[Any], int]:
        n, d = notifications, deliveries
        q = (sa.select(n.c.notification_id, n.c.kind, n.c.title, n.c.link, n.c.created_at)
             .join(d, d.c.notification_id == n.c.notification_id)
             .where(d.c.digest_id == digest_id).order_by(n.c.created_at, n.c.notification_id).limit(limit))
        items = list((await self.session.execute(q)).all())
        total = int((await self.session.execute(sa.select(sa.func.count()).select_from(d)
                                                .where(d.c.digest_id == digest_id))).scalar_one())
        return items, total

    async def digest_counts(self, digest_id: str) -> list[tuple[str, int]]:
        d = deliveries
        q = sa.select(d.c.kind, sa.func.count()).where(d.c.digest_id == digest_id).group_by(d.c.kind)
        return [(k, int(c)) for k, c in (await self.session.execute(q)).all()]

    async def mark_sent(self, ids: Sequence[str], now: datetime) -> list[str]:
        """Pending → sent; returns the ids this call changed (another replica may have been first)."""
        d = deliveries
        changed: list[str] = []
        for part in _chunks(list(ids)):
            q = (d.update().where(d.c.delivery_id.in_(part), d.c.status == Status.PENDING.value)
                 .values(status=Status.SENT.value, sent_at=now, attempts=d.c.attempts + 1, leased_until=None,
                         last_error=None).returning(d.c.delivery_id))
            changed += list((await self.session.execute(q)).scalars())
        return changed

    async def update_delivery(self, delivery_id: str, **values: Any) -> bool:
        d = deliveries
        q = (d.update().where(d.c.delivery_id == delivery_id, d.c.status == Status.PENDING.value)
             .values(**values).returning(d.c.delivery_id))
        return (await self.session.execute(q)).first() is not None

    async def postpone(self, ids: Sequence[str], until: datetime, error: str) -> None:
        d = deliveries
        for part in _chunks(list(ids)):
            await self.session.execute(d.update().where(d.c.delivery_id.in_(part), d.c.status == Status.PENDING.value)
                                       .values(leased_until=None, next_attempt_at=until, last_error=error))

    async def delivery_log(self, person_id: str, channel: str | None, status: str | None, limit: int,
                           before: tuple[datetime, str] | None) -> list[Any]:
        d = deliveries
        q = sa.select(d).where(d.c.recipient_id == person_id)
        if channel:
            q = q.where(d.c.channel == channel)
        if status:
            q = q.where(d.c.status == status)
        if before:
            at, did = before
            q = q.where(sa.or_(d.c.created_at < at, sa.and_(d.c.created_at == at, d.c.delivery_id < did)))
        q = q.order_by(d.c.created_at.desc(), d.c.delivery_id.desc()).limit(limit)
        return list((await self.session.execute(q)).all())

    # --- the digest ---------------------------------------------------------------------------
    async def queued_recipients(self, cutoff: datetime) -> list[tuple[str, str]]:
        """(recipient, address) of everyone with e-mail waiting for the digest."""
        d = deliveries
        q = (sa.select(d.c.recipient_id, sa.func.max(d.c.address))
             .where(d.c.status == Status.QUEUED.value, d.c.channel == "email", d.c.created_at <= cutoff)
             .group_by(d.c.recipient_id).order_by(d.c.recipient_id))
        return [(r, a) for r, a in (await self.session.execute(q)).all()]

    async def fold_into_digests(self, assignments: list[dict[str, Any]], cutoff: datetime) -> None:
        d = deliveries
        q = (d.update().where(d.c.recipient_id == sa.bindparam("r"), d.c.status == Status.QUEUED.value,
                              d.c.channel == "email", d.c.created_at <= cutoff)
             .values(status=Status.DIGESTED.value, digest_id=sa.bindparam("dg")))
        for part in _chunks(assignments):
            await self.session.execute(q, list(part))

    async def counts(self) -> dict[tuple[str, str], int]:
        d = deliveries
        q = sa.select(d.c.channel, d.c.status, sa.func.count()).group_by(d.c.channel, d.c.status)
        return {(c, s): int(n) for c, s, n in (await self.session.execute(q)).all()}


@lru_cache(maxsize=256)
def _roles(text: str) -> frozenset[str]:
    return frozenset(json.loads(text) or ())


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def until(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
