"""Khen thưởng: award rounds, a round's nominations through the person's unit, the register of
exemplary models (read here; nominating and the council's review are done through the API)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web.site import web_of


async def rounds(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    page, models = await asyncio.gather(
        web.call(s, "awards", "list_rounds", {"page": {"limit": 50}}),
        web.call(s, "awards", "list_exemplary_models", {"unit_id": s.unit_id, "page": {"limit": 50}}))
    return await web.render(request, "awards.html", {"rounds": page["items"], "models": models["items"]}, session=s)


async def round_view(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    rid = request.path_params["round_id"]
    r, noms = await asyncio.gather(
        web.call(s, "awards", "get_round", {"round_id": rid}),
        web.call(s, "awards", "list_nominations", {"round_id": rid, "unit_id": s.unit_id, "page": {"limit": 200}}))
    return await web.render(request, "round.html", {"r": r, "noms": noms["items"]}, session=s)


ROUTES = [
    Route("/awards", rounds, methods=["GET"]),
    Route("/awards/rounds/{round_id}", round_view, methods=["GET"]),
]
