"""Request/reply endpoints through the NATS Services API (ADR-32 "micro").

Every endpoint of `contracts.catalogue.ENDPOINTS` for a service is registered under the micro
service `congdoan-<service>`, discoverable with $SRV.PING/INFO/STATS. A request is checked for
size, then for its bearer token (`Authorization: Bearer <JWT>` header, verified by
`runtime.auth.TokenVerifier`; 401 without a valid one, except on the few public endpoints), then
for UTF-8 JSON and the request model (unknown fields refused) before the handler runs; the handler
gets the request and the verified `Principal`. Every failure answers with an `ErrorReply` body and
the standard `Nats-Service-Error` / `Nats-Service-Error-Code` headers: a stable English code, a
Vietnamese message, and the fields at fault in details (runtime/validation.py says a request
model's problems in Vietnamese, keeping pydantic's error type). Requests are handled
concurrently up to a bound. A request whose reply subject is not an inbox (`_INBOX.…`) is dropped
unanswered and unhandled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nats.micro import add_service
from nats.micro.request import Request
from pydantic import BaseModel, ValidationError

from contracts import naming
from contracts.api.common import STATUS, ErrorCode, error_reply
from contracts.catalogue import EndpointSpec, endpoints_of
from runtime import tracing, validation
from runtime.auth import Principal, TokenVerifier, Unauthenticated, bearer
from runtime.db import is_unavailable
from runtime.errors import ApiError, DomainError, Unavailable, api_error
from runtime.inputs import BadInput, parse_json
from runtime.logging import get_logger
from runtime.metrics import REQUEST_SECONDS, REQUESTS

log = get_logger("runtime.api")

# Requests are answered only on inbox subjects (runtime/natsauth.py gives each user `_INBOX.<user>.>`).
REPLY_PREFIX = "_INBOX."

# handler(request, principal): the principal is None only on public endpoints (login…).
ApiHandler = Callable[[Any, Principal | None], Awaitable[BaseModel]]


# Outcomes that are the server's failure, marked as errors on its span.
_SERVER_FAULTS = frozenset({ErrorCode.INTERNAL.value, ErrorCode.UNAVAILABLE.value})

_BAD_INPUT_CODES = {413: ErrorCode.TOO_LARGE, 400: ErrorCode.BAD_REQUEST, 422: ErrorCode.VALIDATION}


def _bad_input(exc: BadInput) -> ApiError:
    """A body refused by runtime.inputs: 413 too large, 400 not (bounded) JSON, 422 a value no
    backend stores the same way (control characters, numbers out of range)."""
    return ApiError(_BAD_INPUT_CODES[exc.status], exc.message,
                    [{"field": exc.field, "message": exc.message, "type": exc.kind}])


class ApiServer:
    def __init__(self, nc: Any, service: str, handlers: dict[str, ApiHandler], *, version: str = "1.0.0",
                 max_bytes: int = 256 * 1024, concurrency: int = 64, verifier: TokenVerifier | None = None) -> None:
        specs = {s.name: s for s in endpoints_of(service)}
        missing = set(specs) - set(handlers)
        extra = set(handlers) - set(specs)
        if missing or extra:
            raise ValueError(f"endpoints of {service} do not match the catalogue: missing={missing} extra={extra}")
        self.nc = nc
        self.service = service
        self.specs = specs
        self.handlers = handlers
        self.version = version
        self.max_bytes = max_bytes
        self.verifier = verifier  # None: every non-public endpoint answers 401
        self.retry_after_s = 5  # the hint of a 503 while the database does not answer
        self._sem = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._svc: Any = None
        self._tracer = tracing.tracer(service)  # None: tracing off

    async def start(self) -> None:
        self._svc = await add_service(self.nc, name=naming.micro_name(self.service), version=self.version,
                                      description=f"congdoan {self.service} service",
                                      metadata={"contracts": "contracts/asyncapi/" + self.service + ".yaml"})
        for name, spec in self.specs.items():
            await self._svc.add_endpoint(name=name, subject=spec.subject, handler=self._dispatcher(spec),
                                         metadata={"request": spec.request.__name__, "reply": spec.reply.__name__})
        # Make sure the server has every subscription before we report ready.
        await self.nc.flush(timeout=5)

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop taking requests, then let those in hand finish."""
        if self._svc is not None:
            await self._svc.stop()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace_s)

    def _dispatcher(self, spec: EndpointSpec) -> Callable[[Request], Awaitable[None]]:
        async def dispatch(req: Request) -> None:
            reply = req._msg.reply or ""
            if not reply.startswith(REPLY_PREFIX):
                # An answer goes to the caller's inbox only: a reply subject such as an event
                # subject would have this service publish there with its own rights.
                log.warning("request without an inbox to answer dropped", endpoint=spec.name, reply=reply[:200])
                REQUESTS.labels(self.service, spec.name, "no_inbox").inc()
                return
            # micro delivers one request at a time per endpoint; handle each in its own task.
            await self._sem.acquire()
            task = asyncio.create_task(self._serve(spec, req))
            self._tasks.add(task)
            task.add_done_callback(self._done)

        return dispatch

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._sem.release()

    async def _serve(self, spec: EndpointSpec, req: Request) -> None:
        if self._tracer is None:
            await self._answer(spec, req)
            return
        # A server span, child of the caller's (the traceparent header) if it sent one: events the
        # handler records carry this span on (runtime/db.py).
        with self._tracer.start_as_current_span(
                tracing.rpc_span_name(self.service, spec.name), context=tracing.extract(req.headers),
                kind=tracing.SpanKind.SERVER, attributes=tracing.rpc_attributes(self.service, spec.name, spec.subject)
        ) as span:
            outcome = await self._answer(spec, req)
            span.set_attribute("congdoan.outcome", outcome)
            if outcome in _SERVER_FAULTS:  # the caller's mistakes (4xx) are not the server's errors
                tracing.fail(span, outcome)

    async def _answer(self, spec: EndpointSpec, req: Request) -> str:
        started = time.perf_counter()
        outcome = "ok"
        try:
            reply = await self.handle(spec, req.data, req.headers)
            await req.respond(reply.model_dump_json().encode())
        except ApiError as err:
            outcome = err.code.value
            await self._error(req, err)
        except Exception as exc:  # a bug or an outage: the caller still gets a structured answer
            if is_unavailable(exc):  # the database does not answer: try again later, not a bug
                outcome = ErrorCode.UNAVAILABLE.value
                log.warning("request failed: database unavailable", endpoint=spec.name, error=repr(exc)[:500])
                await self._error(req, Unavailable(self.retry_after_s))
                return outcome
            outcome = "internal_error"
            log.exception("request failed", endpoint=spec.name)
            await self._error(req, ApiError(ErrorCode.INTERNAL, f"Lỗi hệ thống ({type(exc).__name__}); xin thử lại sau."))
        finally:
            REQUESTS.labels(self.service, spec.name, outcome).inc()
            REQUEST_SECONDS.labels(self.service, spec.name).observe(time.perf_counter() - started)
        return outcome

    async def handle(self, spec: EndpointSpec, data: bytes, headers: dict[str, str] | None = None) -> BaseModel:
        if len(data) > self.max_bytes:
            raise ApiError(ErrorCode.TOO_LARGE, f"Yêu cầu dài {len(data)} byte, vượt giới hạn {self.max_bytes} byte.")
        principal = None if spec.public else await self.authenticate(headers)
        try:  # size, depth, UTF-8, JSON, control characters, number bounds: never a 500
            obj = parse_json(data, max_bytes=self.max_bytes, empty={})
        except BadInput as exc:
            raise _bad_input(exc) from None
        try:
            request = spec.request.model_validate(obj)
        except ValidationError as exc:
            raise ApiError(ErrorCode.VALIDATION, validation.summary(exc), validation.details(exc)) from None
        try:
            return await self.handlers[spec.name](request, principal)
        except DomainError as exc:
            raise api_error(exc) from None

    async def authenticate(self, headers: dict[str, str] | None) -> Principal:
        try:
            if self.verifier is None:
                raise Unauthenticated("this service verifies no tokens", detail="Dịch vụ này chưa được cấu hình để "
                                                                               "kiểm tra mã xác thực.")
            return await self.verifier.verify(bearer(headers))
        except Unauthenticated as exc:
            log.debug("request unauthenticated", reason=str(exc))
            raise ApiError(ErrorCode.UNAUTHENTICATED, exc.vietnamese,
                           [{"field": "Authorization", "message": exc.detail, "type": exc.kind}]) from None

    async def _error(self, req: Request, err: ApiError) -> None:
        body = error_reply(err.code, err.message, err.details).model_dump_json().encode()
        retry = getattr(err, "retry_after_s", None)
        # Header values must be one line of bounded size.
        await req.respond_error(str(STATUS[err.code]), " ".join(err.message.split())[:500], data=body,
                                headers={"Retry-After": str(retry)} if retry else None)
