"""The services, as the logged-in person sees them: every call goes over NATS with the session's
bearer token (runtime.client.ApiClient renews it). Error replies become `Problem`s — a sentence
a cadre understands, and the field errors the form shows at its fields."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

import nats.errors

from runtime.client import ApiClient, RequestFailed, raw_request
from services.web.sessions import Session

UNAVAILABLE = "Hệ thống đang bận hoặc tạm ngừng; đề nghị đồng chí thử lại sau ít phút."


class SessionExpired(Exception):
    """The session's tokens no longer work (expired, revoked, logged out elsewhere)."""


@dataclass
class Problem(Exception):
    """A refusal to show: `message` in Vietnamese, `fields` by form field (dotted path)."""

    message: str
    code: str = "error"
    fields: dict[str, str] = field(default_factory=dict)
    status: int = 400

    def __str__(self) -> str:
        return self.message


STATUS = {"validation_error": 422, "bad_request": 400, "not_found": 404, "forbidden": 403, "conflict": 409,
          "too_many_attempts": 429, "password_change_required": 403, "unauthenticated": 401,
          "unavailable": 503, "internal_error": 500, "payload_too_large": 413}

# Known refusals whose message the services word for programmers, by (code, field, detail).
_CONFLICTS = [
    ("past the cut-off", "Đã quá thời hạn cuối nhận báo cáo; đơn vị không gửi được nữa."),
    ("not expected to report", "Đơn vị của đồng chí không thuộc diện phải gửi báo cáo này."),
    ("out of the issuer's subtree", "Đơn vị của đồng chí không thuộc phạm vi của yêu cầu báo cáo này."),
    ("not in the hierarchy of the period", "Đơn vị không thuộc hệ thống tổ chức trong kỳ báo cáo này."),
    ("closed unit", "Đơn vị đã giải thể hoặc sáp nhập."),
    ("changed meanwhile", "Báo cáo vừa được đơn vị sửa và gửi lại; đề nghị xem lại trước khi duyệt."),
]


_CODES = re.compile(r"\s*\((?:[a-z][a-z0-9_]*(?: = [^)]*)?)\)")


def vietnamese(message: str) -> str:
    """The Vietnamese half of a bilingual "vi / en" message, without the fields' program names
    ("(cadres_total = 9)", "(limitations)")."""
    return _CODES.sub("", message.split(" / ")[0]).strip()


def problem_of(exc: RequestFailed) -> Problem:
    err = exc.error or {}
    code = str(err.get("code") or "error")
    message = str(err.get("message") or "")
    details = err.get("details") or []
    fields: dict[str, str] = {}
    for d in details:
        path = str(d.get("field") or "")
        text = vietnamese(str(d.get("message") or ""))
        # values.a,b (a rule over two fields): shown at both
        head, _, rest = path.partition(".")
        keys = [f"{head}.{k}" for k in rest.split(",")] if head == "values" and rest else [path]
        for k in keys:
            fields.setdefault(k, text)
    status = STATUS.get(code, 400)
    if code == "validation_error":
        if any(k.startswith("values.") for k in fields):
            return Problem("Báo cáo chưa hợp lệ; đề nghị sửa các ô được đánh dấu.", code, fields, status)
        return Problem("Thông tin nhập chưa hợp lệ; đề nghị kiểm tra lại các ô được đánh dấu.", code, fields, status)
    if code == "not_found":
        return Problem("Không tìm thấy nội dung đồng chí yêu cầu (có thể đã bị xóa, hoặc đường dẫn không đúng).",
                       code, fields, status)
    if code == "conflict":
        joined = " ".join([message] + [str(d.get("message") or "") for d in details])
        for needle, text in _CONFLICTS:
            if needle in joined:
                return Problem(text, code, fields, status)
        return Problem(f"Không thực hiện được việc này: {vietnamese(message)}", code, fields, status)
    if code in ("forbidden", "too_many_attempts", "password_change_required"):
        return Problem(vietnamese(message) or "Đồng chí không được thực hiện việc này.", code, fields, status)
    if code == "unavailable":
        return Problem(UNAVAILABLE, code, fields, status)
    if code == "internal_error":
        return Problem("Hệ thống gặp lỗi khi xử lý yêu cầu; đề nghị thử lại hoặc báo quản trị viên.", code, fields,
                       status)
    return Problem(vietnamese(message) or "Không thực hiện được việc này.", code, fields, status)


class Gateway:
    """One NATS connection for the whole process; each call carries the session's token."""

    def __init__(self, nc: Any, timeout: float = 30, attempts: int = 10) -> None:
        self.nc = nc
        self.timeout = timeout
        self.attempts = attempts  # a service without responders (restarting): 0.2 s apart, then "unavailable"

    async def login(self, username: str, password: str) -> ApiClient:
        try:
            return await ApiClient.login(self.nc, username, password)
        except RequestFailed as exc:
            if exc.code == "unauthenticated":
                raise Problem("Tên đăng nhập hoặc mật khẩu không đúng.", "unauthenticated", status=401) from None
            raise problem_of(exc) from None
        except (TimeoutError, nats.errors.Error, OSError):
            raise Problem(UNAVAILABLE, "unavailable", status=503) from None

    async def public(self, service: str, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        """An endpoint served without a token (change_password)."""
        try:
            return await raw_request(self.nc, service, endpoint, body, timeout=self.timeout, attempts=self.attempts)
        except RequestFailed as exc:
            raise problem_of(exc) from None
        except (TimeoutError, nats.errors.Error, OSError):
            raise Problem(UNAVAILABLE, "unavailable", status=503) from None

    async def call(self, session: Session, service: str, endpoint: str, body: dict[str, Any] | None = None,
                   timeout: float | None = None, attempts: int | None = None) -> dict[str, Any]:
        try:
            token = await session.client.bearer()
        except RequestFailed:
            raise SessionExpired() from None  # the refresh token was refused: log in again
        except (TimeoutError, nats.errors.Error, OSError):
            raise Problem(UNAVAILABLE, "unavailable", status=503) from None
        try:
            return await raw_request(self.nc, service, endpoint, body or {}, token=token,
                                     timeout=timeout or self.timeout, attempts=attempts or self.attempts)
        except RequestFailed as exc:
            if exc.code == "unauthenticated":
                raise SessionExpired() from None
            raise problem_of(exc) from None
        except (TimeoutError, nats.errors.Error, OSError):
            raise Problem(UNAVAILABLE, "unavailable", status=503) from None

    async def logout(self, session: Session) -> None:
        try:
            await asyncio.wait_for(session.client.logout(), timeout=5)
        except Exception:  # the session ends here anyway; its refresh token expires on its own
            pass
