"""Hand-written examples of the notify endpoints, for tests/unit/test_contracts.py (it merges every
`<SERVICE>_ENDPOINT_EXAMPLES` of tests/unit/test_*_service_contracts.py), and a check of them."""

from __future__ import annotations

from typing import Any

from contracts.catalogue import ENDPOINTS_BY_SUBJECT, endpoints_of

NOTIFY_ENDPOINT_EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "congdoan.api.notify.v1.list_inbox": {
        "request": {"unread_only": True, "page": {"limit": 20}},
        "reply": {"items": [{"notification_id": "n-1795140660000000-3f2a9c1b7d4e5a60", "kind": "deadline_approaching",
                             "title": "Còn 7 ngày: Gửi báo cáo kết quả thực hiện Kết luận 01-KL/TW (hạn 30/11/2026)",
                             "body": "Nhiệm vụ “Gửi báo cáo kết quả thực hiện Kết luận 01-KL/TW” của Công đoàn cơ sở "
                                     "Tổng công ty May 10 theo Kế hoạch số 11-KH/LĐLĐ, năm 2026, đến hạn ngày "
                                     "30/11/2026 (còn 7 ngày).",
                             "link": "/plans/plan-ldld-2026-01/tasks/occ-item-2-1-2026-u-cdcs-may10",
                             "created_at": "2026-11-23T08:00:00+07:00", "read": False}],
                  "unread": 1, "next_cursor": None},
    },
    "congdoan.api.notify.v1.unread_count": {
        "request": {},
        "reply": {"person_id": "p-000123", "unread": 3},
    },
    "congdoan.api.notify.v1.mark_read": {
        "request": {"notification_ids": ["n-1795140660000000-3f2a9c1b7d4e5a60"]},
        "reply": {"marked": 1, "unread": 2},
    },
    "congdoan.api.notify.v1.get_preferences": {
        "request": {},
        "reply": {"person_id": "p-000123", "email": "auto", "email_address": None,
                  "directory_email": "nhung.nth@may10.example.vn", "email_overrides": {}, "muted_kinds": [],
                  "webhook_url": None, "webhook_secret_set": False, "webhook_secret": None, "digest_hour": 7,
                  "updated_at": None},
    },
    "congdoan.api.notify.v1.set_preferences": {
        "request": {"email": "digest",
                    "email_overrides": {"deadline_missed": "immediate"}, "muted_kinds": ["award_round_opened"],
                    "webhook_url": "https://hooks.may10.example.vn/congdoan"},
        "reply": {"person_id": "p-000123", "email": "digest", "email_address": None,
                  "directory_email": "nhung.nth@may10.example.vn", "email_overrides": {"deadline_missed": "immediate"},
                  "muted_kinds": ["award_round_opened"], "webhook_url": "https://hooks.may10.example.vn/congdoan",
                  "webhook_secret_set": True, "webhook_secret": "whsec_aKaDe8dMgKNvs5Gj9dW3T50J6JgzFw/Ibyr2FzYyexY=",
                  "webhook_secret_fingerprint": "ea1d2bc6",
                  "digest_hour": 7, "updated_at": "2026-12-20T09:31:00+07:00"},
    },
    "congdoan.api.notify.v1.delivery_log": {
        "request": {"person_id": "p-000123", "channel": "email", "page": {"limit": 20}},
        "reply": {"items": [{"delivery_id": "n-1795140660000000-3f2a9c1b7d4e5a60.email",
                             "notification_id": "n-1795140660000000-3f2a9c1b7d4e5a60",
                             "event_id": "0b8f3c2e-5d7a-4c1e-9f2a-1b2c3d4e5f60", "channel": "email",
                             "kind": "deadline_approaching", "address": "nhung.nth@may10.example.vn",
                             "status": "sent", "attempts": 1, "last_error": None,
                             "created_at": "2026-11-23T08:00:00+07:00", "next_attempt_at": None,
                             "sent_at": "2026-11-23T08:00:02+07:00", "digest_id": None}],
                  "next_cursor": None},
    },
}


def test_every_notify_endpoint_has_a_valid_example() -> None:
    assert set(NOTIFY_ENDPOINT_EXAMPLES) == {e.subject for e in endpoints_of("notify")}
    for subject, ex in NOTIFY_ENDPOINT_EXAMPLES.items():
        spec = ENDPOINTS_BY_SUBJECT[subject]
        spec.request.model_validate(ex["request"])
        spec.reply.model_validate(ex["reply"])
