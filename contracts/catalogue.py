"""The catalogue: every event type and every endpoint, with its model. Add a line here when a
service learns a new event or request; schemas, AsyncAPI and stream settings follow from it."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from contracts import naming
from contracts.api import awards as awards_api
from contracts.api import notify as notify_api
from contracts.api import plans as plans_api
from contracts.api import reports as reports_api
from contracts.events import plans as plans_ev
from contracts.events import reports as reports_ev


@dataclass(frozen=True)
class EventSpec:
    type: str
    model: type[BaseModel]
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

    @property
    def subject(self) -> str:
        return naming.endpoint_subject(self.service, self.name, self.version)


def _ev(producer: str, entity: str, action: str, model: type[BaseModel], summary: str, version: int = 1) -> EventSpec:
    return EventSpec(naming.event_type(producer, entity, action, version), model, summary)


EVENTS: tuple[EventSpec, ...] = (
    _ev("plans", "unit", "registered", plans_ev.UnitRegistered, "A union unit entered the directory."),
    _ev("plans", "person", "registered", plans_ev.PersonRegistered, "A person entered the directory."),
    _ev("reports", "report", "submitted", reports_ev.ReportSubmitted, "A unit submitted its report."),
)

ENDPOINTS: tuple[EndpointSpec, ...] = (
    EndpointSpec("plans", "register_unit", plans_api.RegisterUnit, plans_api.UnitReply, "Register a union unit."),
    EndpointSpec("plans", "register_person", plans_api.RegisterPerson, plans_api.PersonReply, "Register a person with roles and contacts."),
    EndpointSpec("reports", "submit_report", reports_api.SubmitReport, reports_api.SubmissionReceipt, "Submit a unit's report for a period."),
    EndpointSpec("notify", "list_inbox", notify_api.ListInbox, notify_api.InboxPage, "A person's in-app notifications."),
    EndpointSpec("awards", "get_eligibility", awards_api.GetEligibility, awards_api.Eligibility, "Eligibility of a unit for awards in a period."),
)

# Which events each service consumes (its durable consumers filter on these subjects).
CONSUMES: dict[str, tuple[str, ...]] = {
    "plans": (),
    "reports": ("vn.congdoan.plans.unit.registered.v1",),
    "notify": (
        "vn.congdoan.plans.unit.registered.v1",
        "vn.congdoan.plans.person.registered.v1",
        "vn.congdoan.reports.report.submitted.v1",
    ),
    "awards": ("vn.congdoan.reports.report.submitted.v1",),
}

EVENTS_BY_TYPE = {e.type: e for e in EVENTS}
ENDPOINTS_BY_SUBJECT = {e.subject: e for e in ENDPOINTS}


def event(type_: str) -> EventSpec:
    return EVENTS_BY_TYPE[type_]


def endpoints_of(service: str) -> list[EndpointSpec]:
    return [e for e in ENDPOINTS if e.service == service]


def produced_by(service: str) -> list[EventSpec]:
    return [e for e in EVENTS if e.producer == service]


def consumed_by(service: str) -> list[EventSpec]:
    return [EVENTS_BY_TYPE[t] for t in CONSUMES[service]]
