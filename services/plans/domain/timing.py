"""When a plan item is due: the timing vocabulary of the seed plan, as data. Plain Python, no I/O.

A plan item says when it is due in Vietnamese ("thường xuyên", "quý IV/2021", "trước ngày 30/11
hằng năm"…). Here each phrase becomes a small frozen value that can list its occurrences for a run
of years and go to and from JSON. The dates are calendar dates in Vietnam (Asia/Ho_Chi_Minh, UTC+7),
not instants: "30/11" is the whole local day of 30 November.

Deadline rule (decided here, used everywhere): an occurrence's ``due`` is the last local day on
which a submission is on time. "Trước ngày 30/11" is read as due 30/11 inclusive, not 29/11:
that is how Vietnamese administrative deadlines are used in practice (units send on the 30th and
expect it to count), reports cluster in the last days before 30/11 (DOMAIN.md), and marking every
30/11 report late would make the overdue signal useless. Reminders can still go out earlier.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class TimingError(ValueError):
    """A timing phrase or stored timing could not be understood."""


@dataclass(frozen=True)
class Occurrence:
    """One instance of a timing: the reporting period it belongs to and its dates.

    ``start`` is set only when the text says "not before" (a window such as May); ``due`` is None
    when the text fixes no deadline (ongoing, or "every year" without a date). ``anchor`` is the
    day a window is built around (19/5), for display and reminders.
    """

    period: str
    start: date | None
    due: date | None
    anchor: date | None = None


# --- local-date helpers ------------------------------------------------------------------------

def local_date(moment: datetime) -> date:
    """The Vietnamese calendar day of an instant. Naive datetimes are refused: their day is a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TimingError("Thời điểm không có múi giờ nên không xác định được ngày ở Việt Nam.")
    return moment.astimezone(VN_TZ).date()


def deadline_instant(due: date) -> datetime:
    """The first instant that is late for ``due``: local midnight starting the next day (exclusive)."""
    return datetime.combine(due + timedelta(days=1), time.min, tzinfo=VN_TZ)


def is_on_time(submitted: date | datetime, due: date | None) -> bool:
    """On time means on or before the due local date. No due date means never late."""
    if due is None:
        return True
    day = local_date(submitted) if isinstance(submitted, datetime) else submitted
    return day <= due


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _day_in_year(year: int, month: int, day: int) -> date:
    # A yearly 29/2 falls on 28/2 in common years rather than vanishing.
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _check_month_day(month: int, day: int) -> None:
    if not 1 <= month <= 12:
        raise TimingError(f"Không có tháng {month} (tháng từ 1 đến 12).")
    if not 1 <= day <= calendar.monthrange(2024, month)[1]:  # 2024: a leap year allows 29/2
        raise TimingError(f"Tháng {month} không có ngày {day}.")


def _years(from_year: int, to_year: int) -> range:
    if from_year > to_year:
        raise TimingError(f"Năm bắt đầu {from_year} sau năm kết thúc {to_year}.")
    return range(from_year, to_year + 1)


# --- timing kinds ------------------------------------------------------------------------------

class Timing:
    """Base of every timing kind. ``kind`` is the stable JSON tag."""

    kind: ClassVar[str]

    def occurrences(self, from_year: int, to_year: int) -> list[Occurrence]:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def has_deadline(self) -> bool:
        """Whether occurrences carry a due date (so reminders and overdue notices apply)."""
        return True


@dataclass(frozen=True)
class Ongoing(Timing):
    """"thường xuyên": no deadline, but activity is expected and counted in each year's report.

    One occurrence per year (period "2021"…) so activity can be grouped by year; due is None.
    ``periodic`` marks "thường xuyên và theo định kỳ": ongoing, and also reported at intervals the
    text does not fix.
    """

    kind: ClassVar[str] = "ongoing"
    periodic: bool = False

    def occurrences(self, from_year: int, to_year: int) -> list[Occurrence]:
        return [Occurrence(str(y), None, None) for y in _years(from_year, to_year)]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "periodic": self.periodic}

    @property
    def has_deadline(self) -> bool:
        return False


@dataclass(frozen=True)
class OnceByDate(Timing):
    """Once, by a given date ("trước ngày 15/12/2021"). Period label is the due month ("2021-12")."""

    kind: ClassVar[str] = "once_by_date"
    due: date

    def occurrences(self, from_year: int, to_year: int) -> list[Occurrence]:
        if self.due.year not in _years(from_year, to_year):
            return []
        return [Occurrence(f"{self.due.year}-{self.due.month:02d}", None, self.due)]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "date": self.due.isoformat()}


@dataclass(frozen=True)
class OnceByMonthEnd(Timing):
    """Once, within a month ("hoàn thành trong tháng 12/2021"): due the last day of that month."""

    kind: ClassVar[str] = "once_by_month_end"
    year: int
    month: int

    def __post_init__(self) -> None:
        _check_month_day(self.month, 1)

    def occurrences(self, from_year: int, to_year: int) -> list[Occurrence]:
        if self.year not in _years(from_year, to_year):
            return []
        return [Occurrence(f"{self.year}-{self.month:02d}", None, _month_end(self.year, self.month))]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "year": self.year, "month": self.month}


@dataclass(frozen=True)
class OnceByQuarterEnd(Timing):
    """Once, within a quarter ("hoàn thành trong quý IV/2021"): due the quarter's last day."""

    kind: ClassVar[str] = "once_by_quarter_end"
    year: int
    quarter: int

    def __post_init__(self) -> None:
        if not 1 <= self.quarter <= 4:
            raise TimingError(f"Không có quý {self.quarter} (quý từ 1 đến 4).")

    def occurrences(self, from_year: int, to_year: int) -> list[Occurrence]:
        if self.year not in _years(from_year, to_year):
            return []
        return [Occurrence(f"{self.year}-Q{self.quarter}", None, _month_end(self.year, self.quarter * 3))]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "year": self.year, "quarter": self.quarter}


@dataclass(frozen=True)
class Yearly(Timing):
    """"hằng năm" with no date: one result per year is expected, but the text sets no deadline.

    We do not invent one (e.g. 31/12): the seed's real yearly deadline is the 30/11 report, and a
    made-up date would send reminders the plan never asked for. due is None; period is the year.
    """

    kind: ClassVar[str] = "yearly"

    def occurrences(self, from_year: int, to_year: int) -> list[Occurrence]:
        return [Occurrence(str(y), None, None) for y in _years(from_year, to_year)]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind}

    @property
    def has_deadline(self) -> bool:
        return False


@dataclass(frozen=True)
class YearlyByDay(Timing):
    """Every year by a day-month ("trước ngày 30/11 hằng năm" → due 30/11 each year, inclusive)."""

    kind: ClassVar[str] = "yearly_by_day"
    month: int
    day: int

    def __post_init__(self) -> None:
        _check_month_day(self.month, self.day)

    def occurrences(self, from_year: int, to_year: int) -> list[Occurrence]:
        return [Occurrence(str(y), None, _day_in_year(y, self.month, self.day)) for y in _years(from_year, to_year)]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "month": self.month, "day": self.day}


@dataclass(frozen=True)
class YearlyByMonthEnd(Timing):
    """Every year within a month ("hoàn thành vào tháng 12 hằng năm" → due 31/12 each year)."""

    kind: ClassVar[str] = "yearly_by_month_end"
    month: int

    def __post_init__(self) -> None:
        _check_month_day(self.month, 1)

    def occurrences(self, from_year: int, to_year: int) -> list[Occurrence]:
        return [Occurrence(str(y), None, _month_end(y, self.month)) for y in _years(from_year, to_year)]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "month": self.month}


@dataclass(frozen=True)
class YearlyWindow(Timing):
    """Every year inside a window, e.g. Workers' Month: 1/5–31/5 around 19/5 (Ho Chi Minh's birthday).

    The window must lie inside one calendar year (the period label is that year). Due is the
    window's last day: activity reported by then counts for the year's round.
    """

    kind: ClassVar[str] = "yearly_window"
    start_month: int
    start_day: int
    end_month: int
    end_day: int
    anchor_month: int | None = None
    anchor_day: int | None = None
    occasion: str | None = None

    def __post_init__(self) -> None:
        _check_month_day(self.start_month, self.start_day)
        _check_month_day(self.end_month, self.end_day)
        if (self.end_month, self.end_day) < (self.start_month, self.start_day):
            raise TimingError("Khoảng thời gian hằng năm không được kéo sang năm sau.")
        if (self.anchor_month is None) != (self.anchor_day is None):
            raise TimingError("Ngày trọng tâm cần có cả ngày và tháng.")
        if self.anchor_month is not None:
            _check_month_day(self.anchor_month, self.anchor_day)  # type: ignore[arg-type]
            if not ((self.start_month, self.start_day) <= (self.anchor_month, self.anchor_day)
                    <= (self.end_month, self.end_day)):
                raise TimingError("Ngày trọng tâm phải nằm trong khoảng thời gian.")

    def occurrences(self, from_year: int, to_year: int) -> list[Occurrence]:
        out = []
        for y in _years(from_year, to_year):
            anchor = (_day_in_year(y, self.anchor_month, self.anchor_day)
                      if self.anchor_month is not None and self.anchor_day is not None else None)
            out.append(Occurrence(str(y), _day_in_year(y, self.start_month, self.start_day),
                                  _day_in_year(y, self.end_month, self.end_day), anchor))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "start_month": self.start_month, "start_day": self.start_day,
                "end_month": self.end_month, "end_day": self.end_day, "anchor_month": self.anchor_month,
                "anchor_day": self.anchor_day, "occasion": self.occasion}


# Workers' Month (Tháng Công nhân) is May; 19/5 is Ho Chi Minh's birthday, the round's focal day.
WORKERS_MONTH = YearlyWindow(5, 1, 5, 31, anchor_month=5, anchor_day=19, occasion="workers_month")

TIMING_KINDS: dict[str, type[Timing]] = {
    cls.kind: cls for cls in (Ongoing, OnceByDate, OnceByMonthEnd, OnceByQuarterEnd, Yearly, YearlyByDay,
                              YearlyByMonthEnd, YearlyWindow)
}


# --- JSON --------------------------------------------------------------------------------------

def to_dict(timing: Timing) -> dict[str, Any]:
    """The JSON form of a timing, tagged by ``kind``."""
    return timing.to_dict()


def from_dict(data: dict[str, Any]) -> Timing:
    """Rebuild a timing from its JSON form; unknown kinds and fields are refused, not ignored."""
    if not isinstance(data, dict) or "kind" not in data:
        raise TimingError("Thời hạn phải là một đối tượng có trường “kind”.")
    kind = data["kind"]
    fields = {k: v for k, v in data.items() if k != "kind"}
    try:
        if kind == "ongoing":
            _only(fields, {"periodic"})
            return Ongoing(periodic=bool(fields.get("periodic", False)))
        if kind == "once_by_date":
            _only(fields, {"date"}, required={"date"})
            return OnceByDate(date.fromisoformat(fields["date"]))
        if kind == "once_by_month_end":
            _only(fields, {"year", "month"}, required={"year", "month"})
            return OnceByMonthEnd(_int(fields["year"]), _int(fields["month"]))
        if kind == "once_by_quarter_end":
            _only(fields, {"year", "quarter"}, required={"year", "quarter"})
            return OnceByQuarterEnd(_int(fields["year"]), _int(fields["quarter"]))
        if kind == "yearly":
            _only(fields, set())
            return Yearly()
        if kind == "yearly_by_day":
            _only(fields, {"month", "day"}, required={"month", "day"})
            return YearlyByDay(_int(fields["month"]), _int(fields["day"]))
        if kind == "yearly_by_month_end":
            _only(fields, {"month"}, required={"month"})
            return YearlyByMonthEnd(_int(fields["month"]))
        if kind == "yearly_window":
            req = {"start_month", "start_day", "end_month", "end_day"}
            _only(fields, req | {"anchor_month", "anchor_day", "occasion"}, required=req)
            am, ad = fields.get("anchor_month"), fields.get("anchor_day")
            return YearlyWindow(_int(fields["start_month"]), _int(fields["start_day"]), _int(fields["end_month"]),
                                _int(fields["end_day"]), None if am is None else _int(am),
                                None if ad is None else _int(ad), fields.get("occasion"))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, TimingError):
            raise
        raise TimingError(f"Thời hạn loại “{kind}” có giá trị không hợp lệ.") from None
    raise TimingError(f"Không có loại thời hạn “{kind}”.")


def _only(fields: dict[str, Any], allowed: set[str], required: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    extra = set(fields) - allowed
    if extra:
        raise TimingError(f"Có trường không dùng cho loại thời hạn này: {', '.join(sorted(extra))}.")
    missing = set(required) - set(fields)
    if missing:
        raise TimingError(f"Thiếu trường: {', '.join(sorted(missing))}.")


def _int(value: Any) -> int:
    # bool is an int in Python; a stored True is a bug, not month 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TimingError(f"Cần một số nguyên, không phải {value!r}.")
    return value


# --- parser ------------------------------------------------------------------------------------

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def _fold(text: str) -> str:
    """NFC, then strip diacritics and case, so "hằng năm", "hàng năm" and "Hang nam" all match."""
    text = unicodedata.normalize("NFC", text).replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text.lower()).strip()


_EVERY_YEAR = r"(?:hang|moi) nam"
_DATE = r"(\d{1,2})\s*/\s*(\d{1,2})(?!\d)"
_P_WORKERS = re.compile(r"thang cong nhan|ngay sinh (?:cua )?chu tich ho chi minh")
_P_PERIODIC = re.compile(r"thuong xuyen va (?:theo )?dinh ky")
_P_YEARLY_DAY = re.compile(rf"ngay {_DATE}(?!\s*/\s*\d)\s*,?\s*{_EVERY_YEAR}|{_EVERY_YEAR}\s*,?\s*(?:truoc )?ngay {_DATE}(?!\s*/\s*\d)")
_P_ONCE_DATE = re.compile(rf"ngay {_DATE}\s*/\s*(\d{{4}})")
_P_QUARTER = re.compile(r"quy (iv|iii|ii|i|[1-4])\s*/\s*(\d{4})")
_P_MONTH_YEAR = re.compile(r"thang (\d{1,2})\s*/\s*(\d{4})")
_P_YEARLY_MONTH = re.compile(rf"thang (\d{{1,2}})(?![\d/])(?!\s*/)\s*,?\s*{_EVERY_YEAR}")
_P_YEARLY = re.compile(rf"\b{_EVERY_YEAR}\b")
_P_ONGOING = re.compile(r"thuong xuyen")


_QUARTERS = {1: "I", 2: "II", 3: "III", 4: "IV"}


def label(timing: Timing) -> str:
    """The timing in the words of a plan: 'Thường xuyên', 'Trước ngày 30/11 hằng năm'…"""
    d = timing.to_dict()
    kind = d["kind"]
    if kind == "ongoing":
        return "Thường xuyên và theo định kỳ" if d.get("periodic") else "Thường xuyên"
    if kind == "once_by_date":
        return f"Trước ngày {date.fromisoformat(str(d['date'])):%d/%m/%Y}"
    if kind == "once_by_month_end":
        return f"Trong tháng {d['month']}/{d['year']}"
    if kind == "once_by_quarter_end":
        return f"Trong quý {_QUARTERS[int(d['quarter'])]}/{d['year']}"
    if kind == "yearly":
        return "Hằng năm"
    if kind == "yearly_by_day":
        return f"Trước ngày {int(d['day']):02d}/{int(d['month']):02d} hằng năm"
    if kind == "yearly_by_month_end":
        return f"Trong tháng {d['month']} hằng năm"
    if kind == "yearly_window":
        text = (f"Từ ngày {int(d['start_day']):02d}/{int(d['start_month']):02d} đến ngày "
                f"{int(d['end_day']):02d}/{int(d['end_month']):02d} hằng năm")
        return f"{text} ({d['occasion']})" if d.get("occasion") else text
    return kind


def parse_timing(text: str) -> Timing:
    """Read a Vietnamese timing phrase of the kind the seed uses.

    Give it the timing phrase (usually the parenthesis after an item), not the whole item: a date
    quoted in the content ("Kết luận ngày 15/5/2021") would otherwise read as a deadline. Most
    specific patterns win, so "Hàng năm trong dịp Tháng Công nhân" is the May window, not plain
    yearly, and "trước ngày 30/11 hàng năm" is yearly by 30/11.
    """
    if not isinstance(text, str) or not text.strip():
        raise TimingError("Chưa ghi thời hạn.")
    s = _fold(text)
    try:
        if _P_WORKERS.search(s):
            return WORKERS_MONTH
        if _P_PERIODIC.search(s):
            return Ongoing(periodic=True)
        if m := _P_YEARLY_DAY.search(s):
            d, mo = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            return YearlyByDay(int(mo), int(d))
        if m := _P_ONCE_DATE.search(s):
            return OnceByDate(date(int(m.group(3)), int(m.group(2)), int(m.group(1))))
        if m := _P_QUARTER.search(s):
            q = m.group(1)
            return OnceByQuarterEnd(int(m.group(2)), _ROMAN[q] if q in _ROMAN else int(q))
        if m := _P_MONTH_YEAR.search(s):
            return OnceByMonthEnd(int(m.group(2)), int(m.group(1)))
        if m := _P_YEARLY_MONTH.search(s):
            return YearlyByMonthEnd(int(m.group(1)))
        if _P_YEARLY.search(s):
            return Yearly()
        if _P_ONGOING.search(s):
            return Ongoing()
    except ValueError as exc:  # date(2021, 2, 30) and the like
        if isinstance(exc, TimingError):
            raise
        raise TimingError(f"Ngày ghi trong “{text}” không có thật.") from None
    raise TimingError(f"Không hiểu thời hạn “{text}” (cách ghi được hiểu, ví dụ: “thường xuyên”, "
                      f"“trước ngày 30/11 hằng năm”, “quý IV/2021”, “tháng 12/2021”).")


__all__ = [
    "VN_TZ", "TimingError", "Occurrence", "Timing", "Ongoing", "OnceByDate", "OnceByMonthEnd", "OnceByQuarterEnd",
    "Yearly", "YearlyByDay", "YearlyByMonthEnd", "YearlyWindow", "WORKERS_MONTH", "TIMING_KINDS", "parse_timing",
    "to_dict", "from_dict", "local_date", "deadline_instant", "is_on_time", "label",
]
