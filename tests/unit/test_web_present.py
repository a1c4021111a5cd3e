"""The web front-end's pure parts: Vietnamese formats, a report form's values both ways, error
replies turned into sentences and field errors, safe redirects, sessions and the rate limit."""

from __future__ import annotations

from datetime import date

from runtime.client import RequestFailed
from services.web import forms
from services.web.gateway import problem_of, vietnamese
from services.web.present import dmy, dmy_hm, dmy_time, number, party, period, titled
from services.web.sessions import RateLimit, SessionStore, check_pre_token, pre_token
from services.web.site import safe_next

DEFINITION = {"fields": [
    {"key": "sessions", "kind": "number", "label": "Số buổi", "unit": "buổi", "compulsory": True, "integer": True},
    {"key": "total", "kind": "number", "label": "Tổng số", "compulsory": True, "integer": True},
    {"key": "with_plans", "kind": "number", "label": "Có kế hoạch", "compulsory": True, "integer": True},
    {"key": "share", "kind": "share", "label": "Tỷ lệ", "numerator": "with_plans", "denominator": "total"},
    {"key": "results", "kind": "text", "label": "Kết quả", "compulsory": True},
]}


def test_dates_periods_and_numbers_read_the_vietnamese_way():
    assert dmy("2026-11-30") == "30/11/2026" and dmy(date(2027, 1, 5)) == "05/01/2027" and dmy(None) == ""
    assert dmy_hm("2026-11-30T02:05:00+00:00") == "09:05 30/11/2026"  # Asia/Ho_Chi_Minh
    assert dmy_time("2026-11-30T17:05:00+00:00") == "01/12/2026 00:05" and dmy_time(None) == ""  # logs: date first
    assert dmy("2026-11-30T20:00:00+00:00") == "01/12/2026"  # the local day
    assert (period("2026"), period("2026-Q4"), period("2026-05")) == ("năm 2026", "quý IV/2026", "tháng 5/2026")
    assert (number(1234567), number(12.5, 1), number(None)) == ("1.234.567", "12,5", "")
    # A requirement named after its year is not followed by the year again.
    assert titled("Báo cáo kết quả năm 2026", "2026") == "Báo cáo kết quả năm 2026"
    assert titled("Báo cáo sơ kết", "2026-Q2") == "Báo cáo sơ kết · quý II/2026"
    assert party({"kind": "department", "code": "BAN_TGNC"}) == "Ban Tuyên giáo - Nữ công"
    assert party({"kind": "units_of_kind", "unit_kinds": ["grassroots_union"]}) == "Công đoàn cơ sở"


def test_a_form_from_its_definition_and_the_values_posted():
    fields = forms.fields_of(DEFINITION)
    assert [f.key for f in fields if f.input] == ["sessions", "total", "with_plans", "results"]
    posted = {"v_sessions": "12", "v_total": "1.250", "v_with_plans": "abc", "v_results": " Tốt ", "v_share": "9"}
    values = forms.values_from(fields, posted)
    # Numbers as numbers (Vietnamese thousands too); what is not a number is sent as typed, for
    # the service to say what is wrong; shares are never sent.
    assert values == {"sessions": 12, "total": 1250, "with_plans": "abc", "results": " Tốt "}
    assert forms.values_from(fields, {"v_sessions": "  "}) == {}
    assert forms.share(fields[3], {"with_plans": 8, "total": 10}) == "80,0%"
    assert forms.share(fields[3], {"with_plans": 8, "total": 0}) == "—"


def test_error_replies_become_sentences_and_field_errors():
    exc = RequestFailed("submit_report", {"code": "validation_error", "message": "form bc v1: 2 problems", "details": [
        {"field": "values.results", "message": 'Thiếu trường bắt buộc "Kết quả" (results) / Compulsory field missing'},
        {"field": "values.with_plans,total", "message": '"Có kế hoạch" (with_plans = 11) phải không lớn hơn "Tổng số" '
                                                        "(total = 9) / with_plans must be at most total"}]})
    p = problem_of(exc)
    assert p.status == 422 and p.message == "Báo cáo chưa hợp lệ; đề nghị sửa các ô được đánh dấu."
    at, rest = forms.errors_at(p.fields)
    assert at == {"results": 'Thiếu trường bắt buộc "Kết quả"',
                  "with_plans": '"Có kế hoạch" phải không lớn hơn "Tổng số"',
                  "total": '"Có kế hoạch" phải không lớn hơn "Tổng số"'} and rest == []
    cutoff = problem_of(RequestFailed("x", {"code": "conflict", "message": "requirement q stopped receiving reports",
                                            "details": [{"field": "requirement_id", "message": "past the cut-off"}]}))
    assert cutoff.message == "Đã quá thời hạn cuối nhận báo cáo; đơn vị không gửi được nữa."
    refused = problem_of(RequestFailed("x", {"code": "forbidden", "message": "Đồng chí không được duyệt."}))
    assert (refused.status, refused.message) == (403, "Đồng chí không được duyệt.")
    assert vietnamese("Lỗi (field_x) / Error") == "Lỗi"


def test_redirects_stay_on_the_site():
    assert safe_next("/reports?x=1") == "/reports?x=1"
    for bad in (None, "", "https://evil.example/", "//evil.example/", "/\\evil", "javascript:alert(1)"):
        assert safe_next(bad) == "/"


def test_sessions_expire_and_tokens_check():
    store = SessionStore(idle_s=60, max_s=3600, max_sessions=2)
    a = store.new(object(), {"person_id": "a", "unit_id": "u"}, {})  # type: ignore[arg-type]
    assert store.get(a.sid) is a and store.get("nope") is None and store.get(None) is None
    assert a.check_csrf(a.csrf) and not a.check_csrf("x") and not a.check_csrf(None)
    assert store.alive(a.sid)
    a.last_seen -= 61
    assert not store.alive(a.sid) and store.get(a.sid) is None and len(store) == 0
    b = store.new(object(), {"person_id": "b", "unit_id": "u"}, {})  # type: ignore[arg-type]
    store.new(object(), {"person_id": "c", "unit_id": "u"}, {})  # type: ignore[arg-type]
    store.new(object(), {"person_id": "d", "unit_id": "u"}, {})  # type: ignore[arg-type]
    assert len(store) == 2 and store.get(b.sid) is None  # the oldest gave way
    assert check_pre_token("k", "pre", pre_token("k", "pre")) and not check_pre_token("k", "pre", pre_token("k2", "pre"))
    assert not check_pre_token("k", None, "x")
    limit = RateLimit(2, 60)
    assert limit.allow("ip") == 0 and limit.allow("ip") == 0 and limit.allow("ip") > 0 and limit.allow("other") == 0
