"""HTTP /healthz (the process lives), /readyz (database and NATS reachable, consumers bound) and
Prometheus /metrics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

Check = Callable[[], Awaitable[None]]


class HealthServer:
    def __init__(self, host: str, port: int, checks: dict[str, Check], service: str) -> None:
        self.host, self.port, self.checks, self.service = host, port, checks, service
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        # SO_REUSEADDR: a restart right after a crash must not trip over TIME_WAIT sockets.
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()  # OSError when the port is taken: the caller says what to set

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "service": self.service})

    async def _readyz(self, _: web.Request) -> web.Response:
        results: dict[str, str] = {}
        ok = True
        for name, check in self.checks.items():
            try:
                await asyncio.wait_for(check(), timeout=2.0)
                results[name] = "ok"
            except Exception as exc:
                ok = False
                results[name] = f"failing: {exc!r}"[:300]
        return web.Response(status=200 if ok else 503, content_type="application/json",
                            text=json.dumps({"ready": ok, "service": self.service, "checks": results}))

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
