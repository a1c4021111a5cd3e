"""What every use case of the plans service shares: configuration, authorisation by unit scope,
paging, and turning domain errors into structured API errors."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts.api.common import ErrorCode
from runtime.errors import ApiError, conflict, forbidden
from services.plans.domain.plans import parse_offsets
from services.plans.service_layer.unit_of_work import PlansUnitOfWork

# Event types produced here.
UNIT_REGISTERED = "vn.congdoan.plans.unit.registered.v1"
UNIT_MOVED = "vn.congdoan.plans.unit.moved.v1"
UNIT_CLOSED = "vn.congdoan.plans.unit.closed.v1"
PERSON_REGISTERED = "vn.congdoan.plans.person.registered.v1"
PERSON_UPDATED = "vn.congdoan.plans.person.updated.v1"
PLAN_ISSUED = "vn.congdoan.plans.plan.issued.v1"
PLAN_CLOSED = "vn.congdoan.plans.plan.closed.v1"
TASKS_ASSIGNED = "vn.congdoan.plans.tasks.assigned.v1"
TASK_UPDATED = "vn.congdoan.plans.task.updated.v1"
IMPLEMENTATION_PLAN_REGISTERED = "vn.congdoan.plans.implementation_plan.registered.v1"
INDIVIDUAL_PLAN_SUBMITTED = "vn.congdoan.plans.individual_plan.submitted.v1"
INDIVIDUAL_PLAN_ASSESSED = "vn.congdoan.plans.individual_plan.assessed.v1"
DEADLINE_APPROACHING = "vn.congdoan.plans.deadline.approaching.v1"
DEADLINE_MISSED = "vn.congdoan.plans.deadline.missed.v1"


@dataclass(frozen=True)
class PlansConfig:
    """Settings of the plans service (environment variables, read once at start-up)."""

    deadline_offsets: tuple[int, ...] = (30, 7, 1)  # CONGDOAN_PLANS_DEADLINE_OFFSETS_DAYS="30,7,1"
    allow_system_requests: bool = True  # CONGDOAN_PLANS_ALLOW_SYSTEM_REQUESTS=0 requires actor_id everywhere
    max_import_bytes: int = 4 * 1024 * 1024  # CONGDOAN_PLANS_MAX_IMPORT_BYTES: a whole CSV import

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "PlansConfig":
        env = dict(os.environ if env is None else env)
        allow = env.get("CONGDOAN_PLANS_ALLOW_SYSTEM_REQUESTS", "1").strip().lower() not in ("0", "false", "no", "off")
        return cls(deadline_offsets=parse_offsets(env.get("CONGDOAN_PLANS_DEADLINE_OFFSETS_DAYS")),
                   allow_system_requests=allow,
                   max_import_bytes=int(env.get("CONGDOAN_PLANS_MAX_IMPORT_BYTES", 4 * 1024 * 1024)))


DEFAULT_CONFIG = PlansConfig()


def invalid(message: str, field: str = "") -> ApiError:
    return ApiError(ErrorCode.VALIDATION, message, [{"field": field, "message": message}] if field else [])


def refused(message: str, field: str = "") -> ApiError:
    return conflict(message, [{"field": field, "message": message}] if field else None)


def today(uow: PlansUnitOfWork) -> date:
    return uow.now().date()


def system_allowed(cfg: PlansConfig) -> None:
    if not cfg.allow_system_requests:
        raise forbidden("actor_id is required (system requests are switched off: CONGDOAN_PLANS_ALLOW_SYSTEM_REQUESTS=0)")


async def authorize(uow: PlansUnitOfWork, cfg: PlansConfig, actor_id: str | None, unit_id: str, *, write: bool,
                    on: date | None = None) -> Any:
    """The actor's row, when it may act on (write) or read `unit_id`; None for a system request.
    An actor changes its own unit and, with an acting role, units below it; reads a unit as the
    unit itself or an ancestor (runtime.directory.Directory.authorize)."""
    if actor_id is None:
        system_allowed(cfg)
        if await uow.directory.unit_row(unit_id) is None:
            from runtime.errors import not_found
            raise not_found(f"unit {unit_id}")
        return None
    return await uow.directory.shared.authorize(actor_id, unit_id, on or today(uow), write=write)


async def actor_row(uow: PlansUnitOfWork, cfg: PlansConfig, actor_id: str | None) -> Any:
    """The active actor, or None for an allowed system request."""
    if actor_id is None:
        system_allowed(cfg)
        return None
    actor = await uow.directory.person_row(actor_id)
    if actor is None or not actor.active:
        raise forbidden(f"unknown or inactive actor {actor_id}")
    return actor


def offset_of(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        value = int(cursor)
    except ValueError:
        raise invalid(f"cursor {cursor!r} is not one this service gave out", "page.cursor") from None
    if value < 0:
        raise invalid("cursor must not be negative", "page.cursor")
    return value


def next_cursor(offset: int, limit: int, total: int) -> str | None:
    return str(offset + limit) if offset + limit < total else None
