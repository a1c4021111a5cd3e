"""The catalogue: every event type and every endpoint, with its model — joined from the contract
modules of each service (`contracts/events/<service>.py` lists EVENTS; `contracts/api/<service>.py`
lists ENDPOINTS and the event types the service CONSUMES). Schemas, AsyncAPI documents, durable
consumers and stream subjects all follow from it."""

from __future__ import annotations

from pydantic import BaseModel

from contracts.api import awards as awards_api
from contracts.api import notify as notify_api
from contracts.api import plans as plans_api
from contracts.api import reports as reports_api
from contracts.events import awards as awards_ev
from contracts.events import notify as notify_ev
from contracts.events import plans as plans_ev
from contracts.events import reports as reports_ev
from contracts.spec import EndpointSpec, EventSpec

__all__ = ["EVENTS", "ENDPOINTS", "CONSUMES", "EventSpec", "EndpointSpec", "EVENTS_BY_TYPE", "ENDPOINTS_BY_SUBJECT",
           "event", "event_of", "EVENTS_BY_MODEL", "endpoints_of", "produced_by", "consumed_by"]

EVENTS: tuple[EventSpec, ...] = (*plans_ev.EVENTS, *reports_ev.EVENTS, *notify_ev.EVENTS, *awards_ev.EVENTS)
ENDPOINTS: tuple[EndpointSpec, ...] = (*plans_api.ENDPOINTS, *reports_api.ENDPOINTS, *notify_api.ENDPOINTS,
                                       *awards_api.ENDPOINTS)
CONSUMES: dict[str, tuple[str, ...]] = {
    "plans": plans_api.CONSUMES,
    "reports": reports_api.CONSUMES,
    "notify": notify_api.CONSUMES,
    "awards": awards_api.CONSUMES,
}

EVENTS_BY_TYPE = {e.type: e for e in EVENTS}
EVENTS_BY_MODEL = {e.model: e for e in EVENTS}
ENDPOINTS_BY_SUBJECT = {e.subject: e for e in ENDPOINTS}
assert len(EVENTS_BY_TYPE) == len(EVENTS), "an event type is listed twice"
assert len(EVENTS_BY_MODEL) == len(EVENTS), "a data model serves two event types: give each its own"
assert len(ENDPOINTS_BY_SUBJECT) == len(ENDPOINTS), "an endpoint subject is listed twice"
for _service, _types in CONSUMES.items():
    for _t in _types:
        assert _t in EVENTS_BY_TYPE, f"{_service} consumes {_t}, which no service produces"


def event(type_: str) -> EventSpec:
    return EVENTS_BY_TYPE[type_]


def event_of(model: type[BaseModel] | BaseModel) -> EventSpec:
    """The event a data model is the data of (each model serves exactly one type)."""
    cls = model if isinstance(model, type) else type(model)
    try:
        return EVENTS_BY_MODEL[cls]
    except KeyError:
        raise KeyError(f"{cls.__name__} is the data of no event in the catalogue") from None


def endpoints_of(service: str) -> list[EndpointSpec]:
    return [e for e in ENDPOINTS if e.service == service]


def produced_by(service: str) -> list[EventSpec]:
    return [e for e in EVENTS if e.producer == service]


def consumed_by(service: str) -> list[EventSpec]:
    return [EVENTS_BY_TYPE[t] for t in CONSUMES[service]]
