"""notify's rules without I/O: who gets which channel, ids, backoff, the token bucket, signatures,
templates of every kind, the digest's grouping, MIME output, settings."""

from __future__ import annotations

import base64
import random
import unicodedata
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from zoneinfo import ZoneInfo

import pytest
from standardwebhooks import WebhookVerificationError

from contracts.api.notify import CONSUMES, NotificationKind
from contracts.catalogue import event_of
from services.notify.adapters import mime
from services.notify.adapters.email import compose
from services.notify.domain import render
from services.notify.domain.model import (
    CONTACT_ROLES,
    Audience,
    Channel,
    DigestItem,
    EmailMode,
    Kind,
    Outgoing,
    Person,
    Preferences,
    Target,
    TokenBucket,
    backoff_s,
    contacts,
    count_by_kind,
    delivery_id,
    digest_id,
    group_by_day,
    message_id,
    notification_id,
    routes,
)
from services.notify.domain.signing import fingerprint, new_secret, signed_headers
from services.notify.service_layer.handlers import HANDLERS
from services.notify.settings import parse_smtp_url
from tests.support import verify_webhook

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def test_kinds_match_the_contract_and_every_consumed_event_is_handled() -> None:
    assert {k.value for k in Kind} == {k.value for k in NotificationKind}
    directory = {t for t in CONSUMES if ".unit." in t or ".person." in t}
    assert {event_of(m).type for m in HANDLERS} == set(CONSUMES) - directory


def p(pid: str, roles: set[str], email: str | None = None, active: bool = True) -> Person:
    return Person(pid, "u1", pid.upper(), frozenset(roles), email, active)


def test_contacts_by_role_with_fallback_to_executive_members() -> None:
    people = [p("m", {"member"}), p("x", {"executive_member"}), p("c", {"chairperson"}), p("old", {"cadre"}, active=False)]
    assert [q.person_id for q in contacts(people, Target("unit", "u1"))] == ["c"]
    assert [q.person_id for q in contacts(people[:2], Target("unit", "u1"))] == ["x"]  # no contact role: the executive
    assert contacts(people[:1], Target("unit", "u1")) == []  # members are never a unit's voice
    role = Target("unit", "u1", roles=frozenset({"executive_member"}), fallback=False)
    assert [q.person_id for q in contacts(people, role)] == ["x"]
    assert Target("parent", "g1").hold_key == "parent:g1"
    assert Target.from_json(role.to_json()) == role


def test_routes_follow_preferences_and_the_defaults_of_each_kind() -> None:
    own = routes("deadline_approaching", Audience.OWN, None, "a@x.vn", email_enabled=True)
    assert own == [own[0]] and own[0].channel is Channel.EMAIL and not own[0].digest
    oversight = routes("deadline_missed", Audience.OVERSIGHT, None, "a@x.vn", email_enabled=True)
    assert oversight[0].digest  # following units below: the daily digest
    assert routes("report_submitted", Audience.OVERSIGHT, None, "a@x.vn", email_enabled=True)[0].digest
    assert routes("deadline_approaching", Audience.OWN, None, None, email_enabled=True) == []  # no address
    assert routes("deadline_approaching", Audience.OWN, None, "a@x.vn", email_enabled=False) == []  # no SMTP
    prefs = Preferences("a", email_mode=EmailMode.DIGEST, email_address="b@x.vn",
                        email_overrides={"deadline_missed": "immediate"}, muted_kinds=["award_round_opened"],
                        webhook_url="https://h.example/a", webhook_secret_sealed="gAAAA-sealed")
    r = routes("deadline_missed", Audience.OVERSIGHT, prefs, "a@x.vn", email_enabled=True)
    assert [(x.channel, x.address, x.digest) for x in r] == [(Channel.EMAIL, "b@x.vn", False),
                                                             (Channel.WEBHOOK, "https://h.example/a", False)]
    assert routes("plan_issued", Audience.OWN, prefs, "a@x.vn", email_enabled=True)[0].digest
    assert routes("award_round_opened", Audience.OWN, prefs, "a@x.vn", email_enabled=True) == []
    off = Preferences("a", email_mode=EmailMode.OFF)
    assert routes("deadline_missed", Audience.OWN, off, "a@x.vn", email_enabled=True) == []
    no_secret = Preferences("a", webhook_url="https://h.example/a")
    assert routes("plan_issued", Audience.OWN, no_secret, None, email_enabled=True) == []


def test_identities_are_deterministic() -> None:
    at = datetime(2026, 11, 23, 8, tzinfo=TZ)
    n1 = notification_id("ev-1", at, "p1")
    assert n1 == notification_id("ev-1", at, "p1") != notification_id("ev-1", at, "p2")
    assert n1 < notification_id("ev-0", at + timedelta(seconds=1), "p1")  # sorts by the event's time
    assert delivery_id(n1, "email") == f"{n1}.email" and len(delivery_id(n1, "webhook")) <= 100
    assert message_id(delivery_id(n1, "email"), "congdoan.vn") == f"<{n1}.email@congdoan.vn>"
    d = digest_id("p" * 100, date(2026, 11, 29))
    assert d.startswith("dg-20261129-") and len(d) < 40 and d == digest_id("p" * 100, date(2026, 11, 29))


def test_backoff_grows_exponentially_capped_with_jitter() -> None:
    plain = [backoff_s(n, base_s=30, cap_s=3600, jitter=0) for n in range(1, 10)]
    assert plain == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    rng = random.Random(1)
    for n in range(1, 10):
        assert 0.8 * plain[n - 1] <= backoff_s(n, base_s=30, cap_s=3600, rng=rng) <= 1.2 * plain[n - 1]


def test_token_bucket_limits_the_rate() -> None:
    b = TokenBucket(rate=10, burst=5, now=0.0)
    assert [b.take(0.0) for _ in range(5)] == [0.0] * 5
    assert b.take(0.0) == pytest.approx(0.1)
    assert b.take(0.1) == 0.0 and b.take(0.1) > 0
    assert b.take(100.0) == 0.0 and b.tokens == 4  # never more than the burst saved up
    with pytest.raises(ValueError):
        TokenBucket(0, 1, 0.0)


def test_webhook_signatures_are_standard_webhooks() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32 and secret != new_secret()
    assert len(fingerprint(secret)) == 8 and fingerprint(secret) == fingerprint(secret) != fingerprint(new_secret())
    body = '{"title":"Còn 7 ngày"}'.encode()
    at = datetime(2026, 10, 15, 9, 0, 30, 999_000, tzinfo=TZ)  # local time: 02:00:30 UTC
    headers = signed_headers(secret, "n-1.webhook", at, body)
    assert headers["webhook-id"] == "n-1.webhook"
    assert headers["webhook-timestamp"] == str(int(datetime(2026, 10, 15, 2, 0, 30, tzinfo=UTC).timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    # the stock verifier, with a clock of its own near the sender's
    assert verify_webhook(secret, body, headers, now=at + timedelta(seconds=100)) == {"title": "Còn 7 ngày"}
    for bad_secret, bad_body, bad_headers, now in [
            (new_secret(), body, headers, at),  # another secret
            (secret, body + b" ", headers, at),  # another body
            (secret, body, {**headers, "webhook-id": "n-2.webhook"}, at),  # the id is signed too
            (secret, body, headers, at + timedelta(seconds=301)),  # too old: a replay
            (secret, body, {k: v for k, v in headers.items() if k != "webhook-signature"}, at)]:
        with pytest.raises(WebhookVerificationError):
            verify_webhook(bad_secret, bad_body, bad_headers, now=now)
    for broken in ("whsec_", "whsec_a"):  # not base64 (some url-safe secrets made before this scheme)
        with pytest.raises(ValueError, match="rotate it"):
            signed_headers(broken, "n-1.webhook", at, body)


UNIT = {"id": "g1", "name": "Công đoàn cơ sở Công ty May 10"}
PLAN = {"id": "plan-11", "number": "11-KH/LĐLĐ", "title": "Thực hiện Kết luận 01-KL/TW", "name": "", "unit_id": "prov"}
CONTEXTS = {
    "plan_issued": dict(plan={"number": "11-KH/LĐLĐ", "title": "Thực hiện Kết luận 01-KL/TW", "issued_on": date(2021, 10, 18),
                              "revision": 2, "item_count": 12}, issuer={"id": "prov", "name": "LĐLĐ tỉnh Bình Định"}),
    "tasks_assigned": dict(unit=UNIT, plan=PLAN, plan_number="11-KH/LĐLĐ", count=25, nearest_due=date(2026, 5, 31),
                           occurrences=[{"content": "Tổ chức hội nghị", "due_date": date(2026, 5, 31), "period": "2026-05"}],
                           more=24),
    "deadline_approaching": dict(unit=UNIT, plan=PLAN, content="Gửi báo cáo", period="2026", due_date=date(2026, 11, 30),
                                 days_before=0),
    "deadline_missed": dict(unit=UNIT, plan=PLAN, content="Gửi báo cáo", period="2026-Q4", due_date=date(2026, 12, 31)),
    "implementation_plan_registered": dict(unit=UNIT, plan=PLAN, number="05-KH/CĐCS", registered_on=date(2021, 12, 20),
                                           on_time=False),
    "report_submitted": dict(unit=UNIT, period="2026", submitted_at=datetime(2026, 11, 29, 23, 59, tzinfo=TZ), on_time=True,
                             revision=2, due_date=date(2026, 11, 30), requirement={"name": ""}),
    "report_returned": dict(unit=UNIT, by_unit={"name": "LĐLĐ tỉnh"}, period="2026", comment="Thiếu số liệu",
                            returned_at=datetime(2026, 12, 1, 1, 0, tzinfo=ZoneInfo("UTC")), revision=1,
                            requirement={"name": "Báo cáo năm"}),
    "report_accepted": dict(unit=UNIT, by_unit={"name": "LĐLĐ tỉnh"}, period="2026-12",
                            accepted_at=datetime(2026, 12, 1, 9, tzinfo=TZ), on_time=True, requirement={"name": ""}),
    "report_reopened": dict(unit=UNIT, by_unit={"name": "LĐLĐ tỉnh"}, period="2026", comment="Sửa số đoàn viên",
                            reopened_at=datetime(2027, 1, 5, 3, 0, tzinfo=ZoneInfo("UTC")), revision=2,
                            requirement={"name": "Báo cáo năm"}),
    "report_deadline_approaching": dict(unit=UNIT, receiving_unit={"name": "LĐLĐ tỉnh"}, name="Báo cáo năm",
                                        period="2026", due_date=date(2026, 11, 30), days_before=7),
    "report_overdue": dict(unit=UNIT, receiving_unit={"name": "LĐLĐ tỉnh"}, name="Báo cáo năm", period="2026",
                           due_date=date(2026, 11, 30)),
    "award_round_opened": dict(issuer={"name": "LĐLĐ tỉnh"}, name="Tháng Công nhân 2026", level="tỉnh",
                               opens_on=date(2026, 5, 1), closes_on=date(2026, 5, 31), forms=["Bằng khen"], categories=[]),
    "nomination_submitted": dict(by_unit=UNIT, nominee={"name": "Nguyễn Thị Nhung"}, nominee_kind="individual",
                                 form="Bằng khen", eligible=False, reasons=["báo cáo quý III nộp muộn"],
                                 round={"name": "Tháng Công nhân 2026"}),
    "nomination_decided": dict(nominee={"name": "Công đoàn cơ sở May 10"}, nominee_kind="collective",
                               result="escalated", form="Bằng khen", decided_on=date(2026, 5, 25), note=None,
                               round={"name": ""}),
    "award_granted": dict(nominee={"name": "Nguyễn Thị Nhung"}, nominee_kind="individual", unit=UNIT, form="Bằng khen",
                          decision_number="125/QĐ-LĐLĐ", decision_date=date(2026, 5, 28), signer="Chủ tịch",
                          round={"name": "Tháng Công nhân 2026"}),
    "nomination_forwarded": dict(nominee={"id": "p1", "name": "Nguyễn Thị Nhung"}, nominee_kind="individual",
                                 by_unit={"id": "g1", **UNIT}, from_unit={"name": "Công đoàn ngành Dệt May"},
                                 to_unit={"name": "LĐLĐ tỉnh"}, to_council=False, note=None,
                                 round={"name": "Tháng Công nhân 2026"}),
    "nomination_returned": dict(nominee={"id": "g1", "name": "Công đoàn cơ sở May 10"}, nominee_kind="collective",
                                by_unit={"id": "g1", **UNIT}, returned_by={"name": "Công đoàn ngành Dệt May"},
                                note="Thiếu báo cáo thành tích", round={"name": ""}),
    "nomination_withdrawn": dict(nominee={"id": "p1", "name": "Nguyễn Thị Nhung"}, nominee_kind="individual",
                                 by_unit=UNIT, reason=None, round={"name": "Tháng Công nhân 2026"}),
    "decision_issued": dict(issuer={"name": "LĐLĐ tỉnh"}, number="125/QĐ-LĐLĐ", decision_date=date(2026, 5, 28),
                            signer="Chủ tịch", awards=1250, round={"name": "Tháng Công nhân 2026"}),
    "quotas_changed": dict(issuer={"name": "LĐLĐ tỉnh"}, quotas=[{"name": "Công đoàn cơ sở May 10", "quota": 3}],
                           more=0, round={"name": "Tháng Công nhân 2026"}),
}


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_every_kind_renders_in_vietnamese_with_dd_mm_yyyy(kind: str) -> None:
    title, body = render.render_notice(kind, CONTEXTS[kind])
    assert title and body and "\n" not in title and len(title) <= 500
    assert unicodedata.is_normalized("NFC", title + body)
    assert "{{" not in title + body and "None" not in title + body
    for value in CONTEXTS[kind].values():
        if isinstance(value, date) and not isinstance(value, datetime):
            assert value.strftime("%d/%m/%Y") in title + body, (kind, value)


def test_texts_read_right() -> None:
    t, b = render.render_notice("deadline_approaching", CONTEXTS["deadline_approaching"])
    assert t == "Đến hạn hôm nay: Gửi báo cáo (hạn 30/11/2026)"
    t, b = render.render_notice("report_returned", CONTEXTS["report_returned"])
    assert "08:00 ngày 01/12/2026" in b  # 01:00 UTC is 08:00 in Hà Nội
    t, b = render.render_notice("report_submitted", CONTEXTS["report_submitted"])
    assert t == "Công đoàn cơ sở Công ty May 10 đã gửi lại báo cáo năm 2026"
    assert b.splitlines()[-1] == "Đề nghị xem xét, tiếp nhận."
    t, b = render.render_notice("tasks_assigned", CONTEXTS["tasks_assigned"])
    assert "- Tổ chức hội nghị (hạn 31/05/2026, tháng 5/2026)" in b and "… và 24 nhiệm vụ khác." in b
    assert render.vn_period("2026-Q4") == "quý IV/2026" and render.vn_period("xyz") == "kỳ xyz"
    assert render.vn_number(250000) == "250.000"
    assert render.short("a " * 100, 10) == "a a a a a…"


def test_digest_groups_per_day() -> None:
    at = datetime(2026, 11, 28, 23, 30, tzinfo=TZ)
    items = [DigestItem(f"n{i}", "report_submitted" if i % 3 else "deadline_missed", f"Thông báo {i}", f"/reports/{i}",
                        at + timedelta(hours=i)) for i in range(5)]
    days = group_by_day(list(reversed(items)))
    assert [d for d, _ in days] == [date(2026, 11, 28), date(2026, 11, 29)]
    assert [i.notification_id for i in days[0][1]] == ["n0"] and len(days[1][1]) == 4
    assert count_by_kind(items) == [("report_submitted", 3), ("deadline_missed", 2)]


def test_emails_are_valid_mime_with_vietnamese_headers() -> None:
    job = Outgoing(delivery_id="n-1.email", notification_id="n-1", event_id="e", recipient_id="p",
                   recipient_name="Nguyễn Mạnh Hùng", channel=Channel.EMAIL, kind="deadline_missed",
                   address="hung@example.vn", attempts=0, title="Quá hạn: Gửi báo cáo — Công đoàn cơ sở Công ty May 10 "
                   "ở khu công nghiệp Phú Tài, thành phố Quy Nhơn, tỉnh Bình Định", body="Dòng 1\nDòng <2> & 3",
                   link="/plans/p/tasks/o")
    raw = compose(job, mail_from="Hệ thống Công đoàn <no-reply@congdoan.vn>", mail_domain="congdoan.vn",
                  url=lambda link: f"https://cd.vn{link}" if link else None,
                  now=datetime(2026, 12, 1, 8, tzinfo=TZ))
    assert raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\r\n"))
    msg = message_from_bytes(raw, policy=default)
    assert msg["Subject"] == f"[Công đoàn] {job.title}"
    assert msg["To"].addresses[0].display_name == "Nguyễn Mạnh Hùng" and msg["To"].addresses[0].addr_spec == job.address
    assert msg["From"].addresses[0].display_name == "Hệ thống Công đoàn"
    assert msg["Message-ID"] == "<n-1.email@congdoan.vn>" and msg["X-Congdoan-Kind"] == "deadline_missed"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Kính gửi đồng chí Nguyễn Mạnh Hùng" in text and "https://cd.vn/plans/p/tasks/o" in text
    assert "Dòng &lt;2&gt; &amp; 3" in html  # escaped in HTML
    with pytest.raises(ValueError):
        mime.mailbox("x", "người@example.vn")
    assert mime.encode_header("plain ascii") == "plain ascii"


def test_smtp_urls() -> None:
    t = parse_smtp_url("smtp://127.0.0.1:8025")
    assert (t.host, t.port, t.use_tls, t.start_tls, t.username) == ("127.0.0.1", 8025, False, None, None)
    t = parse_smtp_url("smtps://mailer%40cd.vn:p%40ss@smtp.cd.vn")
    assert (t.port, t.use_tls, t.username, t.password) == (465, True, "mailer@cd.vn", "p@ss")
    assert parse_smtp_url("smtp://relay:587?starttls=true").start_tls is True
    with pytest.raises(ValueError):
        parse_smtp_url("http://relay")


def test_known_roles_are_contacts() -> None:
    assert CONTACT_ROLES == {"chairperson", "head_of_unit", "cadre"}
