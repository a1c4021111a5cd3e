"""The composition root of the awards service: the tables the runtime serves — which endpoint runs
which use case, which event which handler — and the scheduler that opens each year's planned round
ahead of its window."""

from __future__ import annotations

from typing import Any

from contracts.events import plans as plans_ev
from contracts.events import reports as reports_ev
from runtime.app import Runtime
from runtime.consumer import Subscription
from runtime.directory import DIRECTORY_HANDLERS
from runtime.scheduler import Scheduler
from runtime.wiring import Wiring, endpoints
from services.awards.service_layer import handlers

# endpoint → use case(cmd, who, uow)
ENDPOINTS: dict[str, Any] = {
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


def subscriptions() -> list[Subscription]:
    """What awards consumes, built afresh for each runtime (tables are not shared between them)."""
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


def bootstrap(rt: Runtime) -> Wiring:
    scheduler = Scheduler(rt.uow, rt.clock, {handlers.OPEN_PLANNED_ROUND: handlers.open_planned_round})
    return Wiring(endpoints=endpoints(ENDPOINTS, rt.uow), subscriptions=subscriptions(), background=[scheduler.run],
                  parts={"scheduler": scheduler})
