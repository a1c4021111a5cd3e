"""Kế hoạch: plans visible to the person, a plan with its sections, items, timings and who is
responsible; issue a draft and revise an issued plan (the issuer's leaders); register the unit's
implementation plan; the unit's task occurrences, updated in progress / done with evidence."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web.gateway import Problem
from services.web.pages.common import ACTING, LEADERS, urgency
from services.web.site import redirect, web_of


async def plans_list(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    page = await web.call(s, "plans", "list_plans", {"page": {"limit": 100}})
    return await web.render(request, "plans.html", {"plans": page["items"], "can_draft": bool(s.roles & LEADERS)},
                            session=s)


def _skeleton(s: Any, today: date) -> dict[str, Any]:
    return {"number": "…/KH-…", "number_is_placeholder": True, "title": "Kế hoạch …", "issuer_unit_id": s.unit_id,
            "issuer_name": s.unit.get("name"), "first_year": today.year,
            "sections": [{"code": "I", "title": "MỤC ĐÍCH, YÊU CẦU", "paragraphs": ["…"], "items": []},
                         {"code": "II", "title": "NỘI DUNG, NHIỆM VỤ", "paragraphs": [], "items": [
                             {"item_id": "II.1", "content": "…", "output": "report",
                              "responsible": [{"kind": "units_of_kind", "unit_kinds": ["grassroots_union"]}],
                              "timing_text": "trước ngày 30/11 hằng năm"}]}],
            "recipients": [], "signed_by": {}}


async def draft_form(request: Request, *, problem: Problem | None = None, text: str | None = None,
                     status: int = 200) -> Response:
    """A new draft: the document as JSON, from a skeleton or from a parent plan (?from=)."""
    web = web_of(request)
    s = web.require(request)
    source = request.query_params.get("from")
    if text is None:
        doc = _skeleton(s, web.clock.today())
        if source:
            parent = await web.call(s, "plans", "get_plan", {"plan_id": source})
            doc = {**parent["document"], "issuer_unit_id": s.unit_id, "issuer_name": s.unit.get("name"),
                   "parent_plan_id": source, "number": "…/KH-…", "number_is_placeholder": True, "issued_on": None}
        text = json.dumps(doc, ensure_ascii=False, indent=2)
    return await web.render(request, "plan_new.html", {"text": text, "problem": problem, "source": source},
                            session=s, status=status)


async def create_draft(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    text = str(form.get("document") or "")
    try:
        document = json.loads(text)
    except ValueError as exc:
        return await draft_form(request, text=text, status=422, problem=Problem(
            f"Nội dung kế hoạch không đúng định dạng JSON: {exc}", "validation_error", {"document": str(exc)}, 422))
    try:
        plan = await web.call(s, "plans", "create_plan", {"document": document})
    except Problem as p:
        return await draft_form(request, text=text, problem=p, status=p.status)
    s.flash("Đã lưu dự thảo kế hoạch; kiểm tra lại rồi ban hành.")
    return redirect(f"/plans/{plan['plan_id']}")


async def update_draft(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    plan_id = request.path_params["plan_id"]
    try:
        document = json.loads(str(form.get("document") or ""))
    except ValueError as exc:
        return await plan_view(request, problem=Problem(f"Nội dung kế hoạch không đúng định dạng JSON: {exc}",
                                                        "validation_error", {"document": str(exc)}, 422), status=422)
    try:
        await web.call(s, "plans", "update_plan", {"plan_id": plan_id, "document": document})
    except Problem as p:
        return await plan_view(request, problem=p, status=p.status)
    s.flash("Đã lưu dự thảo.")
    return redirect(f"/plans/{plan_id}")


async def tasks(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    today = web.clock.today()
    year = int(request.query_params.get("year") or today.year)
    body: dict[str, Any] = {"unit_id": s.unit_id, "year": year, "page": {"limit": 500}}
    if category := request.query_params.get("category"):
        body["category"] = category
    page = await web.call(s, "plans", "list_tasks", body)
    return await web.render(request, "tasks.html", {"tasks": urgency(page["items"]), "year": year,
                                                    "category": category, "total": page["total"]}, session=s)


async def plan_view(request: Request, *, problem: Problem | None = None, status: int = 200) -> Response:
    web = web_of(request)
    s = web.require(request)
    plan_id = request.path_params["plan_id"]
    body: dict[str, Any] = {"plan_id": plan_id}
    if rev := request.query_params.get("revision"):
        body["revision"] = int(rev)
    plan = await web.call(s, "plans", "get_plan", body)
    today = web.clock.today()
    # Progress of the subtree for units that have one (a grassroots union sees its own tasks).
    subtree = s.unit.get("kind") not in ("grassroots_union", "department")
    mine, rollup = await asyncio.gather(
        web.call(s, "plans", "list_tasks", {"unit_id": s.unit_id, "plan_id": plan_id, "year": today.year,
                                            "page": {"limit": 200}}),
        _quiet(web.call(s, "plans", "get_rollup", {"plan_id": plan_id, "root_unit_id": s.unit_id, "year": today.year,
                                                   "by_child": True}, timeout=60)) if subtree else _none())
    issuer = plan["issuer_unit_id"] == s.unit_id and bool(s.roles & LEADERS)
    child = plan["status"] == "issued" and s.unit.get("parent_id") == plan["issuer_unit_id"] and bool(s.roles & ACTING)
    return await web.render(request, "plan.html", {
        "plan": plan, "doc": plan["document"], "tasks": urgency(mine["items"]), "rollup": rollup,
        "can_issue": issuer and plan["status"] == "draft", "can_revise": issuer and plan["status"] == "issued",
        "can_edit": issuer and plan["status"] in ("draft", "issued") and "revision" not in request.query_params,
        "new_ids": _new_ids(plan["document"]),
        "can_register": child, "problem": problem, "year": today.year,
        "can_implement": plan["status"] == "issued" and bool(s.roles & LEADERS) and plan["issuer_unit_id"] != s.unit_id,
        "document_json": json.dumps(plan["document"], ensure_ascii=False, indent=2)}, session=s, status=status)


async def _none() -> None:
    return None


async def _quiet(coro: Any) -> Any:
    try:
        return await coro
    except Problem:
        return None


async def issue(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    await web.form(request, s)
    plan_id = request.path_params["plan_id"]
    try:
        reply = await web.call(s, "plans", "issue_plan", {"plan_id": plan_id}, timeout=600)
    except Problem as p:
        return await plan_view(request, problem=p, status=p.status)
    s.flash(f"Đã ban hành kế hoạch: {reply['occurrences']} nhiệm vụ cho {reply['units']} đơn vị.")
    return redirect(f"/plans/{plan_id}")


async def revise(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    plan_id = request.path_params["plan_id"]
    try:
        document = json.loads(str(form.get("document") or ""))
    except ValueError as exc:
        return await plan_view(request, problem=Problem(f"Nội dung kế hoạch không đúng định dạng JSON: {exc}",
                                                        "validation_error", {"document": str(exc)}, 422), status=422)
    body: dict[str, Any] = {"plan_id": plan_id, "document": document}
    if note := str(form.get("note") or "").strip():
        body["note"] = note
    try:
        reply = await web.call(s, "plans", "revise_plan", body, timeout=600)
    except Problem as p:
        return await plan_view(request, problem=p, status=p.status)
    s.flash(f"Đã ban hành sửa đổi lần {reply['revision']}: {reply['changed']} nhiệm vụ thay đổi, "
            f"{reply['withdrawn']} nhiệm vụ rút lại, {reply['occurrences']} nhiệm vụ mới.")
    return redirect(f"/plans/{plan_id}")


async def register(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    plan_id = request.path_params["plan_id"]
    body: dict[str, Any] = {"unit_id": s.unit_id, "parent_plan_id": plan_id,
                            "number": str(form.get("number") or "").strip()}
    for key in ("title", "link"):
        if v := str(form.get(key) or "").strip():
            body[key] = v
    if v := str(form.get("registered_on") or "").strip():
        body["registered_on"] = v
    if not body["number"]:
        return await plan_view(request, problem=Problem("Đề nghị nhập số kế hoạch của đơn vị.", "validation_error",
                                                        {"number": "Cần số kế hoạch."}, 422), status=422)
    try:
        reply = await web.call(s, "plans", "register_implementation_plan", body)
    except Problem as p:
        return await plan_view(request, problem=p, status=p.status)
    s.flash(f"Đã đăng ký kế hoạch thực hiện số {reply['number']} năm {reply['year']}"
            + (" (đúng hạn)." if reply["on_time"] else " (trễ hạn)."))
    return redirect(f"/plans/{plan_id}")


async def _task(web: Any, s: Any, plan_id: str, occurrence_id: str) -> dict[str, Any]:
    page = await web.call(s, "plans", "list_tasks", {"unit_id": s.unit_id, "plan_id": plan_id, "page": {"limit": 500}})
    for t in page["items"]:
        if t["occurrence_id"] == occurrence_id:
            return dict(t)
    raise Problem("Không tìm thấy nhiệm vụ này trong các nhiệm vụ của đơn vị.", "not_found", status=404)


async def task_view(request: Request, *, problem: Problem | None = None, status: int = 200) -> Response:
    web = web_of(request)
    s = web.require(request)
    plan_id, occ = request.path_params["plan_id"], request.path_params["occurrence_id"]
    task, plan = await asyncio.gather(_task(web, s, plan_id, occ), web.call(s, "plans", "get_plan", {"plan_id": plan_id}))
    return await web.render(request, "task.html", {"t": task, "plan": plan, "problem": problem,
                                                   "can_update": bool(s.roles & ACTING)}, session=s, status=status)


async def task_update(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    plan_id, occ = request.path_params["plan_id"], request.path_params["occurrence_id"]
    status = "done" if form.get("status") == "done" else "in_progress"
    body: dict[str, Any] = {"occurrence_id": occ, "status": status}
    evidence = "\n".join(v for v in (str(form.get("evidence") or "").strip(), str(form.get("link") or "").strip()) if v)
    if evidence:
        body["evidence"] = evidence
    if status == "done":
        if not evidence:
            return await task_view(request, status=422, problem=Problem(
                "Đề nghị ghi kết quả hoặc đường dẫn minh chứng khi báo hoàn thành.", "validation_error",
                {"evidence": "Cần ghi minh chứng."}, 422))
        if v := str(form.get("done_on") or "").strip():
            try:
                body["done_on"] = date.fromisoformat(v).isoformat()
            except ValueError:
                return await task_view(request, status=422, problem=Problem(
                    "Ngày hoàn thành không hợp lệ.", "validation_error", {"done_on": "Ngày không hợp lệ."}, 422))
    try:
        await web.call(s, "plans", "update_task", body)
    except Problem as p:
        return await task_view(request, problem=p, status=p.status)
    s.flash("Đã cập nhật nhiệm vụ: " + ("hoàn thành." if status == "done" else "đang thực hiện."))
    return redirect(f"/plans/{plan_id}/tasks/{occ}")


# --- editing one item without JSON ---------------------------------------------------------------

PRESET_PARTIES: list[dict[str, Any]] = [
    {"kind": "units_of_kind", "unit_kinds": ["upper_level_union", "grassroots_union"], "under": "issuer"},
    {"kind": "units_of_kind", "unit_kinds": ["upper_level_union"], "under": "issuer"},
    {"kind": "units_of_kind", "unit_kinds": ["grassroots_union"], "under": "issuer"},
    {"kind": "issuer"},
    {"kind": "department", "code": "BAN_TGNC"},
    {"kind": "department", "code": "BAN_TCKT"},
    {"kind": "department", "code": "VAN_PHONG"},
    {"kind": "people_of_role", "roles": ["executive_member", "head_of_unit"], "under": "issuer"},
]
OUTPUTS = ["activity", "report", "plan", "conference", "regulation", "guidance", "posts", "award_round",
           "individual_plan"]


def _key(p: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in p.items() if v not in (None, [], "")}, ensure_ascii=False, sort_keys=True)


def _new_ids(doc: dict[str, Any]) -> dict[str, str]:
    """An unused item id per section, for "add an item"."""
    used = {it.get("item_id") for sec in doc.get("sections") or [] for it in sec.get("items") or []}
    out = {}
    for sec in doc.get("sections") or []:
        n = len(sec.get("items") or []) + 1
        while f"{sec['code']}.{n}" in used:
            n += 1
        out[sec["code"]] = f"{sec['code']}.{n}"
    return out


def _find(doc: dict[str, Any], item_id: str) -> tuple[dict[str, Any], int] | None:
    for sec in doc.get("sections") or []:
        for i, it in enumerate(sec.get("items") or []):
            if it.get("item_id") == item_id:
                return sec, i
    return None


async def item_form(request: Request, *, problem: Problem | None = None, status: int = 200) -> Response:
    web = web_of(request)
    s = web.require(request)
    plan_id, item_id = request.path_params["plan_id"], request.path_params["item_id"]
    plan = await web.call(s, "plans", "get_plan", {"plan_id": plan_id})
    if plan["issuer_unit_id"] != s.unit_id or not s.roles & LEADERS or plan["status"] == "closed":
        raise Problem("Chỉ lãnh đạo đơn vị ban hành sửa được kế hoạch này.", "forbidden", status=403)
    doc = plan["document"]
    section = request.query_params.get("section")
    found = _find(doc, item_id)
    item = found[0]["items"][found[1]] if found else {"item_id": item_id, "content": "", "responsible": [],
                                                       "output": "activity", "timing_text": ""}
    current = {_key(p): p for p in item.get("responsible") or []}
    presets = [(k, p) for p in PRESET_PARTIES if (k := _key(p)) not in current]
    return await web.render(request, "plan_item.html", {
        "plan": plan, "item": item, "current": list(current.items()), "presets": presets, "outputs": OUTPUTS,
        "new": found is None, "section": section, "problem": problem,
        "sections": [sec["code"] for sec in doc.get("sections") or []]}, session=s, status=status)


async def item_save(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    plan_id, item_id = request.path_params["plan_id"], request.path_params["item_id"]
    plan = await web.call(s, "plans", "get_plan", {"plan_id": plan_id})
    doc = plan["document"]
    found = _find(doc, item_id)
    delete = form.get("action") == "delete"
    if delete:
        if found is None:
            raise Problem("Không tìm thấy mục này.", "not_found", status=404)
        del found[0]["items"][found[1]]
        what = f"bỏ mục {item_id}"
    else:
        content = str(form.get("content") or "").strip()
        parties = []
        for raw in form.getlist("party"):
            try:
                parties.append(json.loads(str(raw)))
            except ValueError:
                continue
        missing = {**({"content": "Cần ghi nội dung."} if not content else {}),
                   **({"party": "Cần chọn ít nhất một đơn vị, bộ phận thực hiện."} if not parties else {})}
        if missing:
            return await item_form(request, status=422, problem=Problem(
                "Đề nghị ghi nội dung và chọn đơn vị thực hiện.", "validation_error", missing, 422))
        item = dict(found[0]["items"][found[1]]) if found else {"item_id": item_id, "reports_to": [], "see_also": []}
        timing_text = str(form.get("timing_text") or "").strip()
        if timing_text != (item.get("timing_text") or ""):
            item.pop("timing", None)  # plans reads the new words again
        item.update({"content": content, "responsible": parties, "timing_text": timing_text or None,
                     "output": str(form.get("output") or "activity")})
        if found:
            found[0]["items"][found[1]] = item
            what = f"sửa mục {item_id}"
        else:
            code = str(form.get("section") or "")
            sec = next((x for x in doc.get("sections") or [] if x["code"] == code), None)
            if sec is None:
                raise Problem("Không tìm thấy phần của kế hoạch để thêm mục.", "not_found", status=404)
            sec.setdefault("items", []).append(item)
            what = f"thêm mục {item_id}"
    try:
        if plan["status"] == "draft":
            await web.call(s, "plans", "update_plan", {"plan_id": plan_id, "document": doc})
            s.flash(f"Đã lưu dự thảo: {what}.")
        else:
            reply = await web.call(s, "plans", "revise_plan", {"plan_id": plan_id, "document": doc,
                                                               "note": str(form.get("note") or "").strip() or what.capitalize()},
                                   timeout=600)
            s.flash(f"Đã ban hành sửa đổi lần {reply['revision'] - 1} ({what}): {reply['changed']} nhiệm vụ "
                    f"thay đổi, {reply['withdrawn']} rút lại, {reply['occurrences']} nhiệm vụ mới.")
    except Problem as p:
        if delete:
            raise
        return await item_form(request, problem=p, status=p.status)
    return redirect(f"/plans/{plan_id}")


ROUTES = [
    Route("/plans/{plan_id}/items/{item_id}", item_form, methods=["GET"]),
    Route("/plans/{plan_id}/items/{item_id}", item_save, methods=["POST"]),
    Route("/plans", plans_list, methods=["GET"]),
    Route("/plans/new", draft_form, methods=["GET"]),
    Route("/plans/new", create_draft, methods=["POST"]),
    Route("/plans/tasks", tasks, methods=["GET"]),
    Route("/plans/{plan_id}/draft", update_draft, methods=["POST"]),
    Route("/plans/{plan_id}", plan_view, methods=["GET"]),
    Route("/plans/{plan_id}/issue", issue, methods=["POST"]),
    Route("/plans/{plan_id}/revise", revise, methods=["POST"]),
    Route("/plans/{plan_id}/implementation", register, methods=["POST"]),
    Route("/plans/{plan_id}/tasks/{occurrence_id}", task_view, methods=["GET"]),
    Route("/plans/{plan_id}/tasks/{occurrence_id}", task_update, methods=["POST"]),
]
