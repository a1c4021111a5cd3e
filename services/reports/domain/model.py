"""Reports: submissions of units, judged against a due date in Vietnamese local time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass
class DirectoryUnit:
    """reports' own projection of a unit of the directory (from plans' events)."""

    unit_id: str
    name: str
    kind: str
    parent_id: str | None


@dataclass
class Report:
    report_id: str
    requirement_id: str
    period: str
    unit_id: str
    receiving_unit_id: str | None
    revision: int
    submitted_at: datetime
    due_date: date | None
    on_time: bool
    values: dict[str, Any] = field(default_factory=dict)

    def resubmit(self, values: dict[str, Any], at: datetime) -> None:
        self.revision += 1
        self.values = values
        self.submitted_at = at
        self.on_time = is_on_time(at, self.due_date)


def default_due_date(period: str) -> date | None:
    """Until requirements carry their own dates: the annual results report is due before 30/11."""
    if len(period) == 4:
        return date(int(period), 11, 30)
    return None


def is_on_time(at: datetime, due: date | None) -> bool:
    # `at` is already Asia/Ho_Chi_Minh (the shared clock): the local calendar day is what counts.
    return due is None or at.date() <= due
