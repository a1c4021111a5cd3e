"""Process entry point of the awards service: `python -m services.awards`."""

from __future__ import annotations

from pathlib import Path

from runtime.app import Runtime, ServiceDefinition, run_service
from runtime.consumer import Subscription
from runtime.settings import load_settings
from services.awards.service_layer import handlers
from services.awards.service_layer.unit_of_work import AwardsUnitOfWork

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def api(rt: Runtime) -> dict:
    return {"get_eligibility": lambda q: handlers.get_eligibility(q, rt.uow())}


def subscriptions(rt: Runtime) -> list[Subscription]:
    return [Subscription("reports", {"vn.congdoan.reports.report.submitted.v1": handlers.on_report_submitted})]


DEFINITION = ServiceDefinition(name="awards", migrations=MIGRATIONS, api=api, subscriptions=subscriptions,
                               uow_class=AwardsUnitOfWork)


def main() -> None:
    run_service(DEFINITION, load_settings("awards"))
