"""Telling an unreachable database from a failing statement or handler (runtime/db.py)."""

from __future__ import annotations

import sqlite3

import asyncpg.exceptions
import pytest
import sqlalchemy as sa

from runtime.db import is_lock_contention, is_unavailable


def _wrapped(orig: BaseException, cls: type[sa.exc.DBAPIError] = sa.exc.OperationalError) -> BaseException:
    return cls("SELECT 1", {}, orig)  # type: ignore[arg-type]


@pytest.mark.parametrize("exc,expected", [
    (_wrapped(ConnectionRefusedError(111, "Connection refused")), True),
    (_wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")), True),
    (_wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), sa.exc.DBAPIError), True),
    (asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"), True),
    (_wrapped(sqlite3.OperationalError("database is locked")), True),
    (_wrapped(sqlite3.OperationalError("no such table: report_facts")), False),  # a bug, not an outage
    (_wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key"), sa.exc.IntegrityError), False),
    (sa.exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"), True),
    (FileNotFoundError(2, "No such file"), False),  # of the OSErrors, only connection errors and timeouts
    (ConnectionResetError(), True),
    (ValueError("bad value"), False),
    (KeyError("x"), False),
])
def test_outages_are_told_from_failures(exc, expected):
    assert is_unavailable(exc) is expected


def test_causes_are_followed():
    try:
        try:
            raise _wrapped(ConnectionRefusedError(111, "refused"))
        except Exception as inner:
            raise RuntimeError("use case failed") from inner
    except RuntimeError as outer:
        assert is_unavailable(outer)
    assert is_lock_contention(_wrapped(sqlite3.OperationalError("database table is locked: inbox")))
    assert not is_lock_contention(_wrapped(ConnectionRefusedError()))
