"""Use cases of the plans service: plain async functions taking a command, the caller, a unit of
work and the service's configuration. Grouped by subject in the modules imported here; which
endpoint runs which is the composition root's table (services/plans/bootstrap.py)."""

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

__all__ = [
    "assess_individual_plan", "close_plan", "close_unit", "create_plan", "export_individual_plans", "get_individual_plan",
    "get_individual_plan_coverage", "get_plan", "get_rollup", "get_unit", "import_units", "issue_plan", "list_people",
    "list_plans", "list_tasks", "list_units", "merge_units", "move_unit", "on_deadline", "register_implementation_plan",
    "register_person", "register_unit", "revise_plan", "roll_plan", "submit_individual_plan", "update_person",
    "update_plan", "update_task",
]
