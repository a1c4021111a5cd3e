"""The composition root of the reports service: its settings and shared context (known forms, the
requirements cache) built once, and the tables the runtime serves — which endpoint runs which use
case, which event which handler, which reminder which job."""

from __future__ import annotations

from functools import partial
from typing import Any

from contracts.events import plans as plans_ev
from runtime.app import Runtime
from runtime.consumer import Subscription
from runtime.directory import DIRECTORY_HANDLERS
from runtime.scheduler import Scheduler
from runtime.wiring import Wiring, endpoints
from services.reports.service_layer import consolidating, reading, requirements, review, submission
from services.reports.service_layer.context import Context
from services.reports.settings import ReportsSettings

# endpoint → use case(cmd, who, uow, context)
ENDPOINTS: dict[str, Any] = {
    "submit_report": submission.submit_report,
    "save_draft": submission.save_draft,
    "accept_report": review.accept_report,
    "return_report": review.return_report,
    "reopen_report": review.reopen_report,
    "get_report": reading.get_report,
    "list_reports": reading.list_reports,
    "open_requirement": requirements.open_requirement,
    "get_requirement": requirements.get_requirement,
    "list_requirements": requirements.list_requirements,
    "register_form": requirements.register_form,
    "get_form": requirements.get_form,
    "get_completeness": consolidating.get_completeness,
    "consolidate": consolidating.consolidate_reports,
    "get_export": consolidating.get_export,
}


def bootstrap(rt: Runtime, settings: ReportsSettings | None = None) -> Wiring:
    ctx = Context((settings or ReportsSettings()).config(rt.settings.data_dir))
    scheduler = Scheduler(rt.uow, rt.clock, {
        "report_deadline_approaching": partial(requirements.on_deadline_approaching, ctx=ctx),
        "report_overdue": partial(requirements.on_overdue, ctx=ctx),
        requirements.ROLL: partial(requirements.on_roll, ctx=ctx),
    })
    return Wiring(
        endpoints=endpoints(ENDPOINTS, rt.uow, ctx),
        subscriptions=[Subscription("plans", {
            **DIRECTORY_HANDLERS,
            plans_ev.PlanIssued: partial(requirements.on_plan_issued, ctx=ctx),
            plans_ev.PlanClosed: partial(requirements.on_plan_closed, ctx=ctx),
        })],
        background=[scheduler.run],
        parts={"scheduler": scheduler, "context": ctx},
    )
