"""Rules of logins (no I/O): user names, the password policy, and the backoff after failed
attempts.

Backoff, not a permanent lock: from the third failure in a row a login waits 1 s, then 2, 4, 8 …
up to 15 minutes before the next try is even checked; a success, or an administrator's reset,
forgets the failures. A permanent lock would let anyone who knows a user name lock a cadre out.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

BACKOFF_FROM = 3  # failures in a row before waits begin
MAX_WAIT = timedelta(minutes=15)
MIN_PASSWORD = 10


def normalize_username(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().lower()


def wait_after(failures: int) -> timedelta:
    """How long a login must wait after `failures` failed attempts in a row."""
    if failures < BACKOFF_FROM:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - BACKOFF_FROM)), MAX_WAIT)


def password_problems(password: str, username: str) -> list[str]:
    """What is wrong with a new password, in Vietnamese (empty: acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")
    if password.strip() != password:
        problems.append("Mật khẩu không được bắt đầu hoặc kết thúc bằng khoảng trắng.")
    if normalize_username(password) == normalize_username(username) or (
            username and normalize_username(username) in normalize_username(password)):
        problems.append("Mật khẩu không được chứa tên đăng nhập.")
    if len(set(password)) < 4:
        problems.append("Mật khẩu quá đơn giản: cần nhiều ký tự khác nhau hơn.")
    return problems


@dataclass
class Login:
    person_id: str
    username: str
    password_hash: str
    must_change: bool
    failed_attempts: int
    locked_until: datetime | None
    last_login_at: datetime | None
    password_changed_at: datetime
    updated_by: str | None = None


@dataclass
class RefreshRecord:
    token_hash: str
    family_id: str
    person_id: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
