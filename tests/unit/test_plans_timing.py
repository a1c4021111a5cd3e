"""Timing vocabulary of plan items: parsing the seed's Vietnamese phrases, occurrences, JSON, deadlines."""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from datetime import UTC, date, datetime

import pytest

from services.plans.domain.timing import (
    TIMING_KINDS,
    VN_TZ,
    WORKERS_MONTH,
    Occurrence,
    OnceByDate,
    OnceByMonthEnd,
    OnceByQuarterEnd,
    Ongoing,
    TimingError,
    Yearly,
    YearlyByDay,
    YearlyByMonthEnd,
    YearlyWindow,
    deadline_instant,
    from_dict,
    is_on_time,
    local_date,
    parse_timing,
    to_dict,
)

# Every timing phrase of the seed, as written, and what it means.
SEED_PHRASES = [
    ("thực hiện thường xuyên", Ongoing()),
    ("thường xuyên", Ongoing()),
    ("Thường xuyên", Ongoing()),
    ("Thường xuyên và theo định kỳ", Ongoing(periodic=True)),
    ("hoàn thành vào tháng 12 hằng năm", YearlyByMonthEnd(12)),
    ("hằng năm", Yearly()),
    ("Hàng năm", Yearly()),
    ("Trước ngày 30/11 hàng năm", YearlyByDay(11, 30)),
    ("trước ngày 30/11 hằng năm", YearlyByDay(11, 30)),
    ("hoàn thành vào quý IV/2021", OnceByQuarterEnd(2021, 4)),
    ("Hoàn thành trong quý IV/2021", OnceByQuarterEnd(2021, 4)),
    ("Hoàn thành trong tháng 12/2021", OnceByMonthEnd(2021, 12)),
    ("Hàng năm trong dịp triển khai các hoạt động của Tháng Công nhân, kỷ niệm Ngày sinh của Chủ tịch Hồ Chí Minh",
     WORKERS_MONTH),
]


@pytest.mark.parametrize(("text", "expected"), SEED_PHRASES)
def test_parses_every_seed_phrase(text, expected):
    assert parse_timing(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    (unicodedata.normalize("NFD", "Trước ngày 30/11 hàng năm"), YearlyByDay(11, 30)),  # decomposed input
    ("  TRƯỚC   NGÀY 30 / 11   HẰNG NĂM ", YearlyByDay(11, 30)),
    ("hang nam truoc ngay 30/11", YearlyByDay(11, 30)),  # typed without diacritics, date after "hằng năm"
    ("mỗi năm, trước ngày 15/1", YearlyByDay(1, 15)),
    ("quý 2/2022", OnceByQuarterEnd(2022, 2)),
    ("quý I/2023", OnceByQuarterEnd(2023, 1)),
    ("quý III/2023", OnceByQuarterEnd(2023, 3)),
    ("trước ngày 15/12/2021", OnceByDate(date(2021, 12, 15))),
    ("tháng 6 hằng năm", YearlyByMonthEnd(6)),
    ("trong dịp Tháng Công nhân", WORKERS_MONTH),
    ("kỷ niệm Ngày sinh Chủ tịch Hồ Chí Minh", WORKERS_MONTH),
])
def test_parses_variants(text, expected):
    assert parse_timing(text) == expected


def test_a_dated_deadline_with_a_year_is_once_not_yearly():
    # "30/11/2021" carries its year: it happens once even if "hằng năm" is nearby.
    assert parse_timing("hằng năm, trước ngày 30/11/2021") == OnceByDate(date(2021, 11, 30))


@pytest.mark.parametrize("text", ["", "   ", "khi có yêu cầu", "quý V/2021", "trước ngày 31/11 hằng năm",
                                  "trước ngày 30/2/2021", "tháng 13/2021", "tháng 13 hằng năm"])
def test_refuses_what_it_cannot_read(text):
    with pytest.raises(TimingError):
        parse_timing(text)


YEARS = [str(y) for y in range(2021, 2028)]


def test_occurrences_yearly_by_day_30_11():
    assert YearlyByDay(11, 30).occurrences(2021, 2027) == [
        Occurrence("2021", None, date(2021, 11, 30)), Occurrence("2022", None, date(2022, 11, 30)),
        Occurrence("2023", None, date(2023, 11, 30)), Occurrence("2024", None, date(2024, 11, 30)),
        Occurrence("2025", None, date(2025, 11, 30)), Occurrence("2026", None, date(2026, 11, 30)),
        Occurrence("2027", None, date(2027, 11, 30)),
    ]


def test_occurrences_yearly_by_month_end():
    assert [o.due for o in YearlyByMonthEnd(12).occurrences(2021, 2023)] == [
        date(2021, 12, 31), date(2022, 12, 31), date(2023, 12, 31)]
    # February's end follows leap years.
    assert [o.due for o in YearlyByMonthEnd(2).occurrences(2023, 2024)] == [date(2023, 2, 28), date(2024, 2, 29)]


def test_yearly_29_february_falls_on_28_in_common_years():
    assert [o.due for o in YearlyByDay(2, 29).occurrences(2023, 2024)] == [date(2023, 2, 28), date(2024, 2, 29)]


def test_once_kinds_occur_only_in_their_year():
    q = OnceByQuarterEnd(2021, 4)
    assert q.occurrences(2021, 2027) == [Occurrence("2021-Q4", None, date(2021, 12, 31))]
    assert q.occurrences(2022, 2027) == []
    assert OnceByQuarterEnd(2022, 1).occurrences(2022, 2022) == [Occurrence("2022-Q1", None, date(2022, 3, 31))]
    assert OnceByQuarterEnd(2022, 2).occurrences(2022, 2022)[0].due == date(2022, 6, 30)
    assert OnceByQuarterEnd(2022, 3).occurrences(2022, 2022)[0].due == date(2022, 9, 30)
    assert OnceByMonthEnd(2021, 12).occurrences(2021, 2027) == [Occurrence("2021-12", None, date(2021, 12, 31))]
    assert OnceByMonthEnd(2024, 2).occurrences(2024, 2024) == [Occurrence("2024-02", None, date(2024, 2, 29))]
    assert OnceByDate(date(2021, 12, 15)).occurrences(2021, 2021) == [Occurrence("2021-12", None, date(2021, 12, 15))]
    assert OnceByDate(date(2021, 12, 15)).occurrences(2022, 2030) == []


def test_ongoing_and_plain_yearly_have_a_period_each_year_but_no_deadline():
    for timing in (Ongoing(), Ongoing(periodic=True), Yearly()):
        occ = timing.occurrences(2021, 2027)
        assert [o.period for o in occ] == YEARS
        assert all(o.due is None and o.start is None for o in occ)
        assert timing.has_deadline is False
    assert YearlyByDay(11, 30).has_deadline and OnceByMonthEnd(2021, 12).has_deadline


def test_workers_month_window():
    occ = WORKERS_MONTH.occurrences(2021, 2027)
    assert occ[0] == Occurrence("2021", date(2021, 5, 1), date(2021, 5, 31), date(2021, 5, 19))
    assert [(o.start, o.due, o.anchor) for o in occ] == [
        (date(y, 5, 1), date(y, 5, 31), date(y, 5, 19)) for y in range(2021, 2028)]
    assert [o.period for o in occ] == YEARS


def test_window_validation():
    with pytest.raises(TimingError):
        YearlyWindow(12, 1, 1, 31)  # crosses the new year
    with pytest.raises(TimingError):
        YearlyWindow(5, 1, 5, 31, anchor_month=6, anchor_day=1)  # anchor outside
    with pytest.raises(TimingError):
        YearlyWindow(5, 1, 5, 31, anchor_month=5)  # half an anchor
    with pytest.raises(TimingError):
        YearlyWindow(4, 31, 5, 31)  # no 31 April


def test_bad_values_are_refused_at_construction():
    for make in (lambda: YearlyByDay(11, 31), lambda: YearlyByDay(0, 1), lambda: YearlyByMonthEnd(13),
                 lambda: OnceByMonthEnd(2021, 0), lambda: OnceByQuarterEnd(2021, 5)):
        with pytest.raises(TimingError):
            make()
    with pytest.raises(TimingError):
        YearlyByDay(11, 30).occurrences(2027, 2021)


def test_timings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        YearlyByDay(11, 30).day = 29  # type: ignore[misc]


ALL_KINDS = [Ongoing(), Ongoing(periodic=True), OnceByDate(date(2021, 12, 15)), OnceByMonthEnd(2021, 12),
             OnceByQuarterEnd(2021, 4), Yearly(), YearlyByDay(11, 30), YearlyByMonthEnd(12), WORKERS_MONTH,
             YearlyWindow(9, 1, 9, 30)]


@pytest.mark.parametrize("timing", ALL_KINDS, ids=lambda t: t.kind)
def test_json_round_trip(timing):
    stored = json.loads(json.dumps(to_dict(timing)))
    assert stored["kind"] == timing.kind
    assert from_dict(stored) == timing


def test_every_kind_is_covered_by_the_round_trip():
    assert {t.kind for t in ALL_KINDS} == set(TIMING_KINDS)


def test_json_shapes_are_stable():
    assert to_dict(YearlyByDay(11, 30)) == {"kind": "yearly_by_day", "month": 11, "day": 30}
    assert to_dict(YearlyByMonthEnd(12)) == {"kind": "yearly_by_month_end", "month": 12}
    assert to_dict(OnceByQuarterEnd(2021, 4)) == {"kind": "once_by_quarter_end", "year": 2021, "quarter": 4}
    assert to_dict(OnceByMonthEnd(2021, 12)) == {"kind": "once_by_month_end", "year": 2021, "month": 12}
    assert to_dict(OnceByDate(date(2021, 12, 15))) == {"kind": "once_by_date", "date": "2021-12-15"}
    assert to_dict(Ongoing(periodic=True)) == {"kind": "ongoing", "periodic": True}
    assert to_dict(Yearly()) == {"kind": "yearly"}
    assert to_dict(WORKERS_MONTH) == {"kind": "yearly_window", "start_month": 5, "start_day": 1, "end_month": 5,
                                      "end_day": 31, "anchor_month": 5, "anchor_day": 19, "occasion": "workers_month"}


@pytest.mark.parametrize("data", [
    {}, [], {"kind": "weekly"}, {"kind": "yearly_by_day", "month": 11},
    {"kind": "yearly_by_day", "month": 11, "day": 30, "extra": 1}, {"kind": "yearly_by_day", "month": "11", "day": 30},
    {"kind": "yearly_by_day", "month": True, "day": 30}, {"kind": "yearly_by_day", "month": 11, "day": 31},
    {"kind": "once_by_date", "date": "2021-13-01"}, {"kind": "once_by_date", "date": 20211201},
    {"kind": "yearly", "month": 12},
])
def test_from_dict_refuses_bad_data(data):
    with pytest.raises(TimingError):
        from_dict(data)


def test_on_time_means_on_or_before_the_due_local_day():
    due = date(2021, 11, 30)
    assert is_on_time(date(2021, 11, 30), due)
    assert is_on_time(date(2021, 11, 29), due)
    assert not is_on_time(date(2021, 12, 1), due)
    assert is_on_time(date(2030, 1, 1), None)  # no deadline, never late
    # Instants are judged by the Vietnamese calendar day, not UTC's.
    assert is_on_time(datetime(2021, 11, 30, 23, 59, 59, tzinfo=VN_TZ), due)
    assert is_on_time(datetime(2021, 11, 30, 16, 59, 59, tzinfo=UTC), due)  # 23:59:59 in Vietnam
    assert not is_on_time(datetime(2021, 11, 30, 17, 0, tzinfo=UTC), due)  # 00:00 on 1/12 in Vietnam
    with pytest.raises(TimingError):
        is_on_time(datetime(2021, 11, 30, 12, 0), due)  # naive


def test_deadline_instant_is_local_midnight_after_the_due_day():
    instant = deadline_instant(date(2021, 11, 30))
    assert instant == datetime(2021, 11, 30, 17, 0, tzinfo=UTC)
    assert local_date(instant) == date(2021, 12, 1)
    assert local_date(datetime(2021, 11, 30, 16, 59, tzinfo=UTC)) == date(2021, 11, 30)
