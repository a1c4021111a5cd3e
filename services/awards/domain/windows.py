"""When a plan item whose output is an award round calls for a round, and its window. Plain Python.

The item's timing comes as the plan's data (the `Timing` of the contracts, as a dict):

* yearly kinds (a window every year, "hằng năm"): one round per year. The seed's "Hàng năm trong dịp
  … Tháng Công nhân, kỷ niệm Ngày sinh của Chủ tịch Hồ Chí Minh" is the May window (1/5–31/5)
  anchored on 19/5; "thường xuyên" (ongoing commendation) is a round spanning each calendar year;
  "trước ngày 30/11 hằng năm" runs from 1/1 to that day; "vào tháng 12 hằng năm" is that month.
* once kinds ("quý IV/2021", "tháng 12/2021", a date): one round, from the plan's issue date to
  that deadline.

A round is opened for the first window that is not over on the day the plan is seen (a plan issued
years ago does not open rounds for years gone by); the next year's is opened ahead of its window
by a durable reminder.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

YEARLY_KINDS = {"ongoing", "yearly_by_day", "yearly_by_month", "yearly_window"}
ONCE_KINDS = {"once_by_date", "once_by_month", "once_by_quarter"}
# Open next year's round this long before its window starts (nominations are prepared ahead).
LEAD_DAYS = 30
WORKERS_MONTH_ANCHOR = (5, 19)  # Ho Chi Minh's birthday, the focal day of Workers' Month


@dataclass(frozen=True)
class Window:
    year: int
    opens_on: date
    closes_on: date
    anchor_on: date | None = None
    occasion: str | None = None  # workers_month, ongoing, year_end…


def _fold(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text.lower()).strip()


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def is_yearly(timing: dict[str, Any]) -> bool:
    return timing.get("kind") in YEARLY_KINDS


def window_for(timing: dict[str, Any], year: int, issued_on: date) -> Window | None:
    """The window of the round for `year`, or None when the timing calls for none that year."""
    kind = timing.get("kind")
    text = _fold(timing.get("text"))
    m, d = timing.get("month"), timing.get("day")
    if kind == "ongoing":
        return Window(year, date(year, 1, 1), date(year, 12, 31), None, "ongoing")
    if kind == "yearly_by_day" and m:
        return Window(year, date(year, 1, 1), _day(year, m, d or 1), None, "yearly")
    if kind == "yearly_by_month" and m:
        return Window(year, date(year, m, 1), _month_end(year, m), None, "year_end" if m == 12 else "yearly")
    if kind == "yearly_window":
        start_m = m or 1
        end_m = timing.get("end_month") or start_m
        opens = _day(year, start_m, d or 1)
        closes = _day(year, end_m, timing.get("end_day") or 31)
        if closes < opens:
            return None
        anchor = date(year, *WORKERS_MONTH_ANCHOR)
        workers = ("thang cong nhan" in text or "ngay sinh" in text
                   or (not text and opens.month == 5 and closes.month == 5))
        if workers and opens <= anchor <= closes:
            return Window(year, opens, closes, anchor, "workers_month")
        return Window(year, opens, closes, None, "yearly")
    if kind in ONCE_KINDS:
        due_year = timing.get("year")
        if due_year != year or due_year is None:
            return None
        if kind == "once_by_date" and m:
            closes = _day(year, m, d or 1)
        elif kind == "once_by_month" and m:
            closes = _month_end(year, m)
        elif kind == "once_by_quarter" and timing.get("quarter"):
            closes = _month_end(year, int(timing["quarter"]) * 3)
        else:
            return None
        opens = max(issued_on, date(year, 1, 1))
        return Window(year, min(opens, closes), closes, None, "once")
    return None


def first_window(timing: dict[str, Any], issued_on: date, today: date) -> Window | None:
    """The first window not yet over, seen from max(issue date, today)."""
    ref = max(issued_on, today)
    if is_yearly(timing):
        for year in (ref.year, ref.year + 1):
            w = window_for(timing, year, issued_on)
            if w is not None and w.closes_on >= ref:
                return w
        return None
    fixed_year = timing.get("year")
    if fixed_year is None:
        return None
    w = window_for(timing, int(fixed_year), issued_on)
    return w if w is not None and w.closes_on >= ref else None


def next_opening(timing: dict[str, Any], after_year: int, issued_on: date) -> tuple[date, Window] | None:
    """When to open the round of the year after `after_year`, and its window (yearly kinds only)."""
    if not is_yearly(timing):
        return None
    w = window_for(timing, after_year + 1, issued_on)
    if w is None:
        return None
    return w.opens_on - timedelta(days=LEAD_DAYS), w


def planned_round_name(window: Window, plan_number: str) -> str:
    y = window.year
    if window.occasion == "workers_month":
        base = f"Khen thưởng dịp Tháng Công nhân, kỷ niệm Ngày sinh Chủ tịch Hồ Chí Minh năm {y}"
    elif window.occasion == "ongoing":
        base = f"Khen thưởng thường xuyên năm {y}"
    elif window.occasion == "year_end":
        base = f"Khen thưởng tổng kết năm {y}"
    else:
        base = f"Đợt khen thưởng năm {y}"
    return f"{base} (theo Kế hoạch {plan_number})"
