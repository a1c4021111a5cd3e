"""Tổ chức: the hierarchy under the person's unit as of a date, a unit's people and roles; for
administrators (and chairpersons) of the unit or above: CSV import with the errors by line, and
move / merge / close of units, effective-dated."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web.gateway import Problem
from services.web.site import redirect, web_of

ADMINS = {"administrator", "chairperson"}
# plans words the errors of an import line for programmers: the usual ones, in Vietnamese.
_LINE_ERRORS = [
    (re.compile(r"a code of 1 to 64 characters is required"), "thiếu mã đơn vị (code)"),
    (re.compile(r"a name of 1 to 500 characters is required"), "thiếu tên đơn vị (name)"),
    (re.compile(r"unknown kind '([^']*)'"), "loại đơn vị “{0}” không có (grassroots_union, upper_level_union, …)"),
    (re.compile(r"parent (\S+) is neither in the file nor registered"), "đơn vị cấp trên {0} không có trong tệp và chưa đăng ký"),
    (re.compile(r"parent (\S+) is closed"), "đơn vị cấp trên {0} đã giải thể"),
    (re.compile(r"code (\S+) already on line (\d+)"), "mã {0} trùng với dòng {1}"),
    (re.compile(r"code (\S+) belongs to unit (\S+) already"), "mã {0} đã là của đơn vị {1}"),
    (re.compile(r"(\d+) values for (\d+) columns"), "có {0} giá trị cho {1} cột"),
    (re.compile(r"give parent_code or parent_id, not both"), "chỉ ghi một trong hai cột parent_code, parent_id"),
    (re.compile(r"a unit cannot be its own parent"), "đơn vị không thể là cấp trên của chính nó"),
    (re.compile(r"the parents in the file form a cycle"), "các đơn vị cấp trên trong tệp lặp vòng"),
    (re.compile(r"the file is empty"), "tệp trống"),
]


def line_error(message: str) -> str:
    for pattern, text in _LINE_ERRORS:
        m = pattern.search(message)
        if m:
            return text.format(*m.groups())
    return message
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
    unit, units, people = await asyncio.gather(
        web.call(s, "plans", "get_unit", {"unit_id": root, "as_of": as_of}),
        web.call(s, "plans", "list_units", {"root_id": root, "as_of": as_of, "page": {"limit": 300}}),
        web.call(s, "plans", "list_people", {"unit_id": root, "page": {"limit": 100}}))
    lines = sorted(((k.replace("line", "dòng", 1), line_error(v)) for k, v in (problem.fields if problem else {}).items()
                    if k.startswith("line ")), key=lambda kv: int(kv[0].split()[1].rstrip(":")))
    return await web.render(request, "org.html", {
        "unit": unit, "units": units, "people": people["items"], "as_of": as_of, "problem": problem,
        "admin": bool(s.roles & ADMINS), "lines": lines, "csv_text": csv_text,
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
    Route("/org/{action}", change, methods=["POST"]),
]
