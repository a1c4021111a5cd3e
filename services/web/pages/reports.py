"""Báo cáo: the unit's report (the form drawn from its definition, draft, submit, resubmit after a
return), the receiving side (received reports, accept / return with a comment), completeness
and timeliness per subtree, consolidation and its downloads."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from services.web import forms
from services.web.gateway import Problem
from services.web.pages.common import ACTING, my_reports, received_by_me, report_link, reports_for_me, requirements
from services.web.sessions import Session
from services.web.site import Web, redirect, web_of


async def overview(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    reqs = await requirements(web, s)
    duties = await my_reports(web, s, sorted(reports_for_me(reqs, s), key=lambda q: q["due_date"], reverse=True))
    received = sorted(received_by_me(reqs, s), key=lambda q: q["due_date"], reverse=True)
    return await web.render(request, "reports.html", {
        "duties": duties, "received": received, "report_link": lambda q: report_link(q, s.unit_id)}, session=s)


async def _form_of(web: Web, s: Session, req: dict[str, Any]) -> tuple[dict[str, Any], list[forms.Field]]:
    form = await web.call(s, "reports", "get_form", {"form_id": req["form_id"], "version": req["form_version"]})
    return form, forms.fields_of(form["definition"])


async def _unit_name(web: Web, s: Session, unit_id: str) -> str:
    if unit_id == s.unit_id:
        return str(s.unit.get("name") or unit_id)
    try:
        return str((await web.call(s, "plans", "get_unit", {"unit_id": unit_id}))["name"])
    except Problem:
        return unit_id


async def unit_report(request: Request, *, values: dict[str, Any] | None = None, problem: Problem | None = None,
                      status: int = 200) -> Response:
    web = web_of(request)
    s = web.require(request)
    rid, period, unit_id = (request.path_params[k] for k in ("rid", "period", "unit"))
    req = await web.call(s, "reports", "get_requirement", {"requirement_id": rid})
    (form, fields), summary = await asyncio.gather(
        _form_of(web, s, req),
        web.call(s, "reports", "list_reports", {"requirement_id": rid, "unit_id": unit_id, "limit": 1}))
    report = None
    if summary["items"]:
        report = await web.call(s, "reports", "get_report", {"report_id": summary["items"][0]["report_id"]})
    status_now = report["status"] if report else None
    editable = unit_id == s.unit_id and status_now in (None, "draft", "returned") and bool(s.roles & ACTING)
    if values is None and report is not None:
        values = report.get("draft_values") or report.get("values") or {}
    errors, other = forms.errors_at(problem.fields if problem else {})
    return await web.render(request, "report_form.html", {
        "req": req, "form": form, "fields": fields, "report": report, "values": forms.shown(fields, values),
        "raw_values": values or {}, "share": forms.share, "editable": editable, "errors": errors,
        "other_errors": other, "problem": problem, "unit_id": unit_id, "period": period,
        "unit_name": await _unit_name(web, s, unit_id), "attempt": f"r-{uuid.uuid4().hex}",
        "can_resubmit_only": status_now == "returned"}, session=s, status=status)


async def save_report(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    rid, period, unit_id = (request.path_params[k] for k in ("rid", "period", "unit"))
    req = await web.call(s, "reports", "get_requirement", {"requirement_id": rid})
    _, fields = await _form_of(web, s, req)
    values = forms.values_from(fields, form)
    action = str(form.get("action") or "draft")
    attempt = str(form.get("attempt") or "") or None
    body = {"requirement_id": rid, "period": period, "unit_id": unit_id, "values": values}
    try:
        if action == "submit":
            receipt = await web.call(s, "reports", "submit_report", {**body, "report_id": attempt})
            when = "đúng hạn" if receipt["on_time"] else "trễ hạn"
            s.flash(f"Đã gửi báo cáo (lần {receipt['revision']}, {when}). Cấp trên sẽ xem xét và phản hồi.")
        else:
            draft = await web.call(s, "reports", "save_draft", body)
            s.flash("Đã lưu bản nháp." + (f" Còn {len(draft['problems'])} điểm cần hoàn thiện trước khi gửi."
                                          if draft["problems"] else " Báo cáo đã đủ để gửi."))
    except Problem as p:
        if p.code in ("validation_error",):
            return await unit_report(request, values=values, problem=p, status=422)
        raise
    return redirect(request.url.path)


# --- a report as the receiving side sees it -------------------------------------------------------

def _can_review(s: Session, report: dict[str, Any], req: dict[str, Any]) -> bool:
    if not s.roles & ACTING:
        return False
    receiving = report.get("receiving_unit_id")
    if s.unit_id == receiving:
        return True
    return (s.unit.get("kind") == "department" and s.unit.get("parent_id") == receiving
            and req.get("receiving_unit_id") == receiving and bool(req.get("receiving_department")))


async def report_view(request: Request, *, problem: Problem | None = None, status: int = 200) -> Response:
    web = web_of(request)
    s = web.require(request)
    report = await web.call(s, "reports", "get_report", {"report_id": request.path_params["report_id"]})
    req = await web.call(s, "reports", "get_requirement", {"requirement_id": report["requirement_id"]})
    form, fields = await _form_of(web, s, req)
    names = {report["unit_id"]: await _unit_name(web, s, report["unit_id"])}
    for h in report["history"]:
        if h["by_unit_id"] not in names:
            names[h["by_unit_id"]] = await _unit_name(web, s, h["by_unit_id"])
    return await web.render(request, "report_view.html", {
        "report": report, "req": req, "form": form, "fields": fields, "values": report.get("values") or {},
        "share": forms.share, "names": names, "can_review": _can_review(s, report, req), "problem": problem,
        "own": report["unit_id"] == s.unit_id,
        "own_link": report_link(req, report["unit_id"])}, session=s, status=status)


async def review(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    report_id = request.path_params["report_id"]
    action = request.path_params["action"]
    comment = str(form.get("comment") or "").strip()
    try:
        if action == "accept":
            await web.call(s, "reports", "accept_report", {"report_id": report_id, "comment": comment or None})
            s.flash("Đã tiếp nhận báo cáo.")
        elif action == "return":
            if not comment:
                raise Problem("Đề nghị ghi rõ nội dung đơn vị cần sửa, bổ sung.", "validation_error",
                              {"comment": "Cần ghi nội dung yêu cầu sửa."}, 422)
            await web.call(s, "reports", "return_report", {"report_id": report_id, "comment": comment})
            s.flash("Đã trả lại báo cáo kèm ý kiến; đơn vị sẽ được thông báo.")
        else:
            raise Problem("Thao tác không hợp lệ.", status=404)
    except Problem as p:
        if p.code in ("validation_error", "conflict", "forbidden"):
            return await report_view(request, problem=p, status=p.status)
        raise
    back = str(form.get("back") or "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else f"/reports/{report_id}")


async def received(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    rid = request.path_params["rid"]
    req = await web.call(s, "reports", "get_requirement", {"requirement_id": rid})
    wanted = request.query_params.get("status") or None
    receiving = req["receiving_unit_id"]
    if s.unit_id != receiving and not (s.unit.get("kind") == "department" and s.unit.get("parent_id") == receiving):
        receiving = s.unit_id  # an upper-level union: the reports it receives itself
    body: dict[str, Any] = {"requirement_id": rid, "receiving_unit_id": receiving, "limit": 500}
    if wanted:
        body["status"] = wanted
    page = await web.call(s, "reports", "list_reports", body)
    try:
        units = await web.call(s, "plans", "list_units", {"root_id": receiving, "as_of": req["hierarchy_as_of"],
                                                          "include_root": False, "page": {"limit": 500}})
        names = {u["unit_id"]: u["name"] for u in units["items"]}
    except Problem:  # a receiving department reads the reports, not its parent's directory
        c = await web.call(s, "reports", "get_completeness", {"requirement_id": rid, "unit_id": receiving,
                                                               "missing_limit": 0})
        names = {n["unit_id"]: n["name"] for n in c["children"]}
    items = sorted(page["items"], key=lambda r: (r["status"] != "submitted", r.get("submitted_at") or ""))
    return await web.render(request, "received.html", {
        "req": req, "items": items, "names": names, "wanted": wanted, "receiving": receiving,
        "receiving_name": await _unit_name(web, s, receiving)}, session=s)


async def completeness(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    rid = request.path_params["rid"]
    req = await web.call(s, "reports", "get_requirement", {"requirement_id": rid})
    unit = request.query_params.get("unit") or (s.unit_id if s.unit_id != req["issuer_unit_id"] and
                                                 s.unit.get("kind") != "department" else req["issuer_unit_id"])
    counting = "accepted" if request.query_params.get("counting") == "accepted" else "received"
    reply = await web.call(s, "reports", "get_completeness", {"requirement_id": rid, "unit_id": unit,
                                                               "counting": counting, "missing_limit": 500})
    name = await _unit_name(web, s, unit)
    if name == unit:  # a department may not read its parent unit: the reply names it as a parent
        name = next((m["parent_name"] for m in reply["missing_units"] if m["parent_id"] == unit and m["parent_name"]),
                    unit)
    return await web.render(request, "completeness.html", {
        "req": req, "c": reply, "counting": counting, "unit": unit, "unit_name": name,
        "consolidated": request.query_params.get("done")}, session=s)


async def consolidate(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    rid = request.path_params["rid"]
    unit = str(form.get("unit") or "") or None
    body: dict[str, Any] = {"requirement_id": rid, "counting": "accepted"}
    if unit:
        body["unit_id"] = unit
    for key in ("number", "signer_name", "signer_title"):
        if v := str(form.get(key) or "").strip():
            body[key] = v
    reply = await web.call(s, "reports", "consolidate", body, timeout=300)
    links = []
    for kind, name in (("docx", "Báo cáo tổng hợp (DOCX)"), ("xlsx", "Bảng số liệu (XLSX)")):
        token = _offer(web, s, reply.get(kind))
        if token:
            links.append((f"/downloads/{token}", name))
    return await web.render(request, "consolidated.html", {"req": await web.call(
        s, "reports", "get_requirement", {"requirement_id": rid}), "r": reply, "links": links}, session=s)


def _offer(web: Web, s: Session, path: str | None) -> str | None:
    """A download of a file the services exported, for this session only. Until the services
    publish their files through NATS (issue 13: the Object Store), the web reads them where the
    embedded stack writes them (CONGDOAN_DATA_DIR/exports, or CONGDOAN_WEB_EXPORTS_DIR)."""
    if not path:
        return None
    p = Path(path).resolve()
    root = web.settings.exports_path
    if root not in p.parents or not p.is_file():
        return None
    token = secrets.token_urlsafe(18)
    s.downloads[token] = (str(p), p.name)
    return token


async def download(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    found = s.downloads.get(request.path_params["token"])
    if found is None:
        raise Problem("Tệp không còn hoặc đồng chí không được tải tệp này; đề nghị tổng hợp lại.", "not_found",
                      status=404)
    path, name = found
    media = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document" if name.endswith(".docx")
             else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return FileResponse(path, media_type=media, filename=name, headers={"Cache-Control": "no-store"})


ROUTES = [
    Route("/reports", overview, methods=["GET"]),
    Route("/reports/requirements/{rid}/{period}/{unit}", unit_report, methods=["GET"]),
    Route("/reports/requirements/{rid}/{period}/{unit}", save_report, methods=["POST"]),
    Route("/reports/requirements/{rid}/received", received, methods=["GET"]),
    Route("/reports/requirements/{rid}/completeness", completeness, methods=["GET"]),
    Route("/reports/requirements/{rid}/consolidate", consolidate, methods=["POST"]),
    Route("/reports/{report_id}", report_view, methods=["GET"]),
    Route("/reports/{report_id}/{action}", review, methods=["POST"]),
    Route("/downloads/{token}", download, methods=["GET"]),
]
