"""Unit tests of the shared runtime and contracts: no NATS, no database."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from datetime import datetime, timedelta

import pytest

from contracts import naming
from contracts.api.plans import RegisterPerson
from contracts.catalogue import ENDPOINTS, EVENTS
from contracts.envelope import build_event
from contracts.events.reports import ReportSubmitted
from runtime.api import ApiServer
from runtime.clock import TZ, Clock, FixedClock
from runtime.consumer import Poison, decode
from runtime.errors import ApiError
from runtime.settings import load_settings
from services.awards.domain.model import UnitStanding
from services.reports.domain.model import default_due_date, is_on_time

SUBMITTED = "vn.congdoan.reports.report.submitted.v1"


def test_naming_scheme_round_trips():
    t = naming.event_type("reports", "report", "submitted")
    assert t == SUBMITTED
    assert naming.subject_for_type(t) == "congdoan.evt.reports.report.submitted.v1"
    assert naming.parse_type(t) == ("reports", "report", "submitted", 1)
    assert naming.durable_name("notify", "reports") == "notify-from-reports"
    with pytest.raises(ValueError):
        naming.parse_type("reports.submitted")


def test_every_catalogue_entry_follows_the_scheme():
    for e in EVENTS:
        assert e.subject.startswith(f"congdoan.evt.{e.producer}.") and e.subject.endswith(".v1")
        assert e.stream == f"CONGDOAN_{e.producer.upper()}"
    subjects = [e.subject for e in ENDPOINTS]
    assert len(subjects) == len(set(subjects))


def _event(**data_overrides):  # type: ignore[no-untyped-def]
    data = ReportSubmitted(report_id="r", requirement_id="q", period="2026", unit_id="u", receiving_unit_id="p",
                           revision=1, submitted_at=datetime(2026, 11, 1, tzinfo=TZ), on_time=True)
    ev = build_event(type_=SUBMITTED, source="/t", data=data, time=datetime.now(TZ))
    ev["data"].update(data_overrides)
    return ev


HANDLERS = {SUBMITTED: None}
SUBJECT = "congdoan.evt.reports.report.submitted.v1"


def test_decode_accepts_a_valid_event():
    ev = decode(json.dumps(_event()).encode(), SUBJECT, 10_000, HANDLERS)  # type: ignore[arg-type]
    assert isinstance(ev.data, ReportSubmitted) and ev.data.unit_id == "u"


def test_decode_ignores_data_fields_it_does_not_know():  # a producer one additive change ahead
    ev = decode(json.dumps(_event(bogus=1)).encode(), SUBJECT, 10_000, HANDLERS)  # type: ignore[arg-type]
    assert ev.data == decode(json.dumps(_event()).encode(), SUBJECT, 10_000, HANDLERS).data  # type: ignore[arg-type]


@pytest.mark.parametrize("payload,reason", [
    (b"{", "malformed"),
    (b"\xff\xfe", "malformed"),
    (b"[]", "invalid CloudEvent"),
    (json.dumps({**_event(), "specversion": "0.3"}).encode(), "invalid CloudEvent"),
    (json.dumps(_event(revision="x")).encode(), "invalid data"),
    (json.dumps(_event(unit_id=None)).encode(), "invalid data"),
    (b"[" * 4_000 + b"]" * 4_000, "malformed: nested deeper"),
    (json.dumps(_event(unit_id="u\x00")).encode(), "invalid: control character in data.unit_id"),
    (json.dumps({**_event(), "type": "vn.congdoan.x.y.z.v1"}).encode(), "unknown event type"),
    (b"x" * 20_000, "oversized"),
])
def test_decode_classifies_poison(payload, reason):
    with pytest.raises(Poison, match=reason):
        decode(payload, SUBJECT, 10_000, HANDLERS)  # type: ignore[arg-type]


def test_decode_refuses_a_type_on_a_foreign_subject():
    with pytest.raises(Poison, match="does not belong"):
        decode(json.dumps(_event()).encode(), "congdoan.evt.reports.other.v1", 10_000, HANDLERS)  # type: ignore[arg-type]


async def test_api_validation_errors_are_structured():
    async def register(cmd, who):  # type: ignore[no-untyped-def]
        return cmd

    from contracts.catalogue import endpoints_of
    from runtime.auth import TokenVerifier, auth_headers
    from tests.support import auth_settings, person_token

    server = ApiServer(None, "plans", {e.name: register for e in endpoints_of("plans")}, max_bytes=1000,
                       verifier=TokenVerifier(auth_settings()["auth_jwks_file"]))
    spec = server.specs["register_person"]
    signed = auth_headers(person_token("p1"))
    with pytest.raises(ApiError) as e:
        await server.handle(spec, b'{"unit_id": "u1", "full_name": 3, "roles": ["king"]}', signed)
    assert e.value.code == "validation_error"
    # The fields at fault, each problem in Vietnamese with pydantic's type kept for programs.
    assert e.value.message == "Yêu cầu không hợp lệ ở 2 trường: “full_name”, “roles.0”."
    assert {d["field"]: (d["type"], d["message"]) for d in e.value.details} == {
        "full_name": ("string_type", "Cần một chuỗi ký tự."),
        "roles.0": ("enum", "Giá trị phải là một trong: 'chairperson', 'executive_member', 'head_of_unit', 'cadre', "
                            "'member' hoặc 'administrator'.")}
    with pytest.raises(ApiError) as e:
        await server.handle(spec, b'{"unit_id": "u1"}', signed)
    assert e.value.message == "Yêu cầu không hợp lệ ở trường “full_name”: thiếu trường bắt buộc."
    assert e.value.details == [{"field": "full_name", "message": "Thiếu trường bắt buộc.", "type": "missing"}]
    with pytest.raises(ApiError) as e:
        await server.handle(spec, b"x" * 1001, signed)
    assert e.value.code == "payload_too_large" and e.value.message == "Yêu cầu dài 1001 byte, vượt giới hạn 1000 byte."
    with pytest.raises(ApiError) as e:
        await server.handle(spec, b"\xff", signed)
    assert e.value.code == "bad_request" and e.value.message == "Dữ liệu không phải văn bản UTF-8."
    with pytest.raises(ApiError) as e:
        await server.handle(spec, b'{"unit_id": ', signed)
    assert e.value.code == "bad_request" and e.value.message.startswith("Dữ liệu không phải JSON hợp lệ")
    with pytest.raises(ApiError) as e:  # the token is checked before the body is even parsed
        await server.handle(spec, b'{"unit_id": "u1"}')
    assert e.value.code == "unauthenticated"
    assert e.value.details == [{"field": "Authorization", "type": "missing",
                                "message": "Yêu cầu không có tiêu đề Authorization: Bearer kèm mã xác thực."}]


def test_api_refuses_endpoints_missing_from_the_catalogue():
    with pytest.raises(ValueError, match="missing"):
        ApiServer(None, "plans", {"register_unit": None})  # type: ignore[dict-item]


def test_vietnamese_text_is_nfc_normalised():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Mạnh Hùng")
    assert decomposed != "Nguyễn Mạnh Hùng"
    p = RegisterPerson(unit_id="u", full_name=decomposed)
    assert p.full_name == unicodedata.normalize("NFC", "Nguyễn Mạnh Hùng")


def test_clock_is_vietnamese_local_time_and_movable():
    clock = FixedClock(datetime(2026, 11, 30, 23, 30))
    assert clock.now().utcoffset() == timedelta(hours=7)
    assert clock.today().isoformat() == "2026-11-30"
    clock.set_offset(timedelta(hours=1))
    assert clock.today().isoformat() == "2026-12-01"


async def test_sleep_until_wakes_when_the_clock_moves():
    clock = Clock()
    target = clock.now() + timedelta(days=30)
    sleeper = asyncio.create_task(clock.sleep_until(target))
    await asyncio.sleep(0.05)
    assert not sleeper.done()
    clock.set_offset(timedelta(days=31))
    await asyncio.wait_for(sleeper, timeout=2)


def test_due_date_is_judged_on_the_local_calendar_day():
    due = default_due_date("2026")
    assert due is not None and due.isoformat() == "2026-11-30"
    # 23:30 on 30/11 in Hà Nội is 16:30 UTC: on time; 00:10 on 1/12 local is still 30/11 in UTC: late.
    assert is_on_time(datetime(2026, 11, 30, 23, 30, tzinfo=TZ), due)
    assert not is_on_time(datetime(2026, 12, 1, 0, 10, tzinfo=TZ), due)


def test_eligibility_follows_the_latest_revision_whatever_the_order():
    s = UnitStanding(unit_id="u", period="2026")
    assert s.reasons_not_eligible() == ["Chưa gửi báo cáo kết quả kỳ 2026"]
    s.record_submitted("r", "q", 2, True)
    s.record_submitted("r", "q", 1, False)  # an older revision arriving late changes nothing
    assert s.reasons_not_eligible() == []


def test_settings_per_service_from_environment(monkeypatch):
    monkeypatch.setenv("CONGDOAN_REPORTS_HTTP_PORT", "9999")
    monkeypatch.setenv("CONGDOAN_REPORTS_DATABASE_URL", "postgresql+asyncpg://x@h/db")
    monkeypatch.setenv("NATS_URL", "nats://nats:4222")
    s = load_settings("reports")
    assert (s.http_port, s.db_url, s.nats_url) == (9999, "postgresql+asyncpg://x@h/db", "nats://nats:4222")
    assert load_settings("plans").http_port == 8081


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    """Settings are read one way (pydantic-settings, one model per service) and each is documented."""
    from pathlib import Path

    from runtime.settings import ServiceSettings
    from services.notify.settings import NotifySettings
    from services.plans.settings import PlansSettings
    from services.reports.settings import ReportsSettings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration"):]
    table = table[:table.index("\n## ", 3)]
    missing = [f"{m.model_config['env_prefix']}{name.upper()}" for m in (PlansSettings, ReportsSettings)
               for name in m.model_fields if f"{m.model_config['env_prefix']}{name.upper()}" not in table]
    for f in ServiceSettings.model_fields.values():
        alias = f.validation_alias
        names = [alias] if isinstance(alias, str) else [c for c in getattr(alias, "choices", None) or [] if isinstance(c, str)]
        # "`CONGDOAN_AUTH_ISSUER` / `_AUDIENCE`": a row may name its siblings by their suffix
        if names and not any(n in table or f"`_{n.split('_', 2)[-1]}`" in table for n in names):
            missing.append(names[0])
    assert f"{NotifySettings.model_config['env_prefix']}SMTP_URL" in table
    assert "other `CONGDOAN_NOTIFY_*`" in table, "notify's remaining knobs point at its settings module"
    assert not missing, f"settings missing from the README's configuration table: {missing}"


def test_clockctl_finds_the_stack_where_make_run_put_it(monkeypatch) -> None:
    """Issue 13 §11: clockctl honours CONGDOAN_NATS_PORT, as the launcher does; NATS_URL wins."""
    from runtime.clockctl import default_nats_url

    monkeypatch.delenv("NATS_URL", raising=False)
    monkeypatch.delenv("CONGDOAN_NATS_PORT", raising=False)
    assert default_nats_url() == "nats://127.0.0.1:4223"
    monkeypatch.setenv("CONGDOAN_NATS_PORT", "14223")
    assert default_nats_url() == "nats://127.0.0.1:14223"
    monkeypatch.setenv("NATS_URL", "nats://nats.example.vn:4222")
    assert default_nats_url() == "nats://nats.example.vn:4222"
