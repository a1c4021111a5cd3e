"""Đăng nhập, đăng xuất, đổi mật khẩu."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.web.gateway import Problem
from services.web.sessions import COOKIE, Session, pre_token
from services.web.site import PRE_COOKIE, new_token, redirect, safe_next, web_of


async def login_form(request: Request) -> Response:
    web = web_of(request)
    if web.session(request) is not None:
        return redirect(safe_next(request.query_params.get("next")))
    return await web.login_page(request, next_path=safe_next(request.query_params.get("next")))


async def login(request: Request) -> Response:
    web = web_of(request)
    form = await web.form(request, None)
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    next_path = safe_next(str(form.get("next") or "/"))
    address = request.client.host if request.client else "?"
    assert web.limiter is not None and web.gateway is not None
    wait = web.limiter.allow(address)
    if wait:
        return await web.login_page(request, username=username, next_path=next_path, status=429,
                                    error=f"Đăng nhập quá nhiều lần; đề nghị thử lại sau {int(wait) + 1} giây.")
    if not username or not password:
        return await web.login_page(request, username=username, next_path=next_path, status=400,
                                    error="Đề nghị nhập tên đăng nhập và mật khẩu.")
    try:
        client = await web.gateway.login(username, password)
    except Problem as p:
        if p.code == "password_change_required":
            return redirect("/password?required=1&username=" + quote(username, safe=""))
        return await web.login_page(request, username=username, next_path=next_path, status=p.status, error=p.message)
    person = dict(client.person or {})
    session = web.sessions.new(client, person, {})
    try:
        session.unit = await web.call(session, "plans", "get_unit", {"unit_id": session.unit_id})
    except Problem:
        session.unit = {"unit_id": session.unit_id, "name": session.unit_id, "kind": None}
    # A fresh session id at login (no fixation); the old session cookie, if any, is forgotten.
    old = request.cookies.get(COOKIE)
    if old:
        web.sessions.drop(old)
    response = redirect(next_path)
    web.set_session_cookie(response, session)
    response.delete_cookie(PRE_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    web = web_of(request)
    session = web.session(request)
    if session is not None:
        await web.form(request, session)
        web.sessions.drop(session.sid)
        assert web.gateway is not None
        await web.gateway.logout(session)
    response = await web.login_page(request, info="Đồng chí đã đăng xuất.")
    response.delete_cookie(COOKIE, path="/")
    return response


async def password_form(request: Request) -> Response:
    web = web_of(request)
    session = web.session(request)
    return await _password_page(request, session, username=(session.person_id if session else
                                                            request.query_params.get("username", "")),
                                required=bool(request.query_params.get("required")))


async def _password_page(request: Request, session: Session | None, *, username: str = "", error: str | None = None,
                         fields: dict[str, str] | None = None, required: bool = False, status: int = 200) -> Response:
    web = web_of(request)
    if session is not None:
        return await web.render(request, "password.html", {"username": username, "error": error,
                                                           "fields": fields or {}}, session=session, status=status)
    pre = request.cookies.get(PRE_COOKIE)
    pre = pre or new_token()
    response = await web.render(request, "password.html", {
        "username": username, "error": error, "fields": fields or {}, "required": required,
        "csrf": pre_token(web.settings.secret, pre)}, status=status)
    response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="lax", secure=web.settings.cookie_secure,
                        max_age=3600, path="/")
    return response


async def change_password(request: Request) -> Response:
    web = web_of(request)
    session = web.session(request)
    form = await web.form(request, session)
    username = session.person_id if session else str(form.get("username") or "").strip()
    current, new, again = (str(form.get(k) or "") for k in ("current_password", "new_password", "new_password2"))
    if new != again:
        return await _password_page(request, session, username=username, status=400,
                                    fields={"new_password2": "Hai lần nhập mật khẩu mới không khớp."},
                                    error="Mật khẩu mới chưa hợp lệ.")
    if len(new) < 10:
        return await _password_page(request, session, username=username, status=400,
                                    fields={"new_password": "Mật khẩu mới cần ít nhất 10 ký tự."},
                                    error="Mật khẩu mới chưa hợp lệ.")
    assert web.limiter is not None and web.gateway is not None
    address = request.client.host if request.client else "?"
    if web.limiter.allow(address):
        return await _password_page(request, session, username=username, status=429,
                                    error="Thử quá nhiều lần; đề nghị đợi một phút rồi thử lại.")
    try:
        await web.gateway.public("plans", "change_password", {"username": username, "current_password": current,
                                                              "new_password": new})
    except Problem as p:
        message = p.message if p.code != "unauthenticated" else "Mật khẩu hiện tại không đúng."
        return await _password_page(request, session, username=username, error=message, status=p.status)
    if session is not None:
        session.flash("Đã đổi mật khẩu.")
        return redirect("/")
    return await web.login_page(request, username=username, info="Đã đổi mật khẩu; đề nghị đăng nhập bằng mật khẩu mới.")



ROUTES = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/password", password_form, methods=["GET"]),
    Route("/password", change_password, methods=["POST"]),
]
