"""Tổ chức: the hierarchy under the person's unit as of a date, and a unit's people and roles."""

from __future__ import annotations

import asyncio
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web.gateway import Problem
from services.web.site import web_of


async def org(request: Request) -> Response:
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
    return await web.render(request, "org.html", {"unit": unit, "units": units, "people": people["items"],
                                                  "as_of": as_of}, session=s)


ROUTES = [Route("/org", org, methods=["GET"])]
