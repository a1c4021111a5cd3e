"""Eligibility for awards, from what awards has heard of other services. Plain Python."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class UnitStanding:
    """awards' projection, per unit and period: has it reported, and on time?"""

    unit_id: str
    period: str
    report_submitted: bool = False
    report_on_time: bool = False
    last_revision: int = 0

    def record_report(self, revision: int, on_time: bool) -> None:
        # Events may arrive out of order: the highest revision wins.
        if revision < self.last_revision:
            return
        self.last_revision = revision
        self.report_submitted = True
        self.report_on_time = on_time

    def reasons_not_eligible(self) -> list[str]:
        if not self.report_submitted:
            return [f"Chưa gửi báo cáo kết quả kỳ {self.period}"]
        if not self.report_on_time:
            return [f"Báo cáo kết quả kỳ {self.period} gửi trễ hạn"]
        return []
