"""The generated contracts (JSON Schema, AsyncAPI 3) match the pydantic models and are valid.

* drift: the files in contracts/schemas and contracts/asyncapi are what `make contracts` writes now;
* every JSON Schema is valid draft 2020-12, accepts an event/request/reply built from the example
  data below and refuses broken variants of it;
* every AsyncAPI channel address is a real subject of the catalogue;
* `@asyncapi/cli validate` accepts every AsyncAPI document (when npx is on PATH).

Every catalogue entry needs example data here: a new event or endpoint without one fails."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

from contracts import generate, naming
from contracts.api.common import ErrorCode, ErrorReply, error_reply
from contracts.catalogue import CONSUMES, ENDPOINTS, EVENTS, EndpointSpec, EventSpec, consumed_by, endpoints_of, produced_by
from contracts.envelope import CloudEvent, build_event

ICT = timezone(timedelta(hours=7))  # Asia/Ho_Chi_Minh, no DST
REPO = generate.CONTRACTS_DIR.parent

# ------------------------------------------------------------------------------ example data
# Keyed by event type: the event's `data`, and the CloudEvents `subject` its producer sets.
U, PARENT, PERSON = "u-cdcs-may10", "u-ldld-hanoi", "p-000123"
MIDDLE = "u-cdn-detmay"  # an upper-level union between U and PARENT
PLAN, ITEM, OCC = "plan-ldld-2026-01", "item-2-1", "occ-item-2-1-2026-05-u-cdcs-may10"
REQ, REPORT, ROUND = "req-2026-q4-member-dev", "r-2026-q4-cdcs-may10", "round-2026-ldld"


def _ev(subject: str, **data: Any) -> dict[str, Any]:
    return {"subject": subject, "data": data}


EVENT_EXAMPLES: dict[str, dict[str, Any]] = {
    # plans
    "vn.congdoan.plans.unit.registered.v1": _ev(
        U, unit_id=U, code="CDCS-MAY10", name="Công đoàn cơ sở Tổng công ty May 10", kind="grassroots_union",
        parent_id=PARENT, effective_from="2026-01-01"),
    "vn.congdoan.plans.unit.moved.v1": _ev(
        U, unit_id=U, from_parent_id="u-cdcs-ctcs-det-may", to_parent_id=PARENT, effective_from="2026-07-01"),
    "vn.congdoan.plans.unit.closed.v1": _ev(
        "u-cdcs-det8", unit_id="u-cdcs-det8", effective_from="2026-09-30", merged_into=U),
    "vn.congdoan.plans.person.registered.v1": _ev(
        PERSON, person_id=PERSON, unit_id=U, full_name="Nguyễn Thị Hồng Nhung", roles=["chairperson", "member"],
        email="nhung.nth@may10.example.vn", phone="+84 912 345 678"),
    "vn.congdoan.plans.person.updated.v1": _ev(
        PERSON, person_id=PERSON, unit_id=U, full_name="Nguyễn Thị Hồng Nhung",
        roles=["chairperson", "executive_member"], email="nhung.nth@may10.example.vn", phone=None, active=True),
    "vn.congdoan.plans.plan.issued.v1": _ev(
        PLAN, plan_id=PLAN, revision=1, number="01/KH-LĐLĐ", title="Kế hoạch công tác tuyên truyền năm 2026",
        issuer_unit_id=PARENT, issued_on="2026-01-05", parent_plan_id=None,
        basis=["Nghị quyết Đại hội XIII Công đoàn Việt Nam"], recipients=["Các công đoàn cấp trên cơ sở"],
        items=[{"item_id": ITEM, "section": "II. Nhiệm vụ trọng tâm", "content": "Tổ chức Tháng Công nhân năm 2026",
                "output": "report",
                "timing": {"kind": "yearly_window", "text": "Tháng Công nhân", "month": 5, "day": 1,
                           "end_month": 5, "end_day": 31},
                "responsible": [{"kind": "units_of_kind", "unit_kinds": ["grassroots_union"]},
                                {"kind": "department", "code": "BAN_TGNC"}]}]),
    "vn.congdoan.plans.plan.closed.v1": _ev(PLAN, plan_id=PLAN, closed_on="2026-12-31"),
    "vn.congdoan.plans.tasks.assigned.v1": _ev(
        U, plan_id=PLAN, revision=1, plan_number="01/KH-LĐLĐ", unit_id=U,
        occurrences=[{"occurrence_id": OCC, "item_id": ITEM, "period": "2026-05", "due_date": "2026-05-31",
                      "output": "report", "content": "Báo cáo kết quả Tháng Công nhân năm 2026"}]),
    "vn.congdoan.plans.task.updated.v1": _ev(
        OCC, occurrence_id=OCC, plan_id=PLAN, item_id=ITEM, unit_id=U, period="2026-05", status="done",
        due_date="2026-05-31", done_on="2026-05-28", on_time=True, evidence="Biên bản hội nghị số 12/BB-CĐCS"),
    "vn.congdoan.plans.implementation_plan.registered.v1": _ev(
        "plan-may10-2026-01", plan_id="plan-may10-2026-01", parent_plan_id=PLAN, unit_id=U, number="05/KH-CĐCS",
        registered_on="2026-01-20", on_time=True),
    "vn.congdoan.plans.individual_plan.submitted.v1": _ev(
        "ip-2026-p-000123", individual_plan_id="ip-2026-p-000123", person_id=PERSON, unit_id=U, year=2026,
        submitted_on="2026-01-15"),
    "vn.congdoan.plans.individual_plan.assessed.v1": _ev(
        "ip-2026-p-000123", individual_plan_id="ip-2026-p-000123", person_id=PERSON, unit_id=U, year=2026,
        rating="good", assessed_on="2026-12-15"),
    "vn.congdoan.plans.deadline.approaching.v1": _ev(
        OCC, occurrence_id=OCC, plan_id=PLAN, item_id=ITEM, unit_id=U, period="2026-05",
        content="Báo cáo kết quả Tháng Công nhân năm 2026", due_date="2026-05-31", days_before=7),
    "vn.congdoan.plans.deadline.missed.v1": _ev(
        OCC, occurrence_id=OCC, plan_id=PLAN, item_id=ITEM, unit_id=U, period="2026-05",
        content="Báo cáo kết quả Tháng Công nhân năm 2026", due_date="2026-05-31",
        detected_at="2026-06-01T00:05:00+07:00"),
    # reports
    "vn.congdoan.reports.requirement.opened.v1": _ev(
        REQ, requirement_id=REQ, name="Báo cáo phát triển đoàn viên quý IV/2026", issuer_unit_id=PARENT,
        receiving_unit_id=PARENT, receiving_department="Ban Tổ chức - Kiểm tra", reporting_kinds=["grassroots_union"],
        period="2026-Q4", due_date="2026-12-31", grace_days=5, cutoff_date="2027-01-10", form_id="form-member-dev",
        form_version=2, source_plan_id=PLAN, source_item_id=ITEM),
    "vn.congdoan.reports.report.submitted.v1": _ev(
        U, report_id=REPORT, requirement_id=REQ, period="2026-Q4", unit_id=U, receiving_unit_id=PARENT, revision=1,
        submitted_at="2026-12-20T09:30:00+07:00", due_date="2026-12-31", on_time=True),
    "vn.congdoan.reports.report.returned.v1": _ev(
        U, report_id=REPORT, requirement_id=REQ, period="2026-Q4", unit_id=U, by_unit_id=PARENT, revision=1,
        comment="Đề nghị bổ sung số đoàn viên kết nạp mới trong tháng 12.", returned_at="2026-12-22T14:00:00+07:00"),
    "vn.congdoan.reports.report.accepted.v1": _ev(
        U, report_id=REPORT, requirement_id=REQ, period="2026-Q4", unit_id=U, by_unit_id=PARENT, revision=2,
        on_time=True, accepted_at="2026-12-28T08:15:00+07:00"),
    "vn.congdoan.reports.report.reopened.v1": _ev(
        U, report_id=REPORT, requirement_id=REQ, period="2026-Q4", unit_id=U, by_unit_id=PARENT, revision=2,
        comment="Mở lại để đơn vị sửa số đoàn viên kết nạp mới.", reopened_at="2027-01-05T10:00:00+07:00"),
    "vn.congdoan.reports.report.deadline_approaching.v1": _ev(
        U, requirement_id=REQ, period="2026-Q4", unit_id=U, receiving_unit_id=PARENT,
        name="Báo cáo phát triển đoàn viên quý IV/2026", due_date="2026-12-31", days_before=7),
    "vn.congdoan.reports.report.overdue.v1": _ev(
        U, requirement_id=REQ, period="2026-Q4", unit_id=U, receiving_unit_id=PARENT,
        name="Báo cáo phát triển đoàn viên quý IV/2026", due_date="2026-12-31"),
    "vn.congdoan.reports.report.consolidated.v1": _ev(
        PARENT, consolidation_id="cons-2026-q4-ldld-hanoi", requirement_id=REQ, period="2026-Q4", unit_id=PARENT,
        expected=120, submitted=112, on_time=104, late=8, missing=8,
        docx="exports/cons-2026-q4-ldld-hanoi.docx", xlsx=None),
    # notify
    "vn.congdoan.notify.notification.sent.v1": _ev(
        PERSON, notification_id="n-000001", event_id="0b8f3c2e-5d7a-4c1e-9f2a-1b2c3d4e5f60", recipient_id=PERSON,
        channel="email", kind="report_submitted", sent_at="2026-12-20T09:31:00+07:00"),
    "vn.congdoan.notify.notification.failed.v1": _ev(
        PERSON, notification_id="n-000002", event_id="0b8f3c2e-5d7a-4c1e-9f2a-1b2c3d4e5f60", recipient_id=PERSON,
        channel="webhook", kind="report_submitted", reason="HTTP 410 Gone", attempts=5, permanent=True,
        failed_at="2026-12-20T10:02:00+07:00"),
    # awards
    "vn.congdoan.awards.round.opened.v1": _ev(
        ROUND, round_id=ROUND, name="Khen thưởng tổng kết năm 2026", level="LĐLĐ thành phố", issuer_unit_id=PARENT,
        opens_on="2026-11-15", closes_on="2026-12-15", categories=["Tập thể", "Cá nhân"], forms=["Bằng khen"]),
    "vn.congdoan.awards.nomination.submitted.v1": _ev(
        "nom-0001", nomination_id="nom-0001", round_id=ROUND, by_unit_id=U, nominee_kind="individual",
        nominee_id=PERSON, form="Bằng khen", eligible=True, reasons=[]),
    "vn.congdoan.awards.nomination.decided.v1": _ev(
        "nom-0001", nomination_id="nom-0001", round_id=ROUND, nominee_kind="individual", nominee_id=PERSON,
        result="approved", form="Bằng khen", decided_on="2026-12-20", note=None),
    "vn.congdoan.awards.award.granted.v1": _ev(
        "aw-0001", award_id="aw-0001", round_id=ROUND, decision_number="125/QĐ-LĐLĐ", decision_date="2026-12-25",
        signer="Chủ tịch LĐLĐ thành phố Hà Nội", nominee_kind="individual", nominee_id=PERSON, unit_id=U,
        form="Bằng khen"),
    "vn.congdoan.awards.nomination.forwarded.v1": _ev(
        "nom-0001", nomination_id="nom-0001", round_id=ROUND, by_unit_id=U, nominee_kind="individual",
        nominee_id=PERSON, nominee_name="Nguyễn Thị Hồng Nhung", from_unit_id=MIDDLE, to_unit_id=PARENT,
        to_council=True, note="Đồng ý đề nghị; thành tích tiêu biểu của ngành."),
    "vn.congdoan.awards.nomination.returned.v1": _ev(
        "nom-0002", nomination_id="nom-0002", round_id=ROUND, by_unit_id=U, nominee_kind="collective",
        nominee_id=U, nominee_name="Công đoàn cơ sở Tổng công ty May 10", returned_by_unit_id=MIDDLE,
        note="Hồ sơ thiếu báo cáo thành tích có xác nhận của thủ trưởng đơn vị."),
    "vn.congdoan.awards.nomination.withdrawn.v1": _ev(
        "nom-0003", nomination_id="nom-0003", round_id=ROUND, by_unit_id=U, nominee_kind="individual",
        nominee_id=PERSON, nominee_name="Nguyễn Thị Hồng Nhung", waited_at_unit_id=MIDDLE,
        reason="Đồng chí chuyển công tác trong tháng 12."),
    "vn.congdoan.awards.decision.issued.v1": _ev(
        "dec-0001", decision_id="dec-0001", round_id=ROUND, issuer_unit_id=PARENT, number="125/QĐ-LĐLĐ",
        decision_date="2026-12-25", signer="Chủ tịch LĐLĐ thành phố Hà Nội", awards=12,
        nomination_ids=["nom-0001"], by_unit_ids=[U, MIDDLE]),
    "vn.congdoan.awards.quotas.changed.v1": _ev(
        ROUND, round_id=ROUND, issuer_unit_id=PARENT, changed=[{"unit_id": U, "quota": 3},
                                                              {"unit_id": MIDDLE, "quota": 10}], removed=[]),
    "vn.congdoan.reports.form.registered.v1": _ev(
        "bc-hoc-tap-lam-theo:1", form_id="bc-hoc-tap-lam-theo", version=1,
        title="Báo cáo kết quả học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh", fields=12,
        by_unit_id=PARENT),
    "vn.congdoan.notify.preferences.changed.v1": _ev(
        PERSON, person_id=PERSON, changed=["email", "muted_kinds"], email="digest",
        muted_kinds=["report_submitted"], webhook=False),
    "vn.congdoan.awards.exemplary_model.registered.v1": _ev(
        "em-2026-01", model_id="em-2026-01", unit_id=U, person_id=PERSON, title="Nữ công nhân giỏi việc nước, đảm việc nhà",
        story="Chị Nhung đã có nhiều sáng kiến cải tiến kỹ thuật trong dây chuyền may.", year=2026),
}

# Keyed by endpoint subject: a request body and a successful reply body.
ENDPOINT_EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
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
    "congdoan.api.reports.v1.submit_report": {
        "request": {"report_id": "r-2026-q4-cdcs-may10", "requirement_id": "req-2026-q4-member-dev",
                    "period": "2026-Q4", "unit_id": "u-cdcs-may10",
                    "values": {"new_members": 125, "coverage_ratio": 0.93, "note": "Đã tổ chức đại hội"}},
        "reply": {"report_id": "r-2026-q4-cdcs-may10", "unit_id": "u-cdcs-may10", "receiving_unit_id": "u-ldld-hanoi",
                  "revision": 1, "submitted_at": "2026-12-20T09:30:00+07:00", "due_date": "2026-12-31",
                  "on_time": True, "duplicate": False},
    },
    "congdoan.api.notify.v1.list_inbox": {
        "request": {"person_id": "p-000123", "unread_only": True, "page": {"limit": 20}},
        "reply": {"items": [{"notification_id": "n-000001", "kind": "report_submitted",
                             "title": "Báo cáo quý IV đã nộp", "body": "CĐCS May 10 đã nộp báo cáo quý IV/2026.",
                             "link": None, "created_at": "2026-12-20T09:31:00+07:00", "read": False}],
                  "unread": 1, "next_cursor": None},
    },
    "congdoan.api.awards.v1.get_eligibility": {
        "request": {"unit_id": "u-cdcs-may10", "period": "2026"},
        "reply": {"unit_id": "u-cdcs-may10", "period": "2026", "eligible": False,
                  "reasons": ["báo cáo quý III nộp muộn"]},
    },
}

# ----------------------------------------------------------------------------------- helpers

def _generated(model: type, seed: str) -> dict[str, Any]:
    """A valid instance of `model` made by polyfactory, for catalogue entries with no hand example.
    Seeded per entry, so the same entry always gets the same example."""
    from polyfactory.factories.pydantic_factory import ModelFactory

    # Short collections: a generated plan document with hundreds of nested items helps nobody.
    factory = ModelFactory.create_factory(model, __randomize_collection_length__=True,
                                          __min_collection_length__=1, __max_collection_length__=2)
    factory.seed_random(sum(map(ord, seed)))
    return json.loads(factory.build().model_dump_json())


def event_example(spec: EventSpec) -> dict[str, Any]:
    return EVENT_EXAMPLES.get(spec.type) or _ev("generated", **_generated(spec.model, spec.type))


def _service_examples() -> dict[str, dict[str, dict[str, Any]]]:
    """Hand-written examples kept next to each service's own contract tests
    (tests/unit/test_<service>_service_contracts.py, `<SERVICE>_ENDPOINT_EXAMPLES`)."""
    import importlib

    merged: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(Path(__file__).parent.glob("test_*_service_contracts.py")):
        module = importlib.import_module(f"tests.unit.{path.stem}")
        for name, value in vars(module).items():
            if name.endswith("_ENDPOINT_EXAMPLES") and isinstance(value, dict):
                merged.update(value)
    return merged


SERVICE_EXAMPLES = _service_examples()


def endpoint_example(ep: EndpointSpec) -> dict[str, dict[str, Any]]:
    if ep.subject in SERVICE_EXAMPLES:
        return SERVICE_EXAMPLES[ep.subject]
    return ENDPOINT_EXAMPLES.get(ep.subject) or {"request": _generated(ep.request, ep.subject + ":req"),
                                                 "reply": _generated(ep.reply, ep.subject + ":rep")}


FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339 date-time with an offset (jsonschema needs an extra package for this)."""
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)", value):
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


def load_schema(rel: str) -> dict[str, Any]:
    return json.loads((generate.SCHEMAS_DIR / rel).read_text(encoding="utf-8"))


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FORMATS)


def errors(schema: dict[str, Any], instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validator(schema).iter_errors(instance)]


def sample_event(spec: EventSpec, *, subject: Any = ..., **kw: Any) -> dict[str, Any]:
    """A wire event as the outbox stores it, built by the envelope's own builder."""
    ex = event_example(spec)
    data = spec.model.model_validate(ex["data"])
    return build_event(type_=spec.type, source=naming.source_for(spec.producer), data=data,
                       time=datetime(2026, 12, 20, 9, 30, tzinfo=ICT),
                       subject=ex["subject"] if subject is ... else subject, **kw)


def load_asyncapi(service: str) -> dict[str, Any]:
    return yaml.safe_load((generate.ASYNCAPI_DIR / f"{service}.yaml").read_text(encoding="utf-8"))


def component_schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """A components/schemas entry as a standalone schema whose #/components/… refs still resolve."""
    return {**doc["components"]["schemas"][name], "components": doc["components"]}


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def allowed_subjects() -> set[str]:
    subjects = {e.subject for e in EVENTS} | {ep.subject for ep in ENDPOINTS}
    for service, types in CONSUMES.items():
        for t in types:
            producer = naming.parse_type(t)[0]
            subjects.add(naming.dlq_subject(service, naming.durable_name(service, producer)))
    return subjects


# ----------------------------------------------------------------------------------- tests

def test_examples_name_only_catalogue_entries() -> None:
    # Entries without a hand-written example get a generated one (see `_generated`).
    unknown = sorted((set(EVENT_EXAMPLES) - {e.type for e in EVENTS}) | (set(ENDPOINT_EXAMPLES) - {e.subject for e in ENDPOINTS}))
    assert not unknown, f"examples for entries the catalogue no longer has: {unknown}"


def test_generated_files_are_up_to_date() -> None:
    diffs = generate.differences()
    assert not diffs, ("generated contracts are out of date; run `make contracts` "
                       "(python -m contracts.generate) and commit the result:\n"
                       + "\n".join(f"  {why:8} {p.relative_to(REPO)}" for p, why in diffs))


def test_check_mode_reports_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    schemas, asyncapi = tmp_path / "schemas", tmp_path / "asyncapi"
    monkeypatch.setattr(generate, "SCHEMAS_DIR", schemas)
    monkeypatch.setattr(generate, "ASYNCAPI_DIR", asyncapi)
    monkeypatch.setattr(generate, "OWNED", ((schemas, "*.json"), (asyncapi, "*.yaml")))
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0
    (asyncapi / "plans.yaml").write_text("changed\n", encoding="utf-8")
    (schemas / "vn.congdoan.old.thing.happened.v1.json").write_text("{}\n", encoding="utf-8")
    (schemas / "api" / "error.json").unlink()
    capsys.readouterr()
    assert generate.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "make contracts" in out
    assert "differs" in out and "plans.yaml" in out
    assert "stale" in out and "vn.congdoan.old.thing.happened.v1.json" in out
    assert "missing" in out and "error.json" in out
    assert generate.main([]) == 0 and generate.main(["--check"]) == 0


def test_expected_schema_files_exist() -> None:
    expected = {generate.event_schema_path(e) for e in EVENTS} | {generate.event_data_schema_path(e) for e in EVENTS}
    expected |= {generate.endpoint_schema_path(ep, part) for ep in ENDPOINTS for part in ("request", "reply")}
    expected.add(generate.ERROR_SCHEMA_PATH)
    found = {str(p.relative_to(generate.SCHEMAS_DIR)) for p in generate.SCHEMAS_DIR.rglob("*.json")}
    assert found == expected
    assert {p.stem for p in generate.ASYNCAPI_DIR.glob("*.yaml")} == set(naming.SERVICES)


@pytest.mark.parametrize("path", sorted(generate.SCHEMAS_DIR.rglob("*.json")), ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and not text.endswith("\n\n")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    rel = str(path.relative_to(generate.SCHEMAS_DIR))
    assert schema["$id"] == generate.schema_id(rel) and schema["$id"].startswith("urn:congdoan:schema:")
    refs = re.findall(r'"\$ref": "([^"]*)"', text)
    assert all(r.startswith("#/$defs/") for r in refs), refs  # self-contained


@pytest.mark.parametrize("spec", EVENTS, ids=lambda s: s.type)
def test_sample_event_validates(spec: EventSpec) -> None:
    schema = load_schema(generate.event_schema_path(spec))
    event = sample_event(spec)
    assert errors(schema, event) == []
    assert errors(schema, sample_event(spec, subject=None)) == []  # build_event writes "subject": null
    with_ext = {**event, "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    assert errors(schema, with_ext) == []  # CloudEvents extension attribute
    assert errors(schema, {**with_ext, "tracestate": "congdoan=00f067aa0ba902b7"}) == []  # distributed tracing
    assert errors(load_schema(generate.event_data_schema_path(spec)), event["data"]) == []
    # ...and what the schema accepts here, the consumer's model accepts too.
    parsed = CloudEvent[spec.model].model_validate(event)  # type: ignore[name-defined]
    assert parsed.type == spec.type


def _event_mutations(spec: EventSpec) -> dict[str, Any]:
    first = spec.model.model_json_schema()["required"][0]
    return {
        "other type": lambda ev: ev.update(type=spec.type.rsplit(".v", 1)[0] + ".v99"),
        "specversion 0.3": lambda ev: ev.update(specversion="0.3"),
        "other source": lambda ev: ev.update(source="/congdoan/somebody-else"),
        "no id": lambda ev: ev.pop("id"),
        "empty id": lambda ev: ev.update(id=""),
        "no time": lambda ev: ev.pop("time"),
        "time without offset": lambda ev: ev.update(time="2026-12-20T09:30:00"),
        "time not a time": lambda ev: ev.update(time="yesterday"),
        "empty subject": lambda ev: ev.update(subject=""),
        "xml content": lambda ev: ev.update(datacontenttype="application/xml"),
        "bad extension name": lambda ev: ev.update(TraceParent="x"),
        "object extension": lambda ev: ev.update(ext={"a": 1}),
        "traceparent not W3C": lambda ev: ev.update(traceparent="0af7651916cd43dd8448eb211c80319c"),
        "traceparent upper-case": lambda ev: ev.update(traceparent="00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01"),
        "traceparent a number": lambda ev: ev.update(traceparent=1),
        "no data": lambda ev: ev.pop("data"),
        f"data without {first}": lambda ev: ev["data"].pop(first),
        f"data {first} wrong type": lambda ev: ev["data"].update({first: {"nested": True}}),
        "data unknown field": lambda ev: ev["data"].update(unexpected_field=1),
    }


@pytest.mark.parametrize("spec", EVENTS, ids=lambda s: s.type)
def test_broken_events_fail(spec: EventSpec) -> None:
    schema = load_schema(generate.event_schema_path(spec))
    accepted = []
    for mutation, apply in _event_mutations(spec).items():
        event = copy.deepcopy(sample_event(spec))
        apply(event)
        if not errors(schema, event):
            accepted.append(mutation)
    assert not accepted, f"the schema of {spec.type} accepted broken events: {accepted}"


@pytest.mark.parametrize("ep", ENDPOINTS, ids=lambda e: e.subject)
def test_endpoint_examples_validate(ep: EndpointSpec) -> None:
    ex = endpoint_example(ep)
    request_schema = load_schema(generate.endpoint_schema_path(ep, "request"))
    reply_schema = load_schema(generate.endpoint_schema_path(ep, "reply"))
    # What a client sends, and what the server then sees after pydantic filled in defaults.
    assert errors(request_schema, ex["request"]) == []
    assert errors(request_schema, ep.request.model_validate(ex["request"]).model_dump(mode="json")) == []
    # What the server sends (model_dump_json of the reply model).
    reply = json.loads(ep.reply.model_validate(ex["reply"]).model_dump_json())
    assert errors(reply_schema, reply) == []
    assert errors(reply_schema, ex["reply"]) == []

    first = ep.request.model_json_schema().get("required", [None])[0] or next(iter(ep.request.model_fields), None)
    broken = [{**ex["request"], "unexpected_field": 1},
              *([{**ex["request"], first: {"nested": True}}] if first else [])]
    if first in ep.request.model_json_schema().get("required", []):
        broken.append({k: v for k, v in ex["request"].items() if k != first})
    for body in broken:
        assert errors(request_schema, body), f"request schema of {ep.subject} accepted {body}"
    assert errors(reply_schema, {**reply, "unexpected_field": 1})


def test_error_reply_schema() -> None:
    schema = load_schema(generate.ERROR_SCHEMA_PATH)
    body = json.loads(error_reply(ErrorCode.VALIDATION, "Yêu cầu không hợp lệ ở trường “period”: không đúng định dạng.",
                                  [{"field": "period", "message": "Không đúng định dạng.", "type": "string_pattern_mismatch"}]
                                  ).model_dump_json())
    assert errors(schema, body) == []
    assert errors(schema, {"error": {"code": "teapot", "message": "x"}})
    assert errors(schema, {"code": "not_found", "message": "x"})
    ErrorReply.model_validate(body)


@pytest.mark.parametrize("service", naming.SERVICES)
def test_asyncapi_channels_are_catalogue_subjects(service: str) -> None:
    doc = load_asyncapi(service)
    assert doc["asyncapi"] == "3.0.0"
    allowed = allowed_subjects()
    reply_channels = {op["reply"]["channel"]["$ref"].removeprefix("#/channels/")
                      for op in doc["operations"].values() if "reply" in op}
    for cid, channel in doc["channels"].items():
        address = channel["address"]
        if address is None:  # only the requester's inbox is dynamic
            assert cid in reply_channels, f"{service}: channel {cid} has no address"
            continue
        assert "{" not in address and "}" not in address, f"{service}: parameter left in {address}"
        assert address in allowed, f"{service}: channel {cid} address {address!r} is not a catalogue subject"
    for op_id, op in doc["operations"].items():  # every ref points at something real
        channel_ref = op["channel"]["$ref"]
        assert resolve(doc, channel_ref), op_id
        for m in op["messages"] + op.get("reply", {}).get("messages", []):
            assert m["$ref"].startswith(channel_ref + "/messages/") or m["$ref"].startswith(
                op.get("reply", {}).get("channel", {}).get("$ref", "\0") + "/messages/"), (op_id, m)
            assert resolve(doc, resolve(doc, m["$ref"])["$ref"])

    # The operations are exactly what the catalogue says this service does.
    def addresses(action: str, reply: bool) -> set[str]:
        return {resolve(doc, op["channel"]["$ref"])["address"] for op in doc["operations"].values()
                if op["action"] == action and ("reply" in op) == reply}
    dlq = {naming.dlq_subject(service, naming.durable_name(service, e.producer)) for e in consumed_by(service)}
    assert addresses("send", False) == {e.subject for e in produced_by(service)} | dlq
    assert addresses("receive", False) == {e.subject for e in consumed_by(service)}
    assert addresses("receive", True) == {ep.subject for ep in endpoints_of(service)}
    for op in doc["operations"].values():
        if op["action"] == "receive" and "reply" not in op:
            producer = naming.parse_type(resolve(doc, resolve(doc, op["messages"][0]["$ref"])["$ref"])["name"])[0]
            assert op["x-durable"] == naming.durable_name(service, producer)
            assert op["x-jetstream-stream"] == naming.stream_name(producer)


@pytest.mark.parametrize("service", naming.SERVICES)
def test_asyncapi_payloads_accept_the_examples(service: str) -> None:
    """The schemas hoisted into components/schemas still work (refs rewritten correctly)."""
    doc = load_asyncapi(service)
    messages = doc["components"]["messages"]
    for spec in produced_by(service) + consumed_by(service):
        msg = messages[spec.type]
        assert msg["contentType"] == "application/cloudevents+json"
        assert "Nats-Msg-Id" in resolve(doc, msg["headers"]["$ref"])["required"]
        schema = component_schema(doc, msg["payload"]["$ref"].removeprefix("#/components/schemas/"))
        event = sample_event(spec)
        assert errors(schema, event) == []
        assert errors(schema, {**event, "type": "vn.congdoan.other.thing.done.v1"})
        assert errors(schema, {**event, "data": {**event["data"], "unexpected_field": 1}})
    for ep in endpoints_of(service):
        ex = endpoint_example(ep)
        for part in ("request", "reply"):
            name = messages[f"{service}.{ep.name}.{part}"]["payload"]["$ref"].removeprefix("#/components/schemas/")
            assert errors(component_schema(doc, name), ex[part]) == []
    if endpoints_of(service):
        err = messages["ErrorReply"]
        headers = resolve(doc, err["headers"]["$ref"])
        assert set(headers["required"]) == {"Nats-Service-Error", "Nats-Service-Error-Code"}
        body = json.loads(error_reply(ErrorCode.NOT_FOUND, "no such unit").model_dump_json())
        assert errors(component_schema(doc, err["payload"]["$ref"].removeprefix("#/components/schemas/")), body) == []


def test_asyncapi_description_carries_the_naming_scheme() -> None:
    for service in naming.SERVICES:
        description = load_asyncapi(service)["info"]["description"]
        assert "congdoan.evt.<producer>.<entity>.<action>.v<N>" in description
        assert naming.micro_name(service) in description


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_asyncapi_cli_validates(tmp_path: Path) -> None:
    """`npx @asyncapi/cli@4 validate` on every document: errors fail, warnings are fine.
    The first run downloads the CLI into npm's cache (a minute or two); later runs reuse it."""
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npx (Node.js) is not on PATH: cannot run @asyncapi/cli validate")
    analytics = tmp_path / "asyncapi-analytics.json"
    analytics.write_text(json.dumps({"analyticsEnabled": "false", "infoMessageShown": "true"}), encoding="utf-8")
    env = {**os.environ, "CI": "true", "ASYNCAPI_METRICS_CONFIG_PATH": str(analytics),
           "NO_UPDATE_NOTIFIER": "1", "npm_config_update_notifier": "false", "npm_config_fund": "false",
           "npm_config_audit": "false", "npm_config_yes": "true"}
    failures = []
    for i, path in enumerate(sorted(generate.ASYNCAPI_DIR.glob("*.yaml"))):
        proc = subprocess.run([npx, "--yes", "@asyncapi/cli@4", "validate", str(path), "--fail-severity", "error"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=600 if i == 0 else 180)
        out = proc.stdout + proc.stderr
        if proc.returncode != 0 or "is valid" not in out:
            failures.append(f"{path.name} (exit {proc.returncode}):\n{out[-4000:]}")
    assert not failures, "@asyncapi/cli validate failed:\n" + "\n".join(failures)
