"""The HTTP application of the web front-end, and `main()` (`python -m services.web`).

Starlette serves the pages (FastStream's `AsgiFastStream` routes by exact path only — no path
parameters, no sub-application at a prefix — so it cannot carry a site); the one subscription,
to notify's `notifications.created`, is a core NATS subscription on the same nats-py connection
the pages' requests use (live.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nats
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles

from runtime import tracing
from runtime.clock import follow_shared_clock, read_shared_offset
from runtime.logging import configure_logging, get_logger
from runtime.settings import load_settings
from runtime.tracing import configure_tracing, shutdown_tracing
from services.web.gateway import Gateway, Problem, SessionExpired
from services.web.present import FILTERS
from services.web.sessions import COOKIE, RateLimit, SessionStore
from services.web.settings import WebSettings
from services.web.site import LoginRequired, Web, local_path, redirect, safe_next, web_of

HERE = Path(__file__).resolve().parent
log = get_logger("web")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


# --- errors -------------------------------------------------------------------------------------

async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    web = web_of(request)
    if request.method != "GET" or request.url.path == "/live":
        return Response(status_code=401) if request.url.path == "/live" else redirect("/login")
    if exc.message:
        return await web.login_page(request, info=exc.message, next_path=safe_next(exc.next_path))
    return redirect("/login?next=" + quote(exc.next_path, safe="/"))


async def _session_expired(request: Request, exc: Exception) -> Response:
    web = web_of(request)
    if request.url.path == "/live":
        return Response(status_code=401)
    response = await web.login_page(request, info="Phiên làm việc đã hết hạn; đề nghị đồng chí đăng nhập lại.",
                                    next_path=safe_next(local_path(request)) if request.method == "GET" else "/")
    response.delete_cookie(COOKIE, path="/")
    return response


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    web = web_of(request)
    return await web.render(request, "error.html", {"problem": exc}, session=web.session(request),
                            status=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    web = web_of(request)
    message = {404: "Không tìm thấy trang này.", 405: "Thao tác không hợp lệ."}.get(
        exc.status_code, "Không thực hiện được yêu cầu.")
    return await web.render(request, "error.html", {"problem": Problem(message, status=exc.status_code)},
                            session=web.session(request), status=exc.status_code)


async def _internal(request: Request, exc: Exception) -> Response:
    log.error("page failed", path=request.url.path, error=repr(exc)[:500], exc_info=exc)
    web = web_of(request)
    problem = Problem("Hệ thống gặp lỗi khi hiển thị trang này; đề nghị thử lại hoặc báo quản trị viên.",
                      "internal_error", status=500)
    try:
        return await web.render(request, "error.html", {"problem": problem}, session=web.session(request),
                                status=500)
    except Exception:
        return Response(problem.message, status_code=500, media_type="text/plain; charset=utf-8")


# --- health -------------------------------------------------------------------------------------

async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "service": "web"})


async def readyz(request: Request) -> Response:
    web = web_of(request)
    checks: dict[str, str] = {}
    ok = web.ready
    try:
        if web.nc is None or not web.nc.is_connected:
            raise RuntimeError("not connected")
        await web.nc.flush(timeout=1)
        checks["nats"] = "ok"
    except Exception as exc:
        ok = False
        checks["nats"] = f"failing: {exc!r}"[:300]
    return JSONResponse({"ready": ok, "service": "web", "checks": checks, "sessions": len(web.sessions),
                         "live": web.hub.listeners}, status_code=200 if ok else 503)


# --- the application ----------------------------------------------------------------------------

class SecurityHeaders:
    """Pure ASGI (streams like /live pass through untouched): CSP and friends on every answer,
    and `Server-Timing` (the time to the response's start: bench/web_pages.py reads it)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                took = f"app;dur={1000 * (time.perf_counter() - started):.1f}".encode()
                message["headers"] = [*message["headers"], *SECURITY_HEADERS, (b"server-timing", took)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Traced:
    """A server span per page request when tracing is on (off: one check), so a trace starts at the
    person's click and the requests the page makes to the services (runtime.client's spans) are its
    children. Named by the route's template (`GET /reports/{report_id}`), not the path, to keep
    span names few. The live stream and static files are left out (a span would last the visit)."""

    def __init__(self, app: Any, routes: list[Any]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        tracer = tracing.tracer("web") if scope["type"] == "http" else None
        if tracer is None or scope["path"] == "/live" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        template = next((getattr(r, "path", scope["path"]) for r in self.routes if r.matches(scope)[0] is Match.FULL),
                        "(no route)")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or ()}
        status = 0

        async def send_(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with tracer.start_as_current_span(f"{scope['method']} {template}", context=tracing.extract(headers),
                                          kind=tracing.SpanKind.SERVER,
                                          attributes={"http.request.method": scope["method"], "http.route": template,
                                                      "url.path": scope["path"]}) as span:
            await self.app(scope, receive, send_)
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                tracing.fail(span, f"HTTP {status}")


def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    env.filters["q"] = lambda v: quote(str(v), safe="")
    env.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False, indent=2, default=str)
    return env


def create_app(settings: WebSettings, *, nc: Any = None) -> Starlette:
    """The application; with `nc`, it uses that NATS connection (tests), else connects at start."""
    from services.web.pages import ROUTES

    web = Web(settings=settings, sessions=SessionStore(settings.session_idle_s, settings.session_max_s,
                                                       settings.max_sessions),
              limiter=RateLimit(settings.login_per_minute), templates=templates())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = nc is None
        web.nc = nc or await nats.connect(settings.nats_url, name="congdoan-web", max_reconnect_attempts=-1,
                                          reconnect_time_wait=1, connect_timeout=5,
                                          **settings.nats_connect_options())
        web.gateway = Gateway(web.nc, timeout=settings.request_timeout_s)
        tasks: list[asyncio.Task[Any]] = []
        try:
            js = web.nc.jetstream(timeout=5)
            if not settings.clock_locked:  # the embedded stack's movable demo clock
                try:
                    web.clock.set_offset(await read_shared_offset(js))
                    tasks.append(asyncio.ensure_future(follow_shared_clock(js, web.clock)))
                except Exception as exc:  # no shared clock bucket yet: real time
                    log.warning("shared clock not readable; using real time", error=repr(exc)[:200])
            await web.hub.start(web.nc)
            tasks.append(asyncio.ensure_future(_sweep(web)))
            web.ready = True
            log.info("web started", url=f"http://{settings.http_host}:{settings.http_port}/", nats=settings.nats_url)
            yield
        finally:
            web.ready = False
            await web.hub.stop()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for s in list(web.sessions._by_id.values()):
                web.sessions.drop(s.sid)
            if own:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(web.nc.drain(), timeout=5)

    routes = [Route("/healthz", healthz), Route("/readyz", readyz), *ROUTES,
              Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static")]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        LoginRequired: _login_required, SessionExpired: _session_expired, Problem: _problem,
        HTTPException: _http_error, Exception: _internal})
    app.state.web = web
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Traced, routes=routes)
    return app


async def _sweep(web: Web) -> None:
    """Expired sessions are logged out at plans (their refresh tokens revoked)."""
    while True:
        await asyncio.sleep(30)
        for s in web.sessions.sweep():
            if web.gateway is not None:
                await web.gateway.logout(s)


def main() -> None:
    import uvicorn

    settings = WebSettings()
    configure_logging(settings.log_level, settings.log_json, service="web")
    configure_tracing(load_settings("web"))  # the CONGDOAN_OTEL_… settings every service reads
    app = create_app(settings)

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            # End the live streams so that the graceful shutdown does not wait for them, and exit
            # with 0 (uvicorn would re-raise the signal).
            app.state.web.hub.close()
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            else:
                self.should_exit = True

    config = uvicorn.Config(app, host=settings.http_host, port=settings.http_port, lifespan="on", log_config=None,
                            access_log=False, timeout_graceful_shutdown=5, server_header=False)
    server = Server(config)
    try:
        asyncio.run(server.serve())
    except OSError as exc:
        print(f"web: cannot listen on {settings.http_host}:{settings.http_port}: {exc}; set CONGDOAN_WEB_HTTP_PORT",
              file=sys.stderr)
        sys.exit(2)
    shutdown_tracing()
    if not server.started:
        sys.exit(1)
    sys.exit(0)
