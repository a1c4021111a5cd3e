"""A caller of congdoan's API over NATS with a bearer token — what the plans CLI, the demo, the
benchmarks and the web front-end use (other systems do the same in their own language: README
"Security").

    client = await ApiClient.for_service(nc, "loader", secret)      # a machine identity
    client = await ApiClient.login(nc, "p-ldld-bd-chu-tich", password)  # a person
    unit = await client.request("plans", "get_unit", {"unit_id": "ldld-bd"})

Tokens are renewed before they expire: a machine identity presents its credentials again, a
person's session exchanges its refresh token.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import nats.errors

from runtime import tracing
from runtime.auth import auth_headers


class RequestFailed(RuntimeError):
    """An error reply: `error` is its body (`code`, `message`, `details`)."""

    def __init__(self, subject: str, error: dict[str, Any]) -> None:
        details = "; ".join(f"{d.get('field')}: {d.get('message')}" for d in error.get("details", [])[:20])
        super().__init__(f"{subject}: {error.get('code')}: {error.get('message')}" + (f" ({details})" if details else ""))
        self.error = error
        self.code = error.get("code")


def subject(service: str, endpoint: str) -> str:
    return f"congdoan.api.{service}.v1.{endpoint}"


async def raw_request(nc: Any, service: str, endpoint: str, body: dict[str, Any], *, token: str | None = None,
                      timeout: float = 30, attempts: int = 50) -> dict[str, Any]:
    """One request; a service that just started may not have its endpoints on the server yet
    (no responders: tried `attempts` times, 0.2 s apart)."""
    payload = json.dumps(body, ensure_ascii=False, default=str).encode()
    headers = auth_headers(token) if token else None
    if not tracing.enabled():
        return await _request(nc, service, endpoint, payload, headers, timeout, attempts)
    with tracing.request_span(service, endpoint, subject(service, endpoint)) as trace_headers:
        return await _request(nc, service, endpoint, payload, {**(headers or {}), **trace_headers}, timeout, attempts)


async def request_patiently(nc: Any, subject_: str, payload: bytes, headers: dict[str, str] | None = None, *,
                            timeout: float = 30, attempts: int = 50) -> Any:
    """nc.request, tried again on "no responders" (`attempts` times, 0.2 s apart): a service that
    just started may not have its endpoints on the server yet. Returns the reply message."""
    for attempt in range(attempts):
        try:
            return await nc.request(subject_, payload, timeout=timeout, headers=headers)
        except nats.errors.NoRespondersError:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.2)
    raise ValueError("attempts must be at least 1")


async def _request(nc: Any, service: str, endpoint: str, payload: bytes, headers: dict[str, str] | None,
                   timeout: float, attempts: int) -> dict[str, Any]:
    msg = await request_patiently(nc, subject(service, endpoint), payload, headers, timeout=timeout, attempts=attempts)
    data = json.loads(msg.data) if msg.data else {}
    if (msg.headers or {}).get("Nats-Service-Error-Code") or "error" in data:
        raise RequestFailed(endpoint, data.get("error", {"message": str(msg.headers)}))
    return data


class ApiClient:
    def __init__(self, nc: Any, reply: dict[str, Any], renew: Any) -> None:
        self.nc = nc
        self._renew = renew
        self._lock = asyncio.Lock()  # one renewal at a time: a refresh token is good once
        self._take(reply)

    def _take(self, reply: dict[str, Any]) -> None:
        self.token: str = reply["access_token"]
        self.refresh: str | None = reply.get("refresh_token")
        self.person: dict[str, Any] | None = reply.get("person")
        self._expires = time.monotonic() + int(reply["expires_in"])

    @classmethod
    async def for_service(cls, nc: Any, client_id: str, secret: str) -> ApiClient:
        async def renew(_: ApiClient) -> dict[str, Any]:
            return await raw_request(nc, "plans", "service_token", {"client_id": client_id, "client_secret": secret})
        client = cls(nc, await renew(None), renew)  # type: ignore[arg-type]
        return client

    @classmethod
    async def login(cls, nc: Any, username: str, password: str) -> ApiClient:
        async def renew(self: ApiClient) -> dict[str, Any]:
            return await raw_request(nc, "plans", "refresh_token", {"refresh_token": self.refresh})
        return cls(nc, await raw_request(nc, "plans", "login", {"username": username, "password": password}), renew)

    @classmethod
    def with_token(cls, nc: Any, token: str, expires_in: int = 900) -> ApiClient:
        """A client of a token got elsewhere (the web front-end's session, a test), not renewed."""
        return cls(nc, {"access_token": token, "expires_in": expires_in}, None)

    @property
    def expires_in(self) -> float:
        """Seconds the access token is still good for."""
        return self._expires - time.monotonic()

    async def bearer(self) -> str:
        if self._renew is not None and time.monotonic() > self._expires - 60:
            async with self._lock:  # concurrent requests of one session renew once, not twice
                if time.monotonic() > self._expires - 60:
                    self._take(await self._renew(self))
        return self.token

    async def request(self, service: str, endpoint: str, body: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        return await raw_request(self.nc, service, endpoint, body, token=await self.bearer(), timeout=timeout)

    async def logout(self) -> None:
        if self.refresh:
            await raw_request(self.nc, "plans", "logout", {"refresh_token": self.refresh})
            self.refresh = None
