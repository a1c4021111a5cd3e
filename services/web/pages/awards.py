"""Khen thưởng: award rounds; nominate (with eligibility and its reasons shown); an intermediate
level endorses or returns what waits at it; the issuing level's council approves, rejects or
escalates; its decision names the approved; the register of exemplary models."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web.gateway import Problem
from services.web.pages.common import ACTING, LEADERS
from services.web.site import redirect, web_of


async def _quiet(coro: Any, default: Any) -> Any:
    try:
        return await coro
    except Problem:
        return default


async def rounds(request: Request, *, problem: Problem | None = None, status: int = 200) -> Response:
    web = web_of(request)
    s = web.require(request)
    page, models = await asyncio.gather(
        web.call(s, "awards", "list_rounds", {"page": {"limit": 50}}),
        web.call(s, "awards", "list_exemplary_models", {"unit_id": s.unit_id, "page": {"limit": 50}}))
    return await web.render(request, "awards.html", {
        "rounds": page["items"], "models": models["items"], "problem": problem,
        "can_register": bool(s.roles & LEADERS), "year": web.clock.today().year,
        "attempt": f"mdl-{uuid.uuid4().hex}"}, session=s, status=status)


async def register_model(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    body: dict[str, Any] = {"model_id": str(form.get("attempt") or "") or None, "unit_id": s.unit_id,
                            "title": str(form.get("title") or "").strip(), "story": str(form.get("story") or "").strip(),
                            "year": int(str(form.get("year") or web.clock.today().year))}
    if not body["title"] or not body["story"]:
        return await rounds(request, status=422, problem=Problem(
            "Đề nghị ghi tên điển hình và nội dung, thành tích.", "validation_error",
            {k: "Cần ghi." for k in ("title", "story") if not body[k]}, 422))
    try:
        await web.call(s, "awards", "register_exemplary_model", body)
    except Problem as p:
        return await rounds(request, problem=p, status=p.status)
    s.flash("Đã ghi nhận điển hình tiên tiến.")
    return redirect("/awards")


async def round_view(request: Request, *, problem: Problem | None = None, checked: dict[str, Any] | None = None,
                     kept: dict[str, str] | None = None, status: int = 200) -> Response:
    web = web_of(request)
    s = web.require(request)
    rid = request.path_params["round_id"]
    r, noms = await asyncio.gather(
        web.call(s, "awards", "get_round", {"round_id": rid}),
        web.call(s, "awards", "list_nominations", {"round_id": rid, "unit_id": s.unit_id, "page": {"limit": 200}}))
    issuer = r["issuer_unit_id"] == s.unit_id
    can_nominate = r["status"] == "open" and bool(s.roles & ACTING) and not issuer
    units: dict[str, Any] = {"items": []}
    people: dict[str, Any] = {"items": []}
    if can_nominate:
        units, people = await asyncio.gather(
            _quiet(web.call(s, "plans", "list_units", {"root_id": s.unit_id, "page": {"limit": 300}}), {"items": []}),
            _quiet(web.call(s, "plans", "list_people", {"unit_id": s.unit_id, "subtree": True,
                                                        "page": {"limit": 300}}), {"items": []}))
    return await web.render(request, "round.html", {
        "r": r, "noms": noms["items"], "issuer": issuer, "council": issuer and bool(s.roles & LEADERS),
        "can_nominate": can_nominate, "units": units["items"], "people": people["items"], "problem": problem,
        "checked": checked, "kept": kept or {}, "attempt": f"nom-{uuid.uuid4().hex}",
        "forms_by_rank": sorted(r["forms"], key=lambda f: f["rank"])}, session=s, status=status)


def _nominee(form: Any) -> tuple[str, str]:
    kind = "individual" if form.get("nominee_kind") == "individual" else "collective"
    nominee = str(form.get("person_id") if kind == "individual" else form.get("unit_id") or "")
    return kind, nominee


async def nominate(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    rid = request.path_params["round_id"]
    kind, nominee = _nominee(form)
    kept = {k: str(form.get(k) or "") for k in ("nominee_kind", "unit_id", "person_id", "form", "category",
                                                "achievements")}
    if not nominee:
        return await round_view(request, kept=kept, status=422, problem=Problem(
            "Đề nghị chọn tập thể hoặc cá nhân được đề nghị.", "validation_error", {"nominee": "Cần chọn."}, 422))
    if form.get("action") == "check":
        checked = await web.call(s, "awards", "check_eligibility", {"round_id": rid, "nominee_kind": kind,
                                                                     "nominee_id": nominee})
        return await round_view(request, checked=checked, kept=kept)
    achievements = str(form.get("achievements") or "").strip()
    if not achievements or not form.get("form"):
        return await round_view(request, kept=kept, status=422, problem=Problem(
            "Đề nghị chọn hình thức khen thưởng và ghi thành tích.", "validation_error",
            {**({"achievements": "Cần ghi thành tích."} if not achievements else {}),
             **({"form": "Cần chọn hình thức."} if not form.get("form") else {})}, 422))
    body: dict[str, Any] = {"nomination_id": str(form.get("attempt") or "") or None, "round_id": rid,
                            "by_unit_id": s.unit_id, "nominee_kind": kind, "nominee_id": nominee,
                            "form": str(form.get("form")), "achievements": achievements}
    if category := str(form.get("category") or "").strip():
        body["category"] = category
    try:
        reply = await web.call(s, "awards", "submit_nomination", body)
    except Problem as p:
        return await round_view(request, problem=p, kept=kept, status=p.status)
    s.flash(f"Đã gửi đề nghị khen thưởng {reply['nominee_name']} ({reply['form_name']})."
            + ("" if reply["eligible"] else " Lưu ý: chưa đủ điều kiện — " + "; ".join(reply["reasons"])))
    return redirect(f"/awards/rounds/{rid}")


async def act(request: Request) -> Response:
    """forward / return (an intermediate level), approve / reject / escalate (the council),
    withdraw (the nominating unit)."""
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    rid, nid, action = (request.path_params[k] for k in ("round_id", "nomination_id", "action"))
    note = str(form.get("note") or "").strip() or None
    try:
        if action in ("forward", "return"):
            await web.call(s, "awards", "forward_nominations", {"unit_id": s.unit_id, "nomination_ids": [nid],
                                                                 "endorse": action == "forward", "note": note})
            s.flash("Đã trình cấp trên." if action == "forward" else "Đã trả lại hồ sơ.")
        elif action in ("approved", "rejected", "escalated"):
            body: dict[str, Any] = {"nomination_id": nid, "result": action, "note": note}
            if action == "escalated":
                body["form"] = str(form.get("form") or "") or None
            await web.call(s, "awards", "record_council_result", body)
            s.flash({"approved": "Hội đồng đã thông qua.", "rejected": "Hội đồng không thông qua.",
                     "escalated": "Hội đồng đề nghị hình thức cao hơn."}[action])
        elif action == "withdraw":
            await web.call(s, "awards", "withdraw_nomination", {"nomination_id": nid, "reason": note})
            s.flash("Đã rút hồ sơ đề nghị.")
        else:
            raise Problem("Thao tác không hợp lệ.", status=404)
    except Problem as p:
        if p.status == 404:
            raise
        return await round_view(request, problem=p, status=p.status)
    return redirect(f"/awards/rounds/{rid}")


async def decide(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    rid = request.path_params["round_id"]
    ids = [str(v) for v in form.getlist("nomination")][:2000]
    body = {"decision_id": str(form.get("attempt") or "") or None, "round_id": rid,
            "number": str(form.get("number") or "").strip(), "decision_date": str(form.get("decision_date") or ""),
            "signer": str(form.get("signer") or "").strip(), "nomination_ids": ids}
    missing = {k: "Cần ghi." for k in ("number", "decision_date", "signer") if not body[k]}
    if not ids:
        missing["nomination"] = "Cần chọn ít nhất một hồ sơ đã được thông qua."
    if missing:
        return await round_view(request, status=422, problem=Problem(
            "Đề nghị ghi số, ngày, người ký quyết định và chọn hồ sơ.", "validation_error", missing, 422))
    try:
        reply = await web.call(s, "awards", "issue_decision", body)
    except Problem as p:
        return await round_view(request, problem=p, status=p.status)
    s.flash(f"Đã ban hành Quyết định số {reply['number']}: {len(reply['awards'])} tập thể, cá nhân được khen thưởng.")
    return redirect(f"/awards/rounds/{rid}")


ROUTES = [
    Route("/awards", rounds, methods=["GET"]),
    Route("/awards/models", register_model, methods=["POST"]),
    Route("/awards/rounds/{round_id}", round_view, methods=["GET"]),
    Route("/awards/rounds/{round_id}/nominate", nominate, methods=["POST"]),
    Route("/awards/rounds/{round_id}/decision", decide, methods=["POST"]),
    Route("/awards/rounds/{round_id}/nominations/{nomination_id}/{action}", act, methods=["POST"]),
]
