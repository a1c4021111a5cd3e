"""Process entry point of the notify service: `python -m services.notify`."""

from __future__ import annotations

from pathlib import Path

from runtime.app import Runtime, ServiceDefinition, run_service
from runtime.consumer import Subscription
from runtime.settings import load_settings
from services.notify.service_layer import handlers
from services.notify.service_layer.unit_of_work import NotifyUnitOfWork

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def api(rt: Runtime) -> dict:
    return {"list_inbox": lambda q: handlers.list_inbox(q, rt.uow())}


def subscriptions(rt: Runtime) -> list[Subscription]:
    return [
        Subscription("plans", {
            "vn.congdoan.plans.unit.registered.v1": handlers.on_unit_registered,
            "vn.congdoan.plans.person.registered.v1": handlers.on_person_registered,
        }),
        Subscription("reports", {"vn.congdoan.reports.report.submitted.v1": handlers.on_report_submitted}),
    ]


DEFINITION = ServiceDefinition(name="notify", migrations=MIGRATIONS, api=api, subscriptions=subscriptions,
                               uow_class=NotifyUnitOfWork)


def main() -> None:
    run_service(DEFINITION, load_settings("notify"))
