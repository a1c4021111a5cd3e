"""Tổ chức: the hierarchy under the person's unit as of a date, a unit's people and roles; for
administrators (and chairpersons) of the unit or above: CSV import with the errors by line,
move / merge / close of units, effective-dated, and a person's login (whether they have one,
locked, last use; a temporary password given or reset, shown once on the answer page)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web.gateway import Problem
from services.web.sessions import Session
from services.web.site import Web, redirect, web_of

ADMINS = {"administrator", "chairperson"}
MAX_CSV = 2_000_000


async def org(request: Request, *, problem: Problem | None = None, status: int = 200,
              csv_text: str = "") -> Response:
    web = web_of(request)
    s = web.require(request)
    root = request.query_params.get("unit") or s.unit_id
    as_of = request.query_params.get("as_of") or web.clock.today().isoformat()
    try:
        as_of = date.fromisoformat(as_of).isoformat()
    except ValueError:
        raise Problem("Ngày không hợp lệ (dạng yyyy-mm-dd).", "validation_error", status=422) from None
    unit, units, people, admin = await asyncio.gather(
        web.call(s, "plans", "get_unit", {"unit_id": root, "as_of": as_of}),
        web.call(s, "plans", "list_units", {"root_id": root, "as_of": as_of, "page": {"limit": 300}}),
        web.call(s, "plans", "list_people", {"unit_id": root, "page": {"limit": 100}}),
        administers(web, s, root))
    lines = sorted(((k.replace("line", "dòng", 1), v) for k, v in (problem.fields if problem else {}).items()
                    if k.startswith("line ")), key=lambda kv: int(kv[0].split()[1].rstrip(":")))
    return await web.render(request, "org.html", {
        "unit": unit, "units": units, "people": people["items"], "as_of": as_of, "problem": problem,
        "admin": admin, "lines": lines, "csv_text": csv_text,
        "today_iso": web.clock.today().isoformat()}, session=s, status=status)


async def import_units(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    upload = form.get("file")
    text = str(form.get("csv") or "")
    if upload is not None and hasattr(upload, "read"):
        raw = await upload.read(MAX_CSV + 1)
        if raw:
            if len(raw) > MAX_CSV:
                return await org(request, status=413, problem=Problem("Tệp quá lớn (tối đa 2 MB).", status=413))
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                return await org(request, status=422, problem=Problem(
                    "Tệp không phải văn bản UTF-8; đề nghị lưu CSV dạng UTF-8.", "validation_error", status=422))
    if not text.strip():
        return await org(request, status=422, problem=Problem("Đề nghị chọn tệp CSV hoặc dán nội dung.",
                                                              "validation_error", status=422))
    parts = _split(text)
    import_id = f"web-{uuid.uuid4().hex[:16]}"
    body: dict[str, Any] = {}
    if v := str(form.get("effective_from") or "").strip():
        body["effective_from"] = v
    try:
        reply: dict[str, Any] = {}
        for i, part in enumerate(parts, start=1):
            reply = await web.call(s, "plans", "import_units", {"import_id": import_id, "part": i, "parts": len(parts),
                                                                "csv": part, **body}, timeout=300)
    except Problem as p:
        if p.fields:
            p.message = "Tệp có dòng chưa hợp lệ; không đơn vị nào được nhập. Đề nghị sửa các dòng dưới đây."
        return await org(request, problem=p, status=p.status, csv_text=text if len(text) < 100_000 else "")
    s.flash(f"Đã nhập {reply.get('imported', 0)} đơn vị mới ({reply.get('unchanged', 0)} đơn vị đã có, không đổi).")
    return redirect("/org")


async def administers(web: Web, s: Session, unit_id: str) -> bool:
    """Whether the person administers the unit (ADMINISTER of runtime/access.py: an administrator
    or chairperson of the unit or of a unit above it, today). Only to decide what to offer: the
    services judge every request themselves."""
    if not s.roles & ADMINS:
        return False
    current: str | None = unit_id
    for _ in range(12):  # the hierarchy is a few levels deep
        if current is None:
            return False
        if current == s.unit_id:
            return True
        try:
            current = (await web.call(s, "plans", "get_unit", {"unit_id": current})).get("parent_id")
        except Problem:
            return False
    return False


async def _login_of(web: Web, s: Session, person_id: str) -> dict[str, Any] | None:
    try:
        return await web.call(s, "plans", "get_login", {"person_id": person_id})
    except Problem as p:
        if p.code == "not_found":
            return None  # no login yet
        raise


async def person_login(request: Request, *, problem: Problem | None = None, status: int = 200,
                       temporary: str | None = None, username: str | None = None) -> Response:
    """A person's login, for an administrator of their unit: user name, locked or not, last use;
    the form giving a temporary password (the person changes it at their first login)."""
    web = web_of(request)
    s = web.require(request)
    pid = request.path_params["person_id"]
    unit_id = request.query_params.get("unit") or s.unit_id
    people = await web.call(s, "plans", "list_people", {"unit_id": unit_id, "include_inactive": True,
                                                        "page": {"limit": 500}})
    person = next((p for p in people["items"] if p["person_id"] == pid), None)
    if person is None:
        raise Problem("Không tìm thấy người này trong đơn vị.", "not_found", status=404)
    if not await administers(web, s, person["unit_id"]):
        raise Problem("Đồng chí không được quản trị tài khoản đăng nhập của người này: chỉ quản trị viên hoặc "
                      "chủ tịch của đơn vị đó hoặc cấp trên.", "forbidden", status=403)
    unit, login = await asyncio.gather(web.call(s, "plans", "get_unit", {"unit_id": person["unit_id"]}),
                                       _login_of(web, s, pid))
    now = datetime.now(UTC)  # plans locks a login by the wall clock, not the shared (demo) clock
    locked = bool(login and login.get("locked_until") and _aware(login["locked_until"]) > now)
    suggested = username if username is not None else (login["username"] if login else _suggest(person))
    return await web.render(request, "person_login.html", {
        "person": person, "unit": unit, "login": login, "locked": locked, "problem": problem,
        "temporary": temporary, "username": suggested}, session=s, status=status)


async def give_login(request: Request) -> Response:
    """set_login without a password: plans makes a temporary one (shown once, on this answer
    only — never in a URL, a flash kept in the session, or a log) that must be changed at the
    first login; the person's sessions end."""
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    pid = request.path_params["person_id"]
    username = str(form.get("username") or "").strip()
    if not username:
        return await person_login(request, status=422, username="", problem=Problem(
            "Đề nghị ghi tên đăng nhập.", "validation_error", {"username": "Cần ghi tên đăng nhập."}, 422))
    try:
        reply = await web.call(s, "plans", "set_login", {"person_id": pid, "username": username,
                                                         "must_change_password": True})
    except Problem as p:
        if p.code == "validation_error" and "username" in p.fields:
            p.fields["username"] = ("Tên đăng nhập dài 3–100 ký tự, gồm chữ không dấu, chữ số và các dấu . _ @ -, "
                                    "bắt đầu bằng chữ hoặc số.")
        if p.status in (403, 404):  # not this person's to administer, or no such person: the error page
            raise
        return await person_login(request, problem=p, status=p.status, username=username)
    return await person_login(request, temporary=str(reply.get("temporary_password") or ""),
                              username=reply["username"])


def _suggest(person: dict[str, Any]) -> str:
    """A user name to start from: the e-mail's local part, else the person's id."""
    import re
    email = str(person.get("email") or "")
    base = email.split("@", 1)[0] if email else str(person["person_id"])
    base = re.sub(r"[^A-Za-z0-9._@-]", "", base).lower()
    return base if len(base) >= 3 else ""


def _aware(iso: str) -> datetime:
    from services.web.present import _as_datetime
    dt = _as_datetime(iso)
    assert dt is not None
    return dt


def _split(text: str, limit: int = 200_000) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        n = len(line.encode())
        if current and size + n > limit:
            parts.append("".join(current))
            current, size = [], 0
        current.append(line)
        size += n
    if current:
        parts.append("".join(current))
    return parts


async def change(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    action = request.path_params["action"]
    when = str(form.get("effective_from") or "").strip() or None
    unit = str(form.get("unit_id") or "").strip()
    try:
        if action == "move":
            to = str(form.get("to_parent_id") or "").strip()
            if not unit or not to:
                raise Problem("Đề nghị chọn đơn vị và đơn vị cấp trên mới.", "validation_error", status=422)
            r = await web.call(s, "plans", "move_unit", {"unit_id": unit, "to_parent_id": to, "effective_from": when})
            s.flash(f"Đã chuyển đơn vị từ ngày {_dmy(r['effective_from'])}" +
                    (f"; {r['withdrawn_tasks']} nhiệm vụ không còn thuộc đơn vị được rút lại." if r["withdrawn_tasks"]
                     else "."))
        elif action == "merge":
            absorbed = [str(v) for v in form.getlist("absorbed_ids") if v]
            survivor = str(form.get("survivor_id") or "").strip()
            if not survivor or not absorbed:
                raise Problem("Đề nghị chọn đơn vị tiếp nhận và các đơn vị sáp nhập vào.", "validation_error",
                              status=422)
            r = await web.call(s, "plans", "merge_units", {"survivor_id": survivor, "absorbed_ids": absorbed,
                                                            "effective_from": when})
            s.flash(f"Đã sáp nhập {len(r['absorbed_ids'])} đơn vị từ ngày {_dmy(r['effective_from'])}; "
                    f"{len(r['moved_children'])} đơn vị trực thuộc chuyển sang đơn vị tiếp nhận.")
        elif action == "close":
            if not unit:
                raise Problem("Đề nghị chọn đơn vị giải thể.", "validation_error", status=422)
            r = await web.call(s, "plans", "close_unit", {"unit_id": unit, "effective_from": when})
            s.flash(f"Đơn vị giải thể từ ngày {_dmy(r['effective_from'])}; {r['withdrawn_tasks']} nhiệm vụ được rút lại.")
        else:
            raise Problem("Thao tác không hợp lệ.", status=404)
    except Problem as p:
        if p.status == 404:
            raise
        return await org(request, problem=p, status=p.status)
    return redirect("/org")


def _dmy(iso: str) -> str:
    from services.web.present import dmy
    return dmy(iso)


ROUTES = [
    Route("/org", org, methods=["GET"]),
    Route("/org/import", import_units, methods=["POST"]),
    Route("/org/people/{person_id}/login", person_login, methods=["GET"]),
    Route("/org/people/{person_id}/login", give_login, methods=["POST"]),
    Route("/org/{action}", change, methods=["POST"]),
]
