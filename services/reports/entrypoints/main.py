"""Process entry point of the reports service: `python -m services.reports`.

Maps the endpoints of contracts.api.reports and the event types it consumes (the directory and
plans' plan.issued / plan.closed) to the use cases, and runs the scheduler of its reminders
(deadline approaching, overdue, the yearly roll of requirements from plans)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from contracts.events import plans as plans_ev
from runtime.app import Runtime, ServiceDefinition, run_service
from runtime.consumer import Subscription
from runtime.directory import DIRECTORY_HANDLERS
from runtime.scheduler import Scheduler
from runtime.settings import load_settings
from services.reports.service_layer import consolidating, handlers, requirements
from services.reports.service_layer.context import Config, Context
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def context(rt: Runtime) -> Context:
    """One per process (the forms known and the requirements cache live here)."""
    ctx = getattr(rt, "reports_context", None)
    if ctx is None:
        ctx = Context(Config.from_env(rt.settings.data_dir))
        rt.reports_context = ctx  # type: ignore[attr-defined]
    return ctx


def _bind(use_case: Callable[..., Awaitable[Any]], rt: Runtime) -> Callable[[Any], Awaitable[Any]]:
    ctx = context(rt)
    return lambda cmd, who: use_case(cmd, who, rt.uow(), ctx)


def api(rt: Runtime) -> dict:
    return {
        "submit_report": _bind(handlers.submit_report, rt),
        "save_draft": _bind(handlers.save_draft, rt),
        "accept_report": _bind(handlers.accept_report, rt),
        "return_report": _bind(handlers.return_report, rt),
        "get_report": _bind(handlers.get_report, rt),
        "list_reports": _bind(handlers.list_reports, rt),
        "open_requirement": _bind(requirements.open_requirement, rt),
        "get_requirement": _bind(requirements.get_requirement, rt),
        "list_requirements": _bind(requirements.list_requirements, rt),
        "register_form": _bind(requirements.register_form, rt),
        "get_form": _bind(requirements.get_form, rt),
        "get_completeness": _bind(consolidating.get_completeness, rt),
        "consolidate": _bind(consolidating.consolidate_reports, rt),
    }


def subscriptions(rt: Runtime) -> list[Subscription]:
    ctx = context(rt)
    return [Subscription("plans", {
        **DIRECTORY_HANDLERS,
        plans_ev.PlanIssued: partial(requirements.on_plan_issued, ctx=ctx),
        plans_ev.PlanClosed: partial(requirements.on_plan_closed, ctx=ctx),
    })]


def background(rt: Runtime) -> list[Callable[[], Awaitable[None]]]:
    ctx = context(rt)
    scheduler = Scheduler(rt.uow, rt.clock, {
        "report_deadline_approaching": partial(requirements.on_deadline_approaching, ctx=ctx),
        "report_overdue": partial(requirements.on_overdue, ctx=ctx),
        requirements.ROLL: partial(requirements.on_roll, ctx=ctx),
    })
    rt.reports_scheduler = scheduler  # type: ignore[attr-defined]

    async def reports_scheduler() -> None:
        await scheduler.run()

    return [reports_scheduler]


DEFINITION = ServiceDefinition(name="reports", migrations=MIGRATIONS, api=api, subscriptions=subscriptions,
                               background=background, uow_class=ReportsUnitOfWork)


def main() -> None:
    run_service(DEFINITION, load_settings("reports"))
