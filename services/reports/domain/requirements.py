"""Requirements from plans: an item of an issued plan whose output is a report becomes a reporting
requirement per period. Plain Python, no I/O (the service layer passes the item's fields in).

Reading of a plan item (decisions where the issue is silent):
- Only items with a due date open requirements: the yearly timings ("trước ngày 30/11 hàng năm" →
  each year, due 30/11; "vào tháng 12 hằng năm" → due 31/12; a yearly window → its last day) and
  the one-off ones ("tháng 12/2021", "quý IV/2021", a date). "Thường xuyên" and "hằng năm" without
  a date travel as ongoing and ask for no report of their own (the seed's IV.2.b is the 30/11
  report again).
- Who reports: the unit kinds of the item's ``units_of_kind`` parties, under the issuer. An item
  only the issuer's departments answer for (the seed's IV.1.1.e: Ban TG-NC consolidates and
  reports up) is not a requirement on units: it is the consolidation itself.
- Who receives: the issuer; its department is read from the words "(qua Ban …)" of the content
  ("gửi báo cáo … về LĐLĐ tỉnh (qua Ban Tuyên giáo - Nữ công)"), the only place plan.issued says it.
- Periods: the same labels as plans' occurrences ("2026", "2026-12", "2026-Q4"). Nothing is
  opened in the past: a yearly item opens the first year whose due date is on or after both the
  issue date and today, and a yearly roll (1 January) opens each next year while the plan is open;
  a one-off item due before that is skipped.
- Idempotent per (plan, item, period): the requirement id is derived from them.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.reports.domain.export import vn_period

YEARLY_KINDS = {"yearly_by_day", "yearly_by_month", "yearly_window"}
ONCE_KINDS = {"once_by_date", "once_by_month", "once_by_quarter"}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,99}$")
_VIA = re.compile(r"\bqua\s+(Ban\s[^();,.]+?)\s*\)", re.IGNORECASE)


@dataclass(frozen=True)
class TimingSpec:
    """The fields of contracts.types.Timing that matter here."""

    kind: str
    year: int | None = None
    month: int | None = None
    day: int | None = None
    quarter: int | None = None
    end_month: int | None = None
    end_day: int | None = None

    @property
    def yearly(self) -> bool:
        return self.kind in YEARLY_KINDS

    @property
    def dated(self) -> bool:
        return self.kind in YEARLY_KINDS | ONCE_KINDS

    def due_in(self, year: int) -> date:
        """Due date of a yearly timing in ``year``."""
        if self.kind == "yearly_by_day":
            return _day(year, self.month or 12, self.day or 31)
        if self.kind == "yearly_by_month":
            return _month_end(year, self.month or 12)
        if self.kind == "yearly_window":
            if self.end_month:
                return _day(year, self.end_month, self.end_day or calendar.monthrange(year, self.end_month)[1])
            return _month_end(year, self.month or 12)
        raise ValueError(f"{self.kind} is not a yearly timing")

    def once(self) -> tuple[str, date] | None:
        """(period, due) of a one-off timing."""
        if self.year is None:
            return None
        if self.kind == "once_by_date" and self.month and self.day:
            return f"{self.year}-{self.month:02d}", _day(self.year, self.month, self.day)
        if self.kind == "once_by_month" and self.month:
            return f"{self.year}-{self.month:02d}", _month_end(self.year, self.month)
        if self.kind == "once_by_quarter" and self.quarter:
            return f"{self.year}-Q{self.quarter}", _month_end(self.year, self.quarter * 3)
        return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class ItemTemplate:
    """What a requirement needs from a plan item; kept (as JSON) with the yearly roll reminder."""

    plan_id: str
    plan_number: str
    plan_title: str
    item_id: str
    content: str
    issuer_unit_id: str
    reporting_kinds: tuple[str, ...]
    timing: TimingSpec
    receiving_department: str | None

    def to_dict(self) -> dict[str, Any]:
        t = self.timing
        return {"plan_id": self.plan_id, "plan_number": self.plan_number, "plan_title": self.plan_title,
                "item_id": self.item_id, "content": self.content, "issuer_unit_id": self.issuer_unit_id,
                "reporting_kinds": list(self.reporting_kinds), "receiving_department": self.receiving_department,
                "timing": {"kind": t.kind, "year": t.year, "month": t.month, "day": t.day, "quarter": t.quarter,
                           "end_month": t.end_month, "end_day": t.end_day}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ItemTemplate:
        return cls(plan_id=d["plan_id"], plan_number=d["plan_number"], plan_title=d["plan_title"],
                   item_id=d["item_id"], content=d["content"], issuer_unit_id=d["issuer_unit_id"],
                   reporting_kinds=tuple(d["reporting_kinds"]), timing=TimingSpec(**d["timing"]),
                   receiving_department=d.get("receiving_department"))

    def requirement_id(self, period: str) -> str:
        return requirement_id_for(self.plan_id, self.item_id, period)

    def name(self, period: str) -> str:
        """'Báo cáo kết quả thực hiện Kế hoạch số KH-01/LĐLĐ thực hiện Kết luận số 01-KL/TW … năm 2026':
        the plan's number and what it is about (its title without the word "Kế hoạch"), then the
        period in words."""
        title = " ".join(self.plan_title.split())
        if title.casefold().startswith("kế hoạch "):
            title = title[len("kế hoạch "):]
        label = vn_period(period)
        about = f" {title}" if title else ""
        return _clip(f"Báo cáo kết quả thực hiện Kế hoạch số {self.plan_number}{about}"
                     + ("" if label.casefold() in title.casefold() else f" {label}"), 500)


def template_of(plan_id: str, plan_number: str, plan_title: str, issuer_unit_id: str, item_id: str, output: str,
                content: str, timing: TimingSpec, parties: list[dict[str, Any]]) -> ItemTemplate | None:
    """The requirement template of a plan item, or None when the item asks no report of units."""
    if output != "report" or not timing.dated:
        return None
    kinds: list[str] = []
    for p in parties:
        if p.get("kind") == "units_of_kind":
            for k in p.get("unit_kinds") or ():
                if str(k) not in kinds:
                    kinds.append(str(k))
    if not kinds:
        return None
    return ItemTemplate(plan_id=plan_id, plan_number=plan_number, plan_title=plan_title, item_id=item_id,
                        content=content, issuer_unit_id=issuer_unit_id, reporting_kinds=tuple(kinds), timing=timing,
                        receiving_department=receiving_department_of(content))


def receiving_department_of(content: str) -> str | None:
    """'… về LĐLĐ tỉnh (qua Ban Tuyên giáo - Nữ công) để …' → 'Ban Tuyên giáo - Nữ công'."""
    m = _VIA.search(unicodedata.normalize("NFC", content))
    return " ".join(m.group(1).split()) if m else None


def first_period(t: ItemTemplate, issued_on: date, today: date) -> tuple[str, date] | None:
    """The period to open now: nothing in the past (see the module docstring)."""
    start = max(issued_on, today)
    if t.timing.yearly:
        year = start.year
        if t.timing.due_in(year) < start:
            year += 1
        return str(year), t.timing.due_in(year)
    once = t.timing.once()
    if once is None or once[1] < start:
        return None
    return once


def requirement_id_for(plan_id: str, item_id: str, period: str) -> str:
    rid = f"{plan_id}:{item_id}:{period}"
    if _ID.match(rid):
        return rid
    return "rq-" + hashlib.sha256(rid.encode()).hexdigest()[:32]


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1] + "…"
