"""Requests served by the notify service."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from contracts.api.common import Page
from contracts.spec import EndpointSpec
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


ENDPOINTS = (
    EndpointSpec("notify", "list_inbox", ListInbox, InboxPage, "A person's in-app notifications."),
)
CONSUMES: tuple[str, ...] = (
    "vn.congdoan.plans.unit.registered.v1",
    "vn.congdoan.plans.person.registered.v1",
    "vn.congdoan.reports.report.submitted.v1",
)
