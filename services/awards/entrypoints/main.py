"""Process entry point of the awards service: `python -m services.awards`.

Which endpoints and event types map to which use cases, and the scheduler that opens each year's
planned round ahead of its window."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from contracts.events import plans as plans_ev
from contracts.events import reports as reports_ev
from runtime.app import Runtime, ServiceDefinition, run_service
from runtime.consumer import Subscription
from runtime.directory import DIRECTORY_HANDLERS
from runtime.scheduler import Scheduler
from runtime.settings import load_settings
from services.awards.service_layer import handlers
from services.awards.service_layer.unit_of_work import AwardsUnitOfWork

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

ENDPOINTS: dict[str, Callable[[Any, Any, AwardsUnitOfWork], Awaitable[Any]]] = {
    "get_eligibility": handlers.get_eligibility,
    "check_eligibility": handlers.check_eligibility,
    "list_award_forms": handlers.list_award_forms,
    "open_round": handlers.open_round,
    "set_round_quotas": handlers.set_round_quotas,
    "get_round": handlers.get_round,
    "list_rounds": handlers.list_rounds,
    "submit_nomination": handlers.submit_nomination,
    "withdraw_nomination": handlers.withdraw_nomination,
    "forward_nominations": handlers.forward_nominations,
    "list_nominations": handlers.list_nominations,
    "record_council_result": handlers.record_council_result,
    "issue_decision": handlers.issue_decision,
    "register_exemplary_model": handlers.register_exemplary_model,
    "list_exemplary_models": handlers.list_exemplary_models,
    "get_award_history": handlers.get_award_history,
}


def api(rt: Runtime) -> dict:
    def bind(use_case: Callable[[Any, Any, AwardsUnitOfWork], Awaitable[Any]]) -> Callable[[Any, Any], Awaitable[Any]]:
        return lambda request, who: use_case(request, who, rt.uow())  # type: ignore[arg-type]

    return {name: bind(use_case) for name, use_case in ENDPOINTS.items()}


def subscriptions(rt: Runtime) -> list[Subscription]:
    return [
        Subscription("reports", {
            reports_ev.ReportSubmitted: handlers.on_report_submitted,
            reports_ev.ReportReturned: handlers.on_report_returned,
            reports_ev.ReportAccepted: handlers.on_report_accepted,
        }),
        Subscription("plans", {
            **DIRECTORY_HANDLERS,
            plans_ev.IndividualPlanAssessed: handlers.on_individual_plan_assessed,
            plans_ev.PlanIssued: handlers.on_plan_issued,
            plans_ev.PlanClosed: handlers.on_plan_closed,
        }),
    ]


def background(rt: Runtime) -> list[Callable[[], Awaitable[None]]]:
    scheduler = Scheduler(rt.uow, rt.clock, {handlers.OPEN_PLANNED_ROUND: handlers.open_planned_round})  # type: ignore[dict-item]
    return [scheduler.run]


DEFINITION = ServiceDefinition(name="awards", migrations=MIGRATIONS, api=api, subscriptions=subscriptions,
                               background=background, uow_class=AwardsUnitOfWork)


def main() -> None:
    run_service(DEFINITION, load_settings("awards"))
