"""What a catalogue entry is: an event type with its data model, or an endpoint with its request and
reply models. Each service's contract modules list their own entries; `contracts.catalogue` joins
them."""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from pydantic import BaseModel

from contracts import naming


@dataclass(frozen=True)
class EventSpec:
    type: str
    model: builtins.type[BaseModel]  # `type` is the field above: the builtin by its full name
    summary: str

    @property
    def producer(self) -> str:
        return naming.parse_type(self.type)[0]

    @property
    def subject(self) -> str:
        return naming.subject_for_type(self.type)

    @property
    def stream(self) -> str:
        return naming.stream_name(self.producer)

    @property
    def schema_name(self) -> str:
        return self.type  # file contracts/schemas/<type>.json


@dataclass(frozen=True)
class EndpointSpec:
    service: str
    name: str
    request: type[BaseModel]
    reply: type[BaseModel]
    summary: str
    version: int = 1
    # Served without a bearer token (logging in, refreshing, machine client credentials). Every
    # other endpoint answers 401 to a request without a valid `Authorization: Bearer` header.
    public: bool = False

    @property
    def subject(self) -> str:
        return naming.endpoint_subject(self.service, self.name, self.version)


def ev(producer: str, entity: str, action: str, model: type[BaseModel], summary: str, version: int = 1) -> EventSpec:
    return EventSpec(naming.event_type(producer, entity, action, version), model, summary)
