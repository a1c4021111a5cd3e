"""Kế hoạch cá nhân: write it, self-assess at year end with next year's supplement; the unit's
coverage for its leaders."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web.gateway import Problem
from services.web.pages.common import LEADERS
from services.web.present import RATING
from services.web.site import redirect, web_of


def _lines(text: Any) -> list[str]:
    return [ln.strip() for ln in str(text or "").splitlines() if ln.strip()]


async def page(request: Request, *, problem: Problem | None = None, status: int = 200) -> Response:
    web = web_of(request)
    s = web.require(request)
    year = int(request.query_params.get("year") or web.clock.today().year)
    plan = await web.call(s, "plans", "get_individual_plan", {"person_id": s.person_id, "year": year})
    coverage = None
    if s.roles & LEADERS:
        try:
            coverage = await web.call(s, "plans", "get_individual_plan_coverage",
                                      {"unit_id": s.unit_id, "year": year, "subtree": True, "page": {"limit": 100}})
        except Problem:
            coverage = None
    return await web.render(request, "individual.html", {"p": plan, "year": year, "ratings": RATING,
                                                         "coverage": coverage, "problem": problem}, session=s,
                            status=status)


async def submit(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    year = int(str(form.get("year") or web.clock.today().year))
    commitments = _lines(form.get("commitments"))
    if not commitments:
        return await page(request, status=422, problem=Problem("Đề nghị ghi ít nhất một nội dung đăng ký.",
                                                               "validation_error", {"commitments": "Cần nội dung."}, 422))
    try:
        await web.call(s, "plans", "submit_individual_plan", {"person_id": s.person_id, "year": year,
                                                              "commitments": commitments})
    except Problem as p:
        return await page(request, problem=p, status=p.status)
    s.flash(f"Đã lưu kế hoạch cá nhân năm {year}.")
    return redirect(f"/individual?year={year}")


async def assess(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    year = int(str(form.get("year") or web.clock.today().year))
    results = str(form.get("results") or "").strip()
    rating = str(form.get("rating") or "")
    if not results or rating not in RATING:
        return await page(request, status=422, problem=Problem(
            "Đề nghị ghi kết quả thực hiện và chọn mức tự đánh giá.", "validation_error",
            {**({"results": "Cần ghi kết quả."} if not results else {}),
             **({"rating": "Cần chọn mức."} if rating not in RATING else {})}, 422))
    try:
        await web.call(s, "plans", "assess_individual_plan", {"person_id": s.person_id, "year": year,
                                                              "results": results, "rating": rating,
                                                              "supplement": _lines(form.get("supplement"))})
    except Problem as p:
        return await page(request, problem=p, status=p.status)
    s.flash(f"Đã lưu tự đánh giá kế hoạch cá nhân năm {year}.")
    return redirect(f"/individual?year={year}")


ROUTES = [
    Route("/individual", page, methods=["GET"]),
    Route("/individual/submit", submit, methods=["POST"]),
    Route("/individual/assess", assess, methods=["POST"]),
]
