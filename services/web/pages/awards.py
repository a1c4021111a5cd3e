"""Khen thưởng: award rounds; nominate (with eligibility and its reasons shown); an intermediate
level endorses or returns what waits at it; the issuing level's council approves, rejects or
escalates; its decision names the approved; the register of exemplary models. The leaders of a
unit open its rounds (ISSUE) with forms from the catalogue, and its council (DECIDE: the same
leaders) sets the units' quotas."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web.gateway import Problem
from services.web.pages.common import ACTING, LEADERS
from services.web.present import RATING
from services.web.site import redirect, web_of

_DMY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


async def _quiet(coro: Any, default: Any) -> Any:
    try:
        return await coro
    except Problem:
        return default


async def rounds(request: Request, *, problem: Problem | None = None, status: int = 200,
                 opening: dict[str, Any] | None = None) -> Response:
    """`opening`: what was typed into the form opening a round, kept when it is refused (its
    problem then belongs to that form, not to the exemplary models')."""
    web = web_of(request)
    s = web.require(request)
    can_open = bool(s.roles & LEADERS)  # ISSUE: the leaders of the unit itself
    no_forms: dict[str, Any] = {"items": []}
    page, models, catalogue = await asyncio.gather(
        web.call(s, "awards", "list_rounds", {"page": {"limit": 50}}),
        web.call(s, "awards", "list_exemplary_models", {"unit_id": s.unit_id, "page": {"limit": 50}}),
        web.call(s, "awards", "list_award_forms", {}) if can_open else _done(no_forms))
    today = web.clock.today()
    kind = s.unit.get("kind")
    default = opening or {
        "name": "", "opens_on": today.isoformat(), "closes_on": (today + timedelta(days=30)).isoformat(),
        "anchor_on": "", "report_period": "", "require_report_accepted": True, "min_rating": "good",
        "forms": [f["code"] for f in catalogue["items"] if kind in f["granted_by"]], "collective_categories": "",
        "individual_categories": ""}
    return await web.render(request, "awards.html", {
        "rounds": page["items"], "models": models["items"], "problem": None if opening else problem,
        "open_problem": problem if opening else None, "can_open": can_open, "catalogue": catalogue["items"],
        "opening": default, "ratings": RATING, "can_register": bool(s.roles & LEADERS), "year": today.year,
        "attempt": f"mdl-{uuid.uuid4().hex}", "round_attempt": f"round-{uuid.uuid4().hex}"},
        session=s, status=status)


async def _done(value: Any) -> Any:
    return value


def _iso(text: str) -> str | None:
    """A date as typed: yyyy-mm-dd (a date input) or dd/mm/yyyy; anything else sent as typed."""
    t = text.strip()
    if not t:
        return None
    if m := _DMY.match(t):
        try:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        except ValueError:
            return t
    return t


def _lines(text: str) -> list[str]:
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


async def open_round(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    kept: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in (
        "name", "opens_on", "closes_on", "anchor_on", "report_period", "min_rating", "collective_categories",
        "individual_categories")}
    kept["require_report_accepted"] = bool(form.get("require_report_accepted"))
    kept["forms"] = [str(v) for v in form.getlist("forms")][:50]
    missing = {k: "Cần ghi." for k in ("name", "opens_on", "closes_on") if not kept[k]}
    if not kept["forms"]:
        missing["forms"] = "Cần chọn ít nhất một hình thức khen thưởng."
    if missing:
        return await rounds(request, status=422, opening=kept, problem=Problem(
            "Đề nghị ghi tên đợt, thời gian nhận hồ sơ và chọn hình thức khen thưởng.", "validation_error",
            missing, 422))
    body: dict[str, Any] = {
        "round_id": str(form.get("attempt") or "") or None, "name": kept["name"], "issuer_unit_id": s.unit_id,
        "opens_on": _iso(kept["opens_on"]), "closes_on": _iso(kept["closes_on"]), "forms": kept["forms"],
        "require_report_accepted": kept["require_report_accepted"], "min_rating": kept["min_rating"] or "good",
        "collective_categories": _lines(kept["collective_categories"]),
        "individual_categories": _lines(kept["individual_categories"])}
    if kept["anchor_on"]:
        body["anchor_on"] = _iso(kept["anchor_on"])
    if kept["report_period"]:
        body["report_period"] = kept["report_period"]
    try:
        reply = await web.call(s, "awards", "open_round", body)
    except Problem as p:
        if p.status == 403:
            raise
        p.fields = {("forms" if k.startswith("forms.") else k): v for k, v in p.fields.items()}
        return await rounds(request, problem=p, status=p.status, opening=kept)
    s.flash(f"Đã mở đợt khen thưởng “{reply['name']}”, nhận hồ sơ từ {_dmy(reply['opens_on'])} "
            f"đến {_dmy(reply['closes_on'])}.")
    return redirect(f"/awards/rounds/{reply['round_id']}")


def _dmy(iso: str) -> str:
    from services.web.present import dmy
    return dmy(iso)


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
                     kept: dict[str, str] | None = None, status: int = 200,
                     typed: dict[str, str] | None = None) -> Response:
    web = web_of(request)
    s = web.require(request)
    rid = request.path_params["round_id"]
    r, noms = await asyncio.gather(
        web.call(s, "awards", "get_round", {"round_id": rid}),
        web.call(s, "awards", "list_nominations", {"round_id": rid, "unit_id": s.unit_id, "page": {"limit": 200}}))
    issuer = r["issuer_unit_id"] == s.unit_id
    council = issuer and bool(s.roles & LEADERS)  # DECIDE: results, decisions and quotas
    below: dict[str, Any] = {"items": []}
    if council or r["quotas"]:
        below = await _quiet(web.call(s, "plans", "list_units", {"root_id": r["issuer_unit_id"], "include_root": False,
                                                                 "page": {"limit": 300}}), {"items": []})
    names = {u["unit_id"]: u["name"] for u in below["items"]}
    can_nominate = r["status"] == "open" and bool(s.roles & ACTING) and not issuer
    units: dict[str, Any] = {"items": []}
    people: dict[str, Any] = {"items": []}
    if can_nominate:
        units, people = await asyncio.gather(
            _quiet(web.call(s, "plans", "list_units", {"root_id": s.unit_id, "page": {"limit": 300}}), {"items": []}),
            _quiet(web.call(s, "plans", "list_people", {"unit_id": s.unit_id, "subtree": True,
                                                        "page": {"limit": 300}}), {"items": []}))
    return await web.render(request, "round.html", {
        # Quotas are set on the units directly below (each counts with its own subordinates), so the
        # form lists those, plus any deeper unit that already has one; not the whole subtree.
        "r": r, "noms": noms["items"], "issuer": issuer, "council": council,
        "below": [u for u in below["items"] if u.get("depth") == 1 or u["unit_id"] in {q["unit_id"] for q in r["quotas"]}],
        "unit_names": names, "quota_of": {q["unit_id"]: q for q in r["quotas"]}, "typed": typed or {},
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


async def set_quotas(request: Request) -> Response:
    """The council's quotas: one input per unit directly below the issuer; a blank input removes the unit's
    quota. Units not shown (beyond the list's length) keep theirs."""
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    rid = request.path_params["round_id"]
    r = await web.call(s, "awards", "get_round", {"round_id": rid})
    typed = {k[2:]: str(v).strip() for k, v in form.multi_items() if k.startswith("q_")}
    quotas = {q["unit_id"]: q["quota"] for q in r["quotas"]}
    bad: dict[str, str] = {}
    for unit_id, text in typed.items():
        if not text:
            quotas.pop(unit_id, None)
        elif re.fullmatch(r"\d{1,6}", text):
            quotas[unit_id] = int(text)
        else:
            bad[f"quota.{unit_id}"] = "Chỉ tiêu là số nguyên, không âm (để trống: không giới hạn)."
    if bad:
        return await round_view(request, typed=typed, status=422, problem=Problem(
            "Chỉ tiêu chưa hợp lệ; đề nghị sửa các ô được đánh dấu.", "validation_error", bad, 422))
    order = sorted(quotas)
    try:
        reply = await web.call(s, "awards", "set_round_quotas", {
            "round_id": rid, "replace": True, "quotas": [{"unit_id": u, "quota": quotas[u]} for u in order]})
    except Problem as p:
        if p.status == 403:
            raise
        fields: dict[str, str] = {}
        for k, v in p.fields.items():  # quotas.<i>.unit_id (the i-th sent) or quotas.<unit_id>
            parts = k.split(".")
            if len(parts) >= 2 and parts[0] == "quotas":
                unit_id = order[int(parts[1])] if parts[1].isdigit() and int(parts[1]) < len(order) else parts[1]
                fields[f"quota.{unit_id}"] = v
            else:
                fields[k] = v
        p.fields = fields
        return await round_view(request, problem=p, typed=typed, status=p.status)
    s.flash(f"Đã lưu chỉ tiêu của {len(reply['quotas'])} đơn vị.")
    return redirect(f"/awards/rounds/{rid}")


ROUTES = [
    Route("/awards", rounds, methods=["GET"]),
    Route("/awards/rounds", open_round, methods=["POST"]),
    Route("/awards/rounds/{round_id}/quotas", set_quotas, methods=["POST"]),
    Route("/awards/models", register_model, methods=["POST"]),
    Route("/awards/rounds/{round_id}", round_view, methods=["GET"]),
    Route("/awards/rounds/{round_id}/nominate", nominate, methods=["POST"]),
    Route("/awards/rounds/{round_id}/decision", decide, methods=["POST"]),
    Route("/awards/rounds/{round_id}/nominations/{nomination_id}/{action}", act, methods=["POST"]),
]
