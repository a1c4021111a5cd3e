"""Việc cần làm: the unit's tasks by urgency, its reports to send, the person's unread notices."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web.gateway import Problem
from services.web.pages.common import (
    ACTING,
    my_reports,
    open_tasks,
    received_by_me,
    report_link,
    reports_for_me,
    requirements,
    task_requirement,
)
from services.web.site import web_of


async def _quiet(coro: Any, default: Any) -> Any:
    try:
        return await coro
    except Problem:
        return default


async def home(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    today = web.clock.today()
    tasks, reqs, inbox, individual = await asyncio.gather(
        _quiet(open_tasks(web, s, today), []),
        _quiet(requirements(web, s), []),
        _quiet(web.call(s, "notify", "list_inbox", {"unread_only": True, "page": {"limit": 8}}), {"items": []}),
        _quiet(web.call(s, "plans", "get_individual_plan", {"person_id": s.person_id, "year": today.year}), None))
    mine = [q for q in reports_for_me(reqs, s) if not q.get("cutoff_date") or q["cutoff_date"] >= today.isoformat()]
    duties = await my_reports(web, s, sorted(mine, key=lambda q: q["due_date"]))
    waiting = await _waiting(web, s, [q for q in received_by_me(reqs, s)
                                      if not q.get("cutoff_date") or q["cutoff_date"] >= today.isoformat()])
    task_reports = {}
    for t in tasks:
        q = task_requirement(t, reqs)
        if q is not None:
            task_reports[t["occurrence_id"]] = report_link(q, s.unit_id)
    return await web.render(request, "home.html", {
        "tasks": tasks, "duties": duties, "waiting": waiting, "notices": inbox["items"], "individual": individual,
        "task_reports": task_reports, "report_link": lambda q: report_link(q, s.unit_id)}, session=s)


async def _waiting(web: Any, s: Any, reqs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], int]]:
    """Reports waiting for the person's level to accept or return them, per requirement."""
    if not s.roles & ACTING:
        return []

    async def one(q: dict[str, Any]) -> tuple[dict[str, Any], int]:
        receiving = q["receiving_unit_id"] if s.unit.get("kind") == "department" else s.unit_id
        page = await _quiet(web.call(s, "reports", "list_reports", {"requirement_id": q["requirement_id"],
                                                                   "receiving_unit_id": receiving,
                                                                   "status": "submitted", "limit": 1000}),
                            {"items": []})
        return q, len(page["items"])
    return [w for w in await asyncio.gather(*(one(q) for q in reqs)) if w[1]]


ROUTES = [Route("/", home, methods=["GET"])]
