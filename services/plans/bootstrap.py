"""The composition root of the plans service: its settings, identity and scheduler built once, and
the tables the runtime serves — which endpoint runs which use case, with what."""

from __future__ import annotations

from functools import partial
from typing import Any

from contracts.events import reports as reports_ev
from runtime.app import Runtime
from runtime.auth import ClientRegistry, TokenIssuer
from runtime.consumer import Subscription
from runtime.scheduler import Scheduler
from runtime.wiring import Wiring, endpoints
from services.plans.service_layer import handlers as h
from services.plans.service_layer import logins, report_tasks
from services.plans.service_layer.logins import Identity
from services.plans.settings import PlansSettings

# endpoint → use case(cmd, who, uow, config)
ENDPOINTS: dict[str, Any] = {
    "register_unit": h.register_unit,
    "register_person": h.register_person,
    "update_person": h.update_person,
    "move_unit": h.move_unit,
    "merge_units": h.merge_units,
    "close_unit": h.close_unit,
    "get_unit": h.get_unit,
    "list_units": h.list_units,
    "list_people": h.list_people,
    "import_units": h.import_units,
    "create_plan": h.create_plan,
    "update_plan": h.update_plan,
    "issue_plan": h.issue_plan,
    "revise_plan": h.revise_plan,
    "close_plan": h.close_plan,
    "get_plan": h.get_plan,
    "list_plans": h.list_plans,
    "list_tasks": h.list_tasks,
    "update_task": h.update_task,
    "register_implementation_plan": h.register_implementation_plan,
    "get_rollup": h.get_rollup,
    "submit_individual_plan": h.submit_individual_plan,
    "assess_individual_plan": h.assess_individual_plan,
    "get_individual_plan": h.get_individual_plan,
    "get_individual_plan_coverage": h.get_individual_plan_coverage,
    "export_individual_plans": h.export_individual_plans,
}

# endpoint → use case(cmd, who, uow, identity): plans signs the access tokens
LOGIN_ENDPOINTS: dict[str, Any] = {
    "login": logins.login,
    "refresh_token": logins.refresh_token,
    "logout": logins.logout,
    "change_password": logins.change_password,
    "set_login": logins.set_login,
    "reset_password": logins.reset_password,
    "get_login": logins.get_login,
    "service_token": logins.service_token,
    "whoami": logins.whoami,
}


def subscriptions() -> list[Subscription]:
    """What plans consumes: reports' events on the reports its plan items ask for (a task "send the
    report" done when the unit sends it, back in progress when it is returned)."""
    return [
        Subscription("reports", {
            reports_ev.RequirementOpened: report_tasks.on_requirement_opened,
            reports_ev.ReportSubmitted: report_tasks.on_report_submitted,
            reports_ev.ReportReturned: report_tasks.on_report_returned,
            reports_ev.ReportAccepted: report_tasks.on_report_accepted,
        }),
    ]


def identity(rt: Runtime) -> Identity:
    """The private key that signs access tokens, and the machine identities plans accepts."""
    s = rt.settings
    return Identity(TokenIssuer(s.signing_key_path, issuer=s.auth_issuer, audience=s.auth_audience,
                                ttl_s=s.auth_access_ttl_s),
                    ClientRegistry(s.clients_path), s.auth_refresh_ttl_s)


def bootstrap(rt: Runtime, settings: PlansSettings | None = None) -> Wiring:
    cfg = (settings or PlansSettings()).config()
    scheduler = Scheduler(rt.uow, rt.clock, {
        "deadline": h.on_deadline,
        "plan_roll": partial(h.roll_plan, cfg=cfg),
    })
    return Wiring(
        endpoints={**endpoints(ENDPOINTS, rt.uow, cfg), **endpoints(LOGIN_ENDPOINTS, rt.uow, identity(rt))},
        subscriptions=subscriptions(),
        background=[scheduler.run],
        parts={"scheduler": scheduler},
    )
