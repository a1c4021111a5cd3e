"""Process entry point of the reports service: `python -m services.reports`."""

from __future__ import annotations

from pathlib import Path

from runtime.app import ServiceDefinition, run_service
from runtime.settings import load_settings
from services.reports.bootstrap import bootstrap
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

DEFINITION = ServiceDefinition(name="reports", migrations=MIGRATIONS, bootstrap=bootstrap, uow_class=ReportsUnitOfWork)


def main() -> None:
    run_service(DEFINITION, load_settings("reports"))
