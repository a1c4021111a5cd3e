"""Errors the plumbing understands, and the one mapping from a broken rule to an API error.

A use case or a domain rule raises a `DomainError` — `Invalid` (the input contradicts itself or a
rule: 422), `Conflict` (the state forbids it now: 409), `Forbidden` (this caller may not: 403),
`NotFound` (404) — with a message in Vietnamese for the person and the request field at fault.
The API server turns it into the structured error reply (`api_error`), the same for every service;
a service never builds the reply itself."""

from __future__ import annotations

from typing import Any

from contracts.api.common import ErrorCode


class PermanentError(Exception):
    """Raised by an event handler when retrying cannot help (the event contradicts the service's
    state for good): the message is parked at once, with this as the reason."""


class ApiError(Exception):
    """A structured error reply (body + ADR-32 headers). The runtime raises it for what it checks
    itself (authentication, body size and shape); use cases raise `DomainError`s."""

    def __init__(self, code: ErrorCode, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []


class DomainError(Exception):
    """A rule was broken. `field` names the request field at fault ("" for the request as a whole);
    `details` may list several fields at once."""

    code: ErrorCode = ErrorCode.CONFLICT

    def __init__(self, message: str, field: str = "", details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field or ""
        self.details = details


class Invalid(DomainError):
    code = ErrorCode.VALIDATION


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class TooLarge(DomainError):
    """What the request asks for exceeds a limit the service sets (413), e.g. an import's size."""

    code = ErrorCode.TOO_LARGE


def api_error(e: DomainError) -> ApiError:
    """The one mapping from a broken rule to the reply a caller gets."""
    details = e.details if e.details is not None else ([{"field": e.field, "message": e.message}] if e.field else [])
    return ApiError(e.code, e.message, details)


def not_found(what: str, field: str = "") -> NotFound:
    """`what` in Vietnamese, e.g. not_found(f"kế hoạch {plan_id}")."""
    return NotFound(f"Không tìm thấy {what}.", field)


def forbidden(message: str, field: str = "") -> Forbidden:
    return Forbidden(message, field)


def conflict(message: str, details: list[dict[str, Any]] | None = None, field: str = "") -> Conflict:
    return Conflict(message, field, details)


class Unavailable(ApiError):
    """503: a dependency (the database) does not answer now; the same request may succeed later.
    The reply says when to try again: a `Retry-After` header (seconds) and a `retry_after` detail."""

    def __init__(self, retry_after_s: int = 5, message: str | None = None) -> None:
        message = message or f"Hệ thống tạm thời không truy cập được cơ sở dữ liệu. Vui lòng thử lại sau {retry_after_s} giây."
        super().__init__(ErrorCode.UNAVAILABLE, message,
                         [{"field": "", "message": str(retry_after_s), "type": "retry_after"}])
        self.retry_after_s = retry_after_s
