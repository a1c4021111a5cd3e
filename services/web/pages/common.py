"""What several pages need: the person's unit's report duties, tasks in the order of urgency."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from services.web.gateway import Problem
from services.web.sessions import Session
from services.web.site import Web

LEADERS = {"chairperson", "executive_member", "head_of_unit"}
ACTING = LEADERS | {"cadre"}
# Kinds of unit whose reports a level receives from below it (the receiving level is the parent).
BELOW = {"national_federation": {"provincial_federation"},
         "provincial_federation": {"upper_level_union", "grassroots_union", "affiliated_unit"},
         "upper_level_union": {"grassroots_union"}}


def urgency(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Not done first; overdue first, then by due date (no due date last)."""
    return sorted(tasks, key=lambda t: (t["status"] == "done", t["category"] != "overdue",
                                        t.get("due_date") or "9999-12-31", t.get("item_id") or ""))


async def open_tasks(web: Web, s: Session, today: date, limit: int = 500) -> list[dict[str, Any]]:
    """The unit's tasks not done: overdue ones of any year, those due within a year, and the
    ongoing ones of this year."""
    page = await web.call(s, "plans", "list_tasks", {"unit_id": s.unit_id, "page": {"limit": limit}})
    horizon = date(today.year + 1, today.month, min(today.day, 28)).isoformat()
    keep = [t for t in page["items"] if t["status"] != "done" and (
        t["category"] == "overdue" or (t.get("due_date") and t["due_date"] <= horizon)
        or (not t.get("due_date") and t["period"].startswith(str(today.year))))]
    return urgency(keep)


async def requirements(web: Web, s: Session, limit: int = 200) -> list[dict[str, Any]]:
    page = await web.call(s, "reports", "list_requirements", {"limit": limit})
    return list(page["items"])


def reports_for_me(reqs: list[dict[str, Any]], s: Session) -> list[dict[str, Any]]:
    """Requirements the person's unit must answer (its kind is asked, and it is not the issuer)."""
    kind = s.unit.get("kind")
    return [q for q in reqs if kind in q["reporting_kinds"] and q["issuer_unit_id"] != s.unit_id]


def received_by_me(reqs: list[dict[str, Any]], s: Session) -> list[dict[str, Any]]:
    """Requirements whose reports the person's unit receives or follows (it issued them, it is the
    receiving unit, or it is the receiving unit's department named for it)."""
    mine = {s.unit_id}
    parent = s.unit.get("parent_id")
    below = BELOW.get(str(s.unit.get("kind")), set())
    out = []
    for q in reqs:
        if q["issuer_unit_id"] in mine or q["receiving_unit_id"] in mine:
            out.append(q)
        elif below & set(q["reporting_kinds"]):  # e.g. an upper-level union receives its grassroots unions'
            out.append(q)
        elif s.unit.get("kind") == "department" and q["receiving_unit_id"] == parent and q.get("receiving_department") \
                and _same(q["receiving_department"], s.unit.get("name", "")):
            out.append(q)
    return out


def _same(a: str, b: str) -> bool:
    import unicodedata
    norm = lambda t: " ".join(unicodedata.normalize("NFC", t).lower().replace("-", " ").split())  # noqa: E731
    return norm(a) in norm(b) or norm(b) in norm(a)


async def my_report(web: Web, s: Session, requirement_id: str) -> dict[str, Any] | None:
    page = await web.call(s, "reports", "list_reports", {"requirement_id": requirement_id, "unit_id": s.unit_id,
                                                         "limit": 1})
    return page["items"][0] if page["items"] else None


async def my_reports(web: Web, s: Session, reqs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Any]]:
    async def one(q: dict[str, Any]) -> Any:
        try:
            return await my_report(web, s, q["requirement_id"])
        except Problem:
            return None
    found = await asyncio.gather(*(one(q) for q in reqs))
    return list(zip(reqs, found))


def report_link(requirement: dict[str, Any], unit_id: str) -> str:
    return f"/reports/requirements/{requirement['requirement_id']}/{requirement['period']}/{unit_id}"


def task_requirement(task: dict[str, Any], reqs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The reporting requirement a "send the report" task of a plan opened, if any."""
    for q in reqs:
        if q.get("source_plan_id") == task["plan_id"] and q.get("source_item_id") == task["item_id"] \
                and q["period"] == task["period"]:
            return q
    return None

