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


EVENTS = (
    ev("notify", "notification", "sent", NotificationSent, "A notification went out through a channel."),
    ev("notify", "notification", "failed", NotificationFailed, "A notification could not be delivered."),
)
