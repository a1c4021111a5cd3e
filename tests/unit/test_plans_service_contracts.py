"""Example data of every plans endpoint, checked the way tests/unit/test_contracts.py checks the
catalogue (generated JSON Schemas accept the examples and refuse broken variants; the pydantic
models accept them). `PLANS_ENDPOINT_EXAMPLES` is meant to be merged into ENDPOINT_EXAMPLES there."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from contracts import generate
from contracts.catalogue import EndpointSpec, endpoints_of

U, PARENT, PERSON, PLAN = "u-cdcs-may10", "u-ldld-hanoi", "p-000123", "plan-ldld-2026-01"
OCC = "o-3f2a9c0d1e4b5a6978877665"
T = "2026-01-05T09:00:00+07:00"
DOC = {
    "number": "01/KH-LĐLĐ", "title": "Kế hoạch công tác tuyên truyền năm 2026", "issuer_unit_id": PARENT,
    "basis": [{"kind": "ket_luan", "number": "01-KL/TW", "issued_on": "2021-05-15", "issuer": "Bộ Chính trị"}],
    "recipients": [{"label": "Các cấp công đoàn trong tỉnh",
                    "parties": [{"kind": "units_of_kind", "unit_kinds": ["upper_level_union", "grassroots_union"]}]}],
    "sections": [{"code": "II.3", "title": "Sơ kết, tổng kết", "items": [
        {"item_id": "II.3.a", "content": "Gửi báo cáo kết quả thực hiện về LĐLĐ tỉnh (qua Ban Tuyên giáo - Nữ công)",
         "responsible": [{"kind": "units_of_kind", "unit_kinds": ["upper_level_union", "grassroots_union"]}],
         "output": "report", "timing_text": "Trước ngày 30/11 hàng năm",
         "timing": {"kind": "yearly_by_day", "month": 11, "day": 30},
         "reports_to": [{"kind": "department", "code": "BAN_TGNC"}]}]}],
}
PLAN_VIEW = {"plan_id": PLAN, "status": "issued", "revision": 1, "current_revision": 1, "number": "01/KH-LĐLĐ",
             "title": "Kế hoạch công tác tuyên truyền năm 2026", "issuer_unit_id": PARENT, "parent_plan_id": None,
             "issued_on": "2026-01-05", "closed_on": None, "materialized_to": 2027,
             "revisions": [{"revision": 1, "issued_on": "2026-01-05", "issued_at": T, "issued_by": PERSON,
                            "note": None}], "document": DOC}
TASK = {"occurrence_id": OCC, "plan_id": PLAN, "revision": 1, "item_id": "II.3.a", "unit_id": U, "period": "2026",
        "start_date": None, "due_date": "2026-11-30", "output": "report",
        "content": "Gửi báo cáo kết quả thực hiện về LĐLĐ tỉnh", "status": "done", "category": "done_on_time",
        "done_on": "2026-11-28", "on_time": True, "evidence": "Báo cáo số 12/BC-CĐCS"}
COUNTS = {"done_on_time": 104, "done_late": 8, "in_progress": 3, "overdue": 5, "open": 0, "total": 120}
IP_VIEW = {"individual_plan_id": f"ip-2026-{PERSON}", "person_id": PERSON, "unit_id": U, "year": 2026,
           "status": "assessed", "required": True, "commitments": ["Học tập chuyên đề năm 2026"],
           "carried_over": [], "submitted_on": "2026-01-15", "results": "Hoàn thành các nội dung cam kết",
           "rating": "good", "assessed_on": "2026-12-15", "supplement": ["Nhân rộng mô hình “Bữa cơm công đoàn”"]}
PERSON_VIEW = {"person_id": PERSON, "unit_id": U, "full_name": "Nguyễn Thị Hồng Nhung",
               "roles": ["chairperson", "executive_member"], "email": "nhung.nth@example.org", "phone": None,
               "active": True}

P = "congdoan.api.plans.v1."

PLANS_ENDPOINT_EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "congdoan.api.plans.v1.register_unit": {
        "request": {"code": "CDCS-MAY10", "name": "Công đoàn cơ sở Tổng công ty May 10",
                    "kind": "grassroots_union", "parent_id": "u-ldld-hanoi"},
        "reply": {"unit_id": "u-cdcs-may10", "code": "CDCS-MAY10", "name": "Công đoàn cơ sở Tổng công ty May 10",
                  "kind": "grassroots_union", "parent_id": "u-ldld-hanoi", "effective_from": "2026-01-01"},
    },
    "congdoan.api.plans.v1.register_person": {
        "request": {"person_id": "p-000123", "unit_id": "u-cdcs-may10", "full_name": "Nguyễn Thị Hồng Nhung",
                    "roles": ["chairperson"], "email": "nhung.nth@may10.example.vn"},
        "reply": {"person_id": "p-000123", "unit_id": "u-cdcs-may10", "full_name": "Nguyễn Thị Hồng Nhung",
                  "roles": ["chairperson"], "email": "nhung.nth@may10.example.vn", "phone": None},
    },
    "congdoan.api.plans.v1.update_person": {
        "request": {"person_id": PERSON, "roles": ["chairperson", "executive_member"]},
        "reply": PERSON_VIEW,
    },
    "congdoan.api.plans.v1.move_unit": {
        "request": {"unit_id": U, "to_parent_id": PARENT, "effective_from": "2025-07-01"},
        "reply": {"unit_id": U, "from_parent_id": "u-ldld-quan-ba-dinh", "to_parent_id": PARENT,
                  "effective_from": "2025-07-01", "unchanged": False},
    },
    "congdoan.api.plans.v1.merge_units": {
        "request": {"survivor_id": "u-ldld-quy-nhon", "absorbed_ids": ["u-ldld-tuy-phuoc"],
                    "effective_from": "2025-07-01"},
        "reply": {"survivor_id": "u-ldld-quy-nhon", "absorbed_ids": ["u-ldld-tuy-phuoc"], "effective_from": "2025-07-01",
                  "moved_children": ["u-cdcs-phuoc-loc"], "withdrawn_tasks": 12},
    },
    "congdoan.api.plans.v1.close_unit": {
        "request": {"unit_id": "u-cdcs-det8", "effective_from": "2026-09-30"},
        "reply": {"unit_id": "u-cdcs-det8", "effective_from": "2026-09-30", "withdrawn_tasks": 4},
    },
    "congdoan.api.plans.v1.get_unit": {
        "request": {"unit_id": U, "as_of": "2025-06-30"},
        "reply": {"unit_id": U, "code": "CDCS-MAY10", "name": "Công đoàn cơ sở Tổng công ty May 10",
                  "kind": "grassroots_union", "as_of": "2025-06-30", "active": True,
                  "parent_id": "u-ldld-quan-ba-dinh", "registered_on": "2020-01-01", "closed_on": None,
                  "merged_into": None, "successor_id": U,
                  "history": [{"parent_id": "u-ldld-quan-ba-dinh", "valid_from": "2020-01-01",
                               "valid_to": "2025-07-01"},
                              {"parent_id": PARENT, "valid_from": "2025-07-01", "valid_to": None}]},
    },
    "congdoan.api.plans.v1.list_units": {
        "request": {"root_id": PARENT, "as_of": "2026-01-01", "kinds": ["grassroots_union"],
                    "page": {"limit": 2}},
        "reply": {"as_of": "2026-01-01", "total": 3, "next_cursor": "2", "items": [
            {"unit_id": U, "code": "CDCS-MAY10", "name": "Công đoàn cơ sở Tổng công ty May 10",
             "kind": "grassroots_union", "parent_id": PARENT, "depth": 1}]},
    },
    "congdoan.api.plans.v1.list_people": {
        "request": {"unit_id": U, "subtree": False, "roles": ["chairperson"]},
        "reply": {"total": 1, "items": [PERSON_VIEW], "next_cursor": None},
    },
    "congdoan.api.plans.v1.import_units": {
        "request": {"import_id": "imp-2026-01", "part": 1, "parts": 1, "effective_from": "2026-01-01",
                    "csv": "code,name,kind,parent_code\nCDCS-MAY10,Công đoàn cơ sở Tổng công ty May 10,"
                           "grassroots_union,LDLD-HN\n"},
        "reply": {"import_id": "imp-2026-01", "received_parts": [1], "complete": True, "imported": 1, "unchanged": 0},
    },
    "congdoan.api.plans.v1.create_plan": {
        "request": {"plan_id": PLAN, "document": DOC},
        "reply": {**PLAN_VIEW, "status": "draft", "revision": 0, "current_revision": 0, "issued_on": None,
                  "materialized_to": None, "revisions": []},
    },
    "congdoan.api.plans.v1.update_plan": {
        "request": {"plan_id": PLAN, "document": DOC},
        "reply": {**PLAN_VIEW, "status": "draft", "revision": 0, "current_revision": 0, "issued_on": None,
                  "materialized_to": None, "revisions": []},
    },
    "congdoan.api.plans.v1.issue_plan": {
        "request": {"plan_id": PLAN, "issued_on": "2026-01-05"},
        "reply": {"plan_id": PLAN, "revision": 1, "issued_on": "2026-01-05", "units": 2003, "occurrences": 47944,
                  "changed": 0, "withdrawn": 0, "reminders": 35910, "duplicate": False},
    },
    "congdoan.api.plans.v1.revise_plan": {
        "request": {"plan_id": PLAN, "document": DOC, "issued_on": "2026-03-01",
                    "note": "Điều chỉnh thời hạn báo cáo"},
        "reply": {"plan_id": PLAN, "revision": 2, "issued_on": "2026-03-01", "units": 1995, "occurrences": 0,
                  "changed": 1995, "withdrawn": 3990, "reminders": 7980, "duplicate": False},
    },
    "congdoan.api.plans.v1.close_plan": {
        "request": {"plan_id": PLAN, "closed_on": "2026-12-31"},
        "reply": {"plan_id": PLAN, "closed_on": "2026-12-31", "withdrawn": 23940},
    },
    "congdoan.api.plans.v1.get_plan": {
        "request": {"plan_id": PLAN, "revision": 1},
        "reply": PLAN_VIEW,
    },
    "congdoan.api.plans.v1.list_plans": {
        "request": {"issuer_unit_id": PARENT, "status": "issued", "page": {"limit": 20}},
        "reply": {"total": 1, "next_cursor": None, "items": [
            {k: PLAN_VIEW[k] for k in ("plan_id", "status", "current_revision", "number", "title", "issuer_unit_id",
                                       "parent_plan_id", "issued_on", "closed_on")}]},
    },
    "congdoan.api.plans.v1.list_tasks": {
        "request": {"unit_id": U, "plan_id": PLAN, "year": 2026, "category": "done_on_time"},
        "reply": {"total": 1, "items": [TASK], "next_cursor": None},
    },
    "congdoan.api.plans.v1.update_task": {
        "request": {"occurrence_id": OCC, "status": "done", "evidence": "Báo cáo số 12/BC-CĐCS",
                    "done_on": "2026-11-28"},
        "reply": TASK,
    },
    "congdoan.api.plans.v1.register_implementation_plan": {
        "request": {"unit_id": U, "parent_plan_id": PLAN, "number": "05/KH-CĐCS", "registered_on": "2026-01-20",
                    "link": "https://congdoan.example.org/kh/05"},
        "reply": {"plan_id": "impl-6c2e1d0f9a8b7c6d5e4f", "parent_plan_id": PLAN, "unit_id": U, "number": "05/KH-CĐCS",
                  "year": 2026, "registered_on": "2026-01-20", "on_time": True, "completed": [OCC],
                  "duplicate": False},
    },
    "congdoan.api.plans.v1.get_rollup": {
        "request": {"plan_id": PLAN, "root_unit_id": PARENT, "year": 2026},
        "reply": {"root_unit_id": PARENT, "plan_id": PLAN, "year": 2026, "as_of": "2026-12-05",
                  "labels": {"overdue": "Quá hạn chưa hoàn thành"}, "totals": COUNTS,
                  "own": {**{k: 0 for k in COUNTS}},
                  "children": [{"unit_id": U, "name": "Công đoàn cơ sở Tổng công ty May 10", "counts": COUNTS}]},
    },
    "congdoan.api.plans.v1.submit_individual_plan": {
        "request": {"person_id": PERSON, "year": 2026, "commitments": ["Học tập chuyên đề năm 2026"],
                    "parent_plan_id": PLAN},
        "reply": {**IP_VIEW, "status": "submitted", "results": None, "rating": None, "assessed_on": None,
                  "supplement": []},
    },
    "congdoan.api.plans.v1.assess_individual_plan": {
        "request": {"person_id": PERSON, "year": 2026, "results": "Hoàn thành các nội dung cam kết", "rating": "good",
                    "supplement": ["Nhân rộng mô hình “Bữa cơm công đoàn”"]},
        "reply": IP_VIEW,
    },
    "congdoan.api.plans.v1.get_individual_plan": {
        "request": {"person_id": PERSON, "year": 2026},
        "reply": IP_VIEW,
    },
    "congdoan.api.plans.v1.get_individual_plan_coverage": {
        "request": {"unit_id": PARENT, "year": 2026, "subtree": True, "page": {"limit": 50}},
        "reply": {"unit_id": PARENT, "year": 2026, "required": 2, "submitted": 1, "assessed": 1, "next_cursor": None,
                  "units": [{"unit_id": U, "name": "Công đoàn cơ sở Tổng công ty May 10", "required": 2,
                             "submitted": 1, "assessed": 1,
                             "missing": [{"person_id": "p-000124", "full_name": "Trần Văn Nam",
                                          "roles": ["head_of_unit"]}]}]},
    },
    "congdoan.api.plans.v1.export_individual_plans": {
        "request": {"unit_id": PARENT, "year": 2026, "format": "csv"},
        "reply": {"filename": "ke-hoach-ca-nhan-LDLD-HN-2026.csv", "content_type": "text/csv; charset=utf-8",
                  "content_base64": "77u/U1RULEjhu40gdsOgIHTDqm4K", "rows": 2},
    },
    f"{P}login": {
        "request": {"username": "nhung.nth", "password": "Hoa-sen-2026!"},
        "reply": {"access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6ImNkLTIwMjYxMjAyLTNmMmEiLCJ0eXAiOiJKV1QifQ.e30.c2ln",
                  "token_type": "Bearer", "expires_in": 900, "refresh_token": "q0mC2vX1aPZ-3h8Wn7dFe4RtY6uI9oLkJ5sGbNx0MzE",
                  "refresh_expires_in": 43200,
                  "person": {"person_id": PERSON, "full_name": "Nguyễn Thị Hồng Nhung", "unit_id": U,
                             "roles": ["chairperson"]}, "roles": []},
    },
    f"{P}refresh_token": {
        "request": {"refresh_token": "q0mC2vX1aPZ-3h8Wn7dFe4RtY6uI9oLkJ5sGbNx0MzE"},
        "reply": {"access_token": "eyJhbGciOiJFZERTQSJ9.e30.c2ln", "token_type": "Bearer", "expires_in": 900,
                  "refresh_token": "b7Yw1Qe9Lr2Tx5Ui8Op3As6Df0Gh4Jk7Lz2Xc5Vb8Nm", "refresh_expires_in": 43200,
                  "person": {"person_id": PERSON, "full_name": "Nguyễn Thị Hồng Nhung", "unit_id": U,
                             "roles": ["chairperson"]}, "roles": []},
    },
    f"{P}logout": {
        "request": {"refresh_token": "b7Yw1Qe9Lr2Tx5Ui8Op3As6Df0Gh4Jk7Lz2Xc5Vb8Nm"},
        "reply": {"revoked": True},
    },
    f"{P}change_password": {
        "request": {"username": "nhung.nth", "current_password": "kqmv-7tpx-3hcn-w9ra",
                    "new_password": "Sen-hong-nở-2026"},
        "reply": {"changed": True},
    },
    f"{P}set_login": {
        "request": {"person_id": PERSON, "username": "nhung.nth"},
        "reply": {"person_id": PERSON, "username": "nhung.nth", "must_change_password": True, "failed_attempts": 0,
                  "locked_until": None, "last_login_at": None, "temporary_password": "kqmv-7tpx-3hcn-w9ra"},
    },
    f"{P}reset_password": {
        "request": {"person_id": PERSON},
        "reply": {"person_id": PERSON, "username": "nhung.nth", "must_change_password": True, "failed_attempts": 0,
                  "locked_until": None, "last_login_at": "2026-11-20T08:02:11+07:00",
                  "temporary_password": "h3pd-x8mw-r2kt-y7cz"},
    },
    f"{P}get_login": {
        "request": {"person_id": PERSON},
        "reply": {"person_id": PERSON, "username": "nhung.nth", "must_change_password": False, "failed_attempts": 2,
                  "locked_until": None, "last_login_at": "2026-11-20T08:02:11+07:00", "temporary_password": None},
    },
    f"{P}service_token": {
        "request": {"client_id": "hr-sync", "client_secret": "Xk2m9Qp4Rt7Vw1Yz3Bc6Df8Gh0Jk5Lm"},
        "reply": {"access_token": "eyJhbGciOiJFZERTQSJ9.e30.c2ln", "token_type": "Bearer", "expires_in": 900,
                  "refresh_token": None, "refresh_expires_in": None, "person": None, "roles": ["directory_admin"]},
    },
    f"{P}whoami": {
        "request": {},
        "reply": {"kind": "person", "id": PERSON, "roles": ["chairperson"],
                  "person": {"person_id": PERSON, "full_name": "Nguyễn Thị Hồng Nhung", "unit_id": U,
                             "roles": ["chairperson"]}},
    },
}


def _errors(schema: dict[str, Any], doc: Any) -> list[str]:
    return [e.message for e in Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(doc)]


def _schema(ep: EndpointSpec, part: str) -> dict[str, Any]:
    return json.loads((generate.SCHEMAS_DIR / generate.endpoint_schema_path(ep, part)).read_text(encoding="utf-8"))


def test_every_plans_endpoint_has_an_example():
    assert {e.subject for e in endpoints_of("plans")} == set(PLANS_ENDPOINT_EXAMPLES)


@pytest.mark.parametrize("ep", endpoints_of("plans"), ids=lambda e: e.name)
def test_plans_endpoint_examples_validate(ep: EndpointSpec) -> None:
    ex = PLANS_ENDPOINT_EXAMPLES[ep.subject]
    request_schema, reply_schema = _schema(ep, "request"), _schema(ep, "reply")
    assert _errors(request_schema, ex["request"]) == []
    assert _errors(request_schema, ep.request.model_validate(ex["request"]).model_dump(mode="json")) == []
    reply = json.loads(ep.reply.model_validate(ex["reply"]).model_dump_json())
    assert _errors(reply_schema, reply) == [] and _errors(reply_schema, ex["reply"]) == []
    first = ep.request.model_json_schema().get("required", [None])[0] or next(iter(ep.request.model_fields), None)
    broken = [{**ex["request"], "unexpected_field": 1}, *([{**ex["request"], first: {"nested": True}}] if first else [])]
    if first in ep.request.model_json_schema().get("required", []):
        broken.append({k: v for k, v in ex["request"].items() if k != first})
    for body in broken:
        assert _errors(request_schema, body), f"request schema of {ep.subject} accepted {body}"
    assert _errors(reply_schema, {**reply, "unexpected_field": 1})
