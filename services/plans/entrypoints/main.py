"""Process entry point of the plans service: `python -m services.plans`."""

from __future__ import annotations

from pathlib import Path

from runtime.app import Runtime, ServiceDefinition, run_service
from runtime.settings import load_settings
from services.plans.service_layer import handlers
from services.plans.service_layer.unit_of_work import PlansUnitOfWork

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def api(rt: Runtime) -> dict:
    uow = rt.uow
    return {
        "register_unit": lambda cmd: handlers.register_unit(cmd, uow()),
        "register_person": lambda cmd: handlers.register_person(cmd, uow()),
    }


DEFINITION = ServiceDefinition(name="plans", migrations=MIGRATIONS, api=api, uow_class=PlansUnitOfWork)


def main() -> None:
    run_service(DEFINITION, load_settings("plans"))
