"""Shapes every endpoint shares: the structured error reply and paging."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from contracts.types import Model


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"  # not JSON, not UTF-8
    VALIDATION = "validation_error"  # JSON, but not the request's shape
    TOO_LARGE = "payload_too_large"
    NOT_FOUND = "not_found"
    UNAUTHENTICATED = "unauthenticated"  # no bearer token, or one that does not verify
    FORBIDDEN = "forbidden"
    PASSWORD_CHANGE_REQUIRED = "password_change_required"  # log in after change_password
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # failed logins: wait (details say how long)
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal_error"


# The numeric code carried in the `Nats-Service-Error-Code` header (ADR-32), HTTP-like.
STATUS = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.VALIDATION: 422,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.PASSWORD_CHANGE_REQUIRED: 403,
    ErrorCode.TOO_MANY_ATTEMPTS: 429,
    ErrorCode.CONFLICT: 409,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.INTERNAL: 500,
}


class ErrorDetail(Model):
    field: str = Field(description="dotted path of the offending field, empty for the whole body")
    message: str
    type: str | None = None


class ErrorBody(Model):
    code: ErrorCode
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorReply(Model):
    """Body of every error reply; the same code and message also travel in the ADR-32 headers."""

    error: ErrorBody


class Page(Model):
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=200)


def error_reply(code: ErrorCode, message: str, details: list[dict[str, Any]] | None = None) -> ErrorReply:
    return ErrorReply(error=ErrorBody(code=code, message=message,
                                      details=[ErrorDetail(**d) for d in (details or [])]))
