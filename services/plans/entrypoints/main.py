"""Process entry point of the plans service: `python -m services.plans`."""

from __future__ import annotations

from pathlib import Path

from runtime.app import ServiceDefinition, run_service
from runtime.settings import load_settings
from services.plans.bootstrap import bootstrap
from services.plans.service_layer.unit_of_work import PlansUnitOfWork

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

DEFINITION = ServiceDefinition(name="plans", migrations=MIGRATIONS, bootstrap=bootstrap, uow_class=PlansUnitOfWork)


def main() -> None:
    run_service(DEFINITION, load_settings("plans"))
