"""Process entry point of the notify service: `python -m services.notify`."""

from __future__ import annotations

from pathlib import Path

from runtime.app import ServiceDefinition, run_service
from runtime.settings import load_settings
from services.notify.bootstrap import bootstrap
from services.notify.service_layer.unit_of_work import NotifyUnitOfWork

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

DEFINITION = ServiceDefinition(name="notify", migrations=MIGRATIONS, bootstrap=bootstrap, uow_class=NotifyUnitOfWork)


def main() -> None:
    run_service(DEFINITION, load_settings("notify"))
