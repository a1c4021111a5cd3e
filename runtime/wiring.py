"""What a service's composition root (`services/<name>/bootstrap.py`) hands the runtime, and the
way a use case is bound to it — written once, the same in every service.

cosmicpython's bootstrap: dependencies are built in one place and handed to the handlers
explicitly. A request use case is `use_case(request, caller, uow, *deps)`, bound by `endpoint`;
an event handler is `handler(event, uow)` and a reminder handler `handler(payload, uow)` — the
consumer's and the scheduler's unit of work — with its dependencies bound by `functools.partial`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runtime.api import ApiHandler
from runtime.auth import Principal
from runtime.consumer import Subscription
from runtime.db import UnitOfWork


@dataclass(frozen=True)
class Wiring:
    """Endpoint name → handler (every endpoint of the service's contract, no more, no less);
    what it consumes, per producer; the jobs it runs beside; and named parts the tests and the
    operator tools may reach (a scheduler to fire, a worker to inspect)."""

    endpoints: Mapping[str, ApiHandler]
    subscriptions: Sequence[Subscription] = ()
    background: Sequence[Callable[[], Awaitable[None]]] = ()
    parts: Mapping[str, Any] = field(default_factory=dict)


def endpoint(use_case: Callable[..., Awaitable[Any]], uow: Callable[[], UnitOfWork], *deps: Any) -> ApiHandler:
    """A request use case with a fresh unit of work per request and its dependencies."""
    async def handle(request: Any, caller: Principal | None) -> Any:
        return await use_case(request, caller, uow(), *deps)

    handle.__name__ = getattr(use_case, "__name__", "endpoint")
    return handle


def endpoints(table: Mapping[str, Callable[..., Awaitable[Any]]], uow: Callable[[], UnitOfWork],
              *deps: Any) -> dict[str, ApiHandler]:
    return {name: endpoint(use_case, uow, *deps) for name, use_case in table.items()}

