"""What every page shares: the `Web` object (settings, sessions, the gateway to the services,
the live hub, templates), logins required, CSRF-checked forms, rendering."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from runtime.clock import Clock
from services.web.gateway import Gateway, Problem, SessionExpired
from services.web.live import LiveHub
from services.web.sessions import COOKIE, PRE_COOKIE, RateLimit, Session, SessionStore, check_pre_token, pre_token
from services.web.settings import WebSettings


class LoginRequired(Exception):
    def __init__(self, next_path: str, message: str | None = None) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.message = message


@dataclass
class Web:
    """Everything the pages share."""

    settings: WebSettings
    sessions: SessionStore
    hub: LiveHub = field(default_factory=LiveHub)
    clock: Clock = field(default_factory=Clock)
    gateway: Gateway | None = None
    nc: Any = None
    limiter: RateLimit | None = None
    templates: Environment | None = None
    ready: bool = False

    # --- sessions and forms ---------------------------------------------------------------------

    def session(self, request: Request) -> Session | None:
        return self.sessions.get(request.cookies.get(COOKIE))

    def require(self, request: Request) -> Session:
        s = self.session(request)
        if s is None:
            expired = bool(request.cookies.get(COOKIE))
            raise LoginRequired(local_path(request), "Phiên làm việc đã hết hạn; đề nghị đồng chí đăng nhập lại."
                                if expired else None)
        return s

    async def form(self, request: Request, session: Session | None) -> Any:
        """The posted form, after its CSRF token (and the Origin header, when sent) are checked."""
        origin = request.headers.get("origin")
        if origin and origin != "null":
            host = request.headers.get("host", "")
            if origin.split("://", 1)[-1] != host:
                raise Problem("Yêu cầu không hợp lệ (gửi từ trang khác).", "csrf", status=403)
        form = await request.form()
        token = form.get("csrf")
        ok = (session.check_csrf(str(token) if token else None) if session is not None
              else check_pre_token(self.settings.secret, request.cookies.get(PRE_COOKIE), str(token) if token else None))
        if not ok:
            raise Problem("Biểu mẫu đã hết hạn hoặc không hợp lệ; đề nghị tải lại trang và thử lại.", "csrf",
                          status=403)
        return form

    async def call(self, session: Session, service: str, endpoint: str, body: dict[str, Any] | None = None,
                   timeout: float | None = None, attempts: int | None = None) -> dict[str, Any]:
        assert self.gateway is not None
        try:
            return await self.gateway.call(session, service, endpoint, body, timeout, attempts)
        except SessionExpired:
            self.sessions.drop(session.sid)
            raise

    # --- rendering ------------------------------------------------------------------------------

    async def render(self, request: Request, template: str, context: dict[str, Any] | None = None, *,
                     session: Session | None = None, status: int = 200) -> HTMLResponse:
        assert self.templates is not None
        ctx: dict[str, Any] = {"request": request, "session": session, "today": self.clock.today(),
                               "path": request.url.path, "unread": None, "flashes": [], "nav": nav_of(session)}
        if session is not None:
            ctx["csrf"] = session.csrf
            ctx["flashes"] = session.take_flashes()
            try:
                ctx["unread"] = (await self.call(session, "notify", "unread_count", {}, timeout=5,
                                                 attempts=1)).get("unread")
            except Problem:
                ctx["unread"] = None
        ctx.update(context or {})
        html = self.templates.get_template(template).render(**ctx)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    async def login_page(self, request: Request, *, error: str | None = None, info: str | None = None,
                         username: str = "", next_path: str = "/", status: int = 200) -> HTMLResponse:
        pre = request.cookies.get(PRE_COOKIE) or new_token()
        response = await self.render(request, "login.html", {
            "csrf": pre_token(self.settings.secret, pre), "error": error, "info": info, "username": username,
            "next": next_path}, status=status)
        response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="lax", secure=self.settings.cookie_secure,
                            max_age=3600, path="/")
        return response

    def set_session_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(COOKIE, session.sid, httponly=True, samesite="lax", secure=self.settings.cookie_secure,
                            path="/")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def local_path(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return path


def safe_next(value: str | None) -> str:
    """Only a path of this site (no //host, no scheme)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def nav_of(session: Session | None) -> list[tuple[str, str]]:
    if session is None:
        return []
    return [("/", "Việc cần làm"), ("/plans", "Kế hoạch"), ("/individual", "Kế hoạch cá nhân"),
            ("/reports", "Báo cáo"), ("/notices", "Thông báo"), ("/awards", "Khen thưởng"), ("/org", "Tổ chức")]


def web_of(request: Request) -> Web:
    return request.app.state.web


