"""Process entry point of the plans service: `python -m services.plans`."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from runtime.app import Runtime, ServiceDefinition, run_service
from runtime.auth import ClientRegistry, TokenIssuer
from runtime.scheduler import Scheduler
from runtime.settings import load_settings
from services.plans.service_layer import handlers
from services.plans.service_layer.common import PlansConfig
from services.plans.service_layer.logins import LOGIN_HANDLERS, Identity
from services.plans.service_layer.unit_of_work import PlansUnitOfWork

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _config(rt: Runtime) -> PlansConfig:
    """Read from the environment when the runtime starts (CONGDOAN_PLANS_DEADLINE_OFFSETS_DAYS…)."""
    return PlansConfig.from_env()


def _identity(rt: Runtime) -> Identity:
    """plans signs the access tokens: its private key, and the machine identities it accepts."""
    s = rt.settings
    return Identity(TokenIssuer(s.signing_key_path, issuer=s.auth_issuer, audience=s.auth_audience,
                                ttl_s=s.auth_access_ttl_s),
                    ClientRegistry(s.clients_path), s.auth_refresh_ttl_s)


def api(rt: Runtime) -> dict[str, Any]:
    cfg = _config(rt)
    ident = _identity(rt)

    def bind(use_case: Any, dependency: Any) -> Any:
        return lambda cmd, who: use_case(cmd, who, rt.uow(), dependency)

    return {**{name: bind(use_case, cfg) for name, use_case in handlers.ENDPOINT_HANDLERS.items()},
            **{name: bind(use_case, ident) for name, use_case in LOGIN_HANDLERS.items()}}


def background(rt: Runtime) -> list[Any]:
    cfg = _config(rt)
    reminder_handlers = {"deadline": handlers.on_deadline, "plan_roll": partial(handlers.roll_plan, cfg=cfg)}
    scheduler = Scheduler(rt.uow, rt.clock, reminder_handlers)  # type: ignore[arg-type]
    return [scheduler.run]


DEFINITION = ServiceDefinition(name="plans", migrations=MIGRATIONS, api=api, background=background,
                               uow_class=PlansUnitOfWork)


def main() -> None:
    run_service(DEFINITION, load_settings("plans"))
