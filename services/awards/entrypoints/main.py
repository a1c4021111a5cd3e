"""Process entry point of the awards service: `python -m services.awards`."""

from __future__ import annotations

from pathlib import Path

from runtime.app import ServiceDefinition, run_service
from runtime.settings import load_settings
from services.awards.bootstrap import bootstrap
from services.awards.service_layer.unit_of_work import AwardsUnitOfWork

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

DEFINITION = ServiceDefinition(name="awards", migrations=MIGRATIONS, bootstrap=bootstrap, uow_class=AwardsUnitOfWork)


def main() -> None:
    run_service(DEFINITION, load_settings("awards"))
