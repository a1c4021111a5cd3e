"""Events produced by the notify service."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from contracts.spec import ev
from contracts.types import Channel, Id, Model


class NotificationSent(Model):
    notification_id: Id
    event_id: str = Field(max_length=128)
    recipient_id: Id
    channel: Channel
    kind: str = Field(max_length=64)
    sent_at: AwareDatetime


class NotificationFailed(Model):
    notification_id: Id
    event_id: str = Field(max_length=128)
    recipient_id: Id
    channel: Channel
    kind: str = Field(max_length=64)
    reason: str = Field(max_length=1000)
    attempts: int
    permanent: bool = Field(description="true when parked: the address will not be tried again")
    failed_at: AwareDatetime


class CreatedNotification(Model):
    notification_id: Id
    recipient_id: Id
    kind: str = Field(max_length=64)


class NotificationsCreated(Model):
    """New notifications in people's in-app inboxes: one event per consumer batch (at most 200
    notifications each). A front-end tells the people concerned at once (the web front-end's live
    updates); what a notification says is read with the person's own token (`list_inbox`), not
    carried here."""

    items: list[CreatedNotification] = Field(min_length=1, max_length=200)


class PreferencesChanged(Model):
    """A person changed how they are told. Carries what changed, never an address or a secret."""

    person_id: Id
    changed: list[str] = Field(max_length=20, description="the settings changed: email, email_address, "
                                                          "email_overrides, muted_kinds, webhook_url, webhook_secret")
    email: str = Field(max_length=16, description="the e-mail mode now: auto, immediate, digest, off")
    muted_kinds: list[str] = Field(default_factory=list, max_length=50)
    webhook: bool = Field(description="whether a webhook is set now")


EVENTS = (
    ev("notify", "preferences", "changed", PreferencesChanged, "A person changed how they are told."),
    ev("notify", "notification", "sent", NotificationSent, "A notification went out through a channel."),
    ev("notify", "notification", "failed", NotificationFailed, "A notification could not be delivered."),
    ev("notify", "notifications", "created", NotificationsCreated,
       "New notifications were written into people's in-app inboxes."),
)
