"""Requests served by the notify service: a person's in-app inbox, their channel preferences and the
log of what was delivered to them through e-mail and webhooks.

A person reads and changes only their own inbox and preferences: whose they are comes from the
bearer token of the request (the `Authorization` header), never from the body. The delivery log of a
person is theirs, and their unit's administrators' (to check that mail went out)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from contracts.api.common import Page
from contracts.spec import EndpointSpec
from contracts.types import Channel, Email, Id, Model


class NotificationKind(StrEnum):
    """What a notification is about (one Vietnamese template per kind)."""

    PLAN_ISSUED = "plan_issued"
    TASKS_ASSIGNED = "tasks_assigned"
    DEADLINE_APPROACHING = "deadline_approaching"
    DEADLINE_MISSED = "deadline_missed"
    IMPLEMENTATION_PLAN_REGISTERED = "implementation_plan_registered"
    REPORT_SUBMITTED = "report_submitted"
    REPORT_RETURNED = "report_returned"
    REPORT_ACCEPTED = "report_accepted"
    REPORT_REOPENED = "report_reopened"
    REPORT_DEADLINE_APPROACHING = "report_deadline_approaching"
    REPORT_OVERDUE = "report_overdue"
    AWARD_ROUND_OPENED = "award_round_opened"
    NOMINATION_SUBMITTED = "nomination_submitted"
    NOMINATION_DECIDED = "nomination_decided"
    AWARD_GRANTED = "award_granted"
    NOMINATION_FORWARDED = "nomination_forwarded"
    NOMINATION_RETURNED = "nomination_returned"
    NOMINATION_WITHDRAWN = "nomination_withdrawn"
    DECISION_ISSUED = "decision_issued"
    QUOTAS_CHANGED = "quotas_changed"


class EmailMode(StrEnum):
    AUTO = "auto"  # the default of each kind: at once for what asks the unit to act, in the digest for oversight
    IMMEDIATE = "immediate"  # one e-mail per notification
    DIGEST = "digest"  # gathered into one e-mail a day, at the configured local hour
    OFF = "off"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"  # the server accepted it
    FAILED = "failed"  # parked: permanently refused, or given up after the last attempt; `last_error` says why
    QUEUED = "queued"  # waiting for the daily digest
    DIGESTED = "digested"  # went out inside the digest `digest_id`


WebhookUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=1000)]


class ListInbox(Model):
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


class UnreadCount(Model):
    """The caller's own unread notifications."""


class UnreadCountReply(Model):
    person_id: Id
    unread: int


class MarkRead(Model):
    notification_ids: list[Id] = Field(default_factory=list, max_length=500)
    all: bool = Field(default=False, description="mark every notification of the inbox read")


class MarkReadReply(Model):
    marked: int = Field(description="notifications that were unread and are read now")
    unread: int


class GetPreferences(Model):
    """The caller's own preferences."""


class SetPreferences(Model):
    """Fields left out stay as they are; `email_address` or `webhook_url` set to null remove them."""

    email: EmailMode | None = None
    email_address: Email | None = Field(default=None, description="instead of the directory's address")
    email_overrides: dict[NotificationKind, EmailMode] | None = Field(default=None, max_length=50)
    muted_kinds: list[NotificationKind] | None = Field(default=None, max_length=50,
                                                      description="kinds kept to the in-app inbox only")
    webhook_url: WebhookUrl | None = Field(
        default=None, description="https:// to a public address (checked now and at every call; http:// and "
                                  "private addresses only if the operator allow-lists the host); a new secret "
                                  "comes in the reply")
    rotate_webhook_secret: bool = False


class Preferences(Model):
    person_id: Id
    email: EmailMode
    email_address: Email | None = Field(description="the override set here, if any")
    directory_email: Email | None = Field(description="the address the directory knows")
    email_overrides: dict[NotificationKind, EmailMode]
    muted_kinds: list[NotificationKind]
    webhook_url: str | None
    webhook_secret_set: bool
    webhook_secret: str | None = Field(default=None, description="only in the reply that created or rotated it "
                                                                "(Standard Webhooks: whsec_ + base64 key)")
    webhook_secret_fingerprint: str | None = Field(
        default=None, description="first 8 hex digits of SHA-256 of the secret: which secret is set, not the secret")
    digest_hour: int = Field(ge=0, le=23, description="local hour (Asia/Ho_Chi_Minh) the daily digest goes out")
    updated_at: AwareDatetime | None = None


class DeliveryLog(Model):
    person_id: Id | None = Field(default=None, description="whose deliveries (default: the caller's own)")
    channel: Channel | None = None
    status: DeliveryStatus | None = None
    page: Page = Field(default_factory=Page)


class DeliveryItem(Model):
    delivery_id: str
    notification_id: str | None
    event_id: str
    channel: Channel
    kind: str
    address: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: AwareDatetime
    next_attempt_at: AwareDatetime | None
    sent_at: AwareDatetime | None
    digest_id: str | None


class DeliveryLogPage(Model):
    items: list[DeliveryItem]
    next_cursor: str | None = None


ENDPOINTS = (
    EndpointSpec("notify", "list_inbox", ListInbox, InboxPage, "A person's in-app notifications."),
    EndpointSpec("notify", "unread_count", UnreadCount, UnreadCountReply, "How many of a person's notifications are unread."),
    EndpointSpec("notify", "mark_read", MarkRead, MarkReadReply, "Mark some or all of a person's notifications read."),
    EndpointSpec("notify", "get_preferences", GetPreferences, Preferences, "A person's channel preferences."),
    EndpointSpec("notify", "set_preferences", SetPreferences, Preferences, "Change a person's channel preferences."),
    EndpointSpec("notify", "delivery_log", DeliveryLog, DeliveryLogPage,
                 "E-mail and webhook deliveries to a person: status, attempts, errors."),
)
CONSUMES: tuple[str, ...] = (
    # the directory projection (runtime.directory.DIRECTORY_HANDLERS)
    "vn.congdoan.plans.unit.registered.v1",
    "vn.congdoan.plans.unit.moved.v1",
    "vn.congdoan.plans.unit.closed.v1",
    "vn.congdoan.plans.person.registered.v1",
    "vn.congdoan.plans.person.updated.v1",
    # plans
    "vn.congdoan.plans.plan.issued.v1",
    "vn.congdoan.plans.tasks.assigned.v1",
    "vn.congdoan.plans.deadline.approaching.v1",
    "vn.congdoan.plans.deadline.missed.v1",
    "vn.congdoan.plans.implementation_plan.registered.v1",
    # reports
    "vn.congdoan.reports.requirement.opened.v1",
    "vn.congdoan.reports.report.submitted.v1",
    "vn.congdoan.reports.report.returned.v1",
    "vn.congdoan.reports.report.accepted.v1",
    "vn.congdoan.reports.report.reopened.v1",
    "vn.congdoan.reports.report.deadline_approaching.v1",
    "vn.congdoan.reports.report.overdue.v1",
    # awards
    "vn.congdoan.awards.round.opened.v1",
    "vn.congdoan.awards.nomination.submitted.v1",
    "vn.congdoan.awards.nomination.decided.v1",
    "vn.congdoan.awards.award.granted.v1",
    "vn.congdoan.awards.nomination.forwarded.v1",
    "vn.congdoan.awards.nomination.returned.v1",
    "vn.congdoan.awards.nomination.withdrawn.v1",
    "vn.congdoan.awards.decision.issued.v1",
    "vn.congdoan.awards.quotas.changed.v1",
)
