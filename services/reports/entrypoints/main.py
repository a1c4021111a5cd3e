"""Process entry point of the reports service: `python -m services.reports`."""

from __future__ import annotations

from pathlib import Path

from runtime.app import Runtime, ServiceDefinition, run_service
from runtime.consumer import Subscription
from runtime.settings import load_settings
from services.reports.service_layer import handlers
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def api(rt: Runtime) -> dict:
    return {"submit_report": lambda cmd: handlers.submit_report(cmd, rt.uow())}


def subscriptions(rt: Runtime) -> list[Subscription]:
    return [Subscription("plans", {"vn.congdoan.plans.unit.registered.v1": handlers.on_unit_registered})]


DEFINITION = ServiceDefinition(name="reports", migrations=MIGRATIONS, api=api, subscriptions=subscriptions,
                               uow_class=ReportsUnitOfWork)


def main() -> None:
    run_service(DEFINITION, load_settings("reports"))
