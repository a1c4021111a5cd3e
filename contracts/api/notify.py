"""Requests served by the notify service."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from contracts.api.common import Page
from contracts.types import Id, Model


class ListInbox(Model):
    person_id: Id
    unread_only: bool = False
    page: Page = Field(default_factory=Page)


class InboxItem(Model):
    notification_id: Id
    kind: str
    title: str
    body: str
    link: str | None
    created_at: AwareDatetime
    read: bool


class InboxPage(Model):
    items: list[InboxItem]
    unread: int
    next_cursor: str | None = None
