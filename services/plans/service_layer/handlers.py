"""Use cases of the plans service: plain async functions taking a command and a unit of work
(and the service's configuration). Grouped by subject in the modules imported here."""

from __future__ import annotations

from services.plans.service_layer.deadlines import on_deadline
from services.plans.service_layer.directory import (
    close_unit,
    get_unit,
    import_units,
    list_people,
    list_units,
    merge_units,
    move_unit,
    register_person,
    register_unit,
    update_person,
)
from services.plans.service_layer.individual import (
    assess_individual_plan,
    export_individual_plans,
    get_individual_plan,
    get_individual_plan_coverage,
    submit_individual_plan,
)
from services.plans.service_layer.plans import (
    close_plan,
    create_plan,
    get_plan,
    issue_plan,
    list_plans,
    register_implementation_plan,
    revise_plan,
    roll_plan,
    update_plan,
)
from services.plans.service_layer.tasks import get_rollup, list_tasks, update_task

# endpoint name -> use case (the entrypoint maps requests through this table)
ENDPOINT_HANDLERS = {
    "register_unit": register_unit,
    "register_person": register_person,
    "update_person": update_person,
    "move_unit": move_unit,
    "merge_units": merge_units,
    "close_unit": close_unit,
    "get_unit": get_unit,
    "list_units": list_units,
    "list_people": list_people,
    "import_units": import_units,
    "create_plan": create_plan,
    "update_plan": update_plan,
    "issue_plan": issue_plan,
    "revise_plan": revise_plan,
    "close_plan": close_plan,
    "get_plan": get_plan,
    "list_plans": list_plans,
    "list_tasks": list_tasks,
    "update_task": update_task,
    "register_implementation_plan": register_implementation_plan,
    "get_rollup": get_rollup,
    "submit_individual_plan": submit_individual_plan,
    "assess_individual_plan": assess_individual_plan,
    "get_individual_plan": get_individual_plan,
    "get_individual_plan_coverage": get_individual_plan_coverage,
    "export_individual_plans": export_individual_plans,
}

__all__ = ["ENDPOINT_HANDLERS", "on_deadline", "roll_plan", *ENDPOINT_HANDLERS]
