"""What every use case of the plans service shares: configuration, authorisation (the one policy of
runtime/access.py, judged on plans' directory), paging, and the shorthands for the rule kinds of
runtime/errors.py (messages in Vietnamese)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from runtime.access import Action, Actor
from runtime.auth import Principal
from runtime.errors import Conflict, Invalid
from services.plans.service_layer.unit_of_work import PlansUnitOfWork


@dataclass(frozen=True)
class PlansConfig:
    """What the use cases read of the service's settings (services/plans/settings.py)."""

    deadline_offsets: tuple[int, ...] = (30, 7, 1)
    max_import_bytes: int = 4 * 1024 * 1024


DEFAULT_CONFIG = PlansConfig()


def invalid(message: str, field: str = "") -> Invalid:
    return Invalid(message, field)


def refused(message: str, field: str = "") -> Conflict:
    return Conflict(message, field)


def today(uow: PlansUnitOfWork) -> date:
    return uow.now().date()


async def authorize(uow: PlansUnitOfWork, who: Principal, action: Action, unit_id: str | None, *,
                    on: date | None = None, owner: str | None = None, field: str = "unit_id") -> Actor:
    """The caller, when the access policy allows `action` on `unit_id` (as of `on`, default
    today); else 403 (404 for an unknown unit)."""
    return await uow.directory.shared.authorize(who, action, unit_id, on or today(uow), owner=owner, field=field)


async def actor_of(uow: PlansUnitOfWork, who: Principal) -> Actor:
    return await uow.directory.shared.actor(who, today(uow))


def offset_of(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        value = int(cursor)
    except ValueError:
        raise invalid(f"Con trỏ trang “{cursor}” không hợp lệ: dịch vụ không cấp con trỏ này.", "page.cursor") from None
    if value < 0:
        raise invalid("Con trỏ trang không được là số âm.", "page.cursor")
    return value


def next_cursor(offset: int, limit: int, total: int) -> str | None:
    return str(offset + limit) if offset + limit < total else None
