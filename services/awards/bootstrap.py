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
from services.awards.service_layer import decisions, eligibility, exemplary, nominations, planned_rounds, rounds

# endpoint → use case(cmd, who, uow)
ENDPOINTS: dict[str, Any] = {
    "get_eligibility": eligibility.get_eligibility,
    "check_eligibility": eligibility.check_eligibility,
    "list_award_forms": rounds.list_award_forms,
    "open_round": rounds.open_round,
    "set_round_quotas": rounds.set_round_quotas,
    "get_round": rounds.get_round,
    "list_rounds": rounds.list_rounds,
    "submit_nomination": nominations.submit_nomination,
    "withdraw_nomination": nominations.withdraw_nomination,
    "forward_nominations": nominations.forward_nominations,
    "list_nominations": nominations.list_nominations,
    "record_council_result": decisions.record_council_result,
    "issue_decision": decisions.issue_decision,
    "register_exemplary_model": exemplary.register_exemplary_model,
    "list_exemplary_models": exemplary.list_exemplary_models,
    "get_award_history": exemplary.get_award_history,
}


def subscriptions() -> list[Subscription]:
    """What awards consumes, built afresh for each runtime (tables are not shared between them)."""
    return [
        Subscription("reports", {
            reports_ev.ReportSubmitted: eligibility.on_report_submitted,
            reports_ev.ReportReturned: eligibility.on_report_returned,
            reports_ev.ReportAccepted: eligibility.on_report_accepted,
        }),
        Subscription("plans", {
            **DIRECTORY_HANDLERS,
            plans_ev.IndividualPlanAssessed: eligibility.on_individual_plan_assessed,
            plans_ev.PlanIssued: planned_rounds.on_plan_issued,
            plans_ev.PlanClosed: planned_rounds.on_plan_closed,
        }),
    ]


def bootstrap(rt: Runtime) -> Wiring:
    scheduler = Scheduler(rt.uow, rt.clock, {planned_rounds.OPEN_PLANNED_ROUND: planned_rounds.open_planned_round})
    return Wiring(endpoints=endpoints(ENDPOINTS, rt.uow), subscriptions=subscriptions(), background=[scheduler.run],
                  parts={"scheduler": scheduler})
