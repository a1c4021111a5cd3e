"""Errors the plumbing understands."""

from __future__ import annotations

from typing import Any

from contracts.api.common import ErrorCode


class PermanentError(Exception):
    """Raised by an event handler when retrying cannot help (the event contradicts the service's
    state for good): the message is parked at once, with this as the reason."""


class ApiError(Exception):
    """Raised by request handlers: becomes a structured error reply (body + ADR-32 headers)."""

    def __init__(self, code: ErrorCode, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []


def not_found(what: str) -> ApiError:
    return ApiError(ErrorCode.NOT_FOUND, f"{what} not found")


def forbidden(message: str) -> ApiError:
    return ApiError(ErrorCode.FORBIDDEN, message)


def conflict(message: str, details: list[dict[str, Any]] | None = None) -> ApiError:
    return ApiError(ErrorCode.CONFLICT, message, details)
