"""The reports use cases' rules, without NATS or a database: submission, review and reading called
with a fake unit of work (tests/unit/fakes.py); the test reads the reply, what was stored and the
events emitted. The domain objects' own rules are in test_reports_service_rules.py; the wiring in
tests/integration/test_reports_service.py."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from contracts.api import reports as api
from contracts.events import reports as ev
from runtime.errors import DomainError, Forbidden, Invalid, NotFound
from services.reports.domain.forms import FORM_SCHEMA, FormDefinition, FormRegistry
from services.reports.domain.model import ACCEPTED, RETURNED, SUBMITTED, VN_TZ, Requirement
from services.reports.service_layer import reading, review, submission
from services.reports.service_layer.context import Config, Context
from tests.unit.fakes import FakeReportsUnitOfWork, Org, person

FORM = FormDefinition.from_dict({"schema": FORM_SCHEMA, "form_id": "f-test", "version": 1, "title": "Biểu thử",
                                 "fields": [{"key": "sessions", "kind": "number", "label": "Số buổi",
                                             "compulsory": True, "integer": True, "min": 0}]})
REQ = Requirement(requirement_id="rq-2026", name="Báo cáo kết quả năm 2026", issuer_unit_id="prov",
                  receiving_unit_id="prov", reporting_kinds=("grassroots_union",), period="2026",
                  due_date=date(2026, 11, 30), form_id="f-test", form_version=1, cutoff_date=date(2026, 12, 15))


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)  # type: ignore[misc]


def org() -> Org:
    """prov ⊃ up1 ⊃ g1, prov ⊃ up2."""
    o = Org()
    o.unit("prov", "provincial_federation").unit("up1", "upper_level_union", "prov")
    o.unit("up2", "upper_level_union", "prov").unit("g1", "grassroots_union", "up1")
    o.person("provc", "prov", "chairperson").person("up1c", "up1", "cadre").person("up2c", "up2", "cadre")
    o.person("g1c", "g1", "chairperson").person("g1m", "g1", "member")
    return o


class World:
    def __init__(self, now: datetime = vn(2026, 11, 20, 9, 0), o: Org | None = None) -> None:
        self.uow = FakeReportsUnitOfWork(o or org(), now)
        self.uow.requirements.rows[REQ.requirement_id] = REQ
        self.ctx = Context(Config(exports_dir=Path("/nonexistent")), forms=FormRegistry([FORM]))

    def at(self, now: datetime) -> World:
        self.uow.clock = now
        return self

    def call(self, use_case: Any, cmd: Any, who: str) -> Any:
        return asyncio.run(use_case(cmd, person(who), self.uow, self.ctx))

    def submit(self, who: str = "g1c", unit: str = "g1", **over: Any) -> api.SubmissionReceipt:
        cmd = dict(requirement_id="rq-2026", period="2026", unit_id=unit, values={"sessions": 3})
        cmd.update(over)
        return self.call(submission.submit_report, api.SubmitReport.model_validate(cmd), who)


# --- submission ----------------------------------------------------------------------------------------

def test_a_submission_goes_to_the_units_parent_and_is_on_time_up_to_the_due_day():
    w = World()
    receipt = w.submit()
    assert (receipt.revision, receipt.on_time, receipt.receiving_unit_id, receipt.status) == (1, True, "up1", SUBMITTED)
    (event,) = w.uow.emitted(ev.ReportSubmitted)
    assert (event.unit_id, event.receiving_unit_id, event.on_time) == ("g1", "up1", True)
    assert [k.revision for k in w.uow.reports.kept] == [1]  # every revision kept


def test_after_the_due_day_a_report_is_late_and_after_the_cut_off_refused():
    w = World(now=vn(2026, 12, 1, 8, 0))
    assert w.submit().on_time is False
    w2 = World(now=vn(2026, 12, 16, 8, 0))
    with pytest.raises(DomainError, match="khóa sổ") as refused:
        w2.submit()
    assert refused.value.details and refused.value.details[0]["type"] == "past_cutoff"
    assert w2.uow.events == []


def test_a_returned_report_is_still_received_after_the_cut_off():
    w = World()
    w.submit()
    report_id = next(iter(w.uow.reports.rows))
    w.call(review.return_report, api.ReturnReport(report_id=report_id, comment="Bổ sung số buổi"), "up1c")
    again = w.at(vn(2026, 12, 20, 8, 0)).submit(values={"sessions": 4})
    assert (again.revision, again.on_time) == (2, True)  # the first submission's timeliness stays


def test_a_retry_answers_the_stored_submission_and_a_reused_id_with_other_values_is_refused():
    w = World()
    first = w.submit(report_id="r-g1")
    assert w.submit(report_id="r-g1").duplicate and first.revision == 1
    with pytest.raises(DomainError, match="không ghi đè"):
        w.submit(report_id="r-g1", values={"sessions": 5})
    assert len(w.uow.emitted(ev.ReportSubmitted)) == 1


def test_the_forms_rules_hold_and_name_the_field():
    w = World()
    with pytest.raises(Invalid) as refused:
        w.submit(values={"sessions": -1})
    assert refused.value.details and refused.value.details[0]["field"] == "values.sessions"
    assert w.uow.reports.rows == {}


def test_only_the_acting_people_of_the_unit_submit_and_only_units_expected_to_report():
    w = World()
    with pytest.raises(Forbidden):
        w.submit(who="g1m")  # a plain member
    with pytest.raises(Forbidden):
        w.submit(who="up1c")  # the level above does not submit for the unit
    with pytest.raises(DomainError, match="không thuộc diện phải báo cáo"):
        w.submit(who="up1c", unit="up1")  # an upper-level union: not of the requirement's kinds
    with pytest.raises(NotFound):
        w.submit(requirement_id="rq-typo")


def test_the_period_hierarchy_is_the_due_days_a_later_move_changes_nothing():
    o = org().move("g1", "up2", date(2026, 12, 10))  # after the due date (the period's hierarchy day)
    assert World(o=o).submit().receiving_unit_id == "up1"
    o = org().move("g1", "up2", date(2026, 10, 1))  # before it: the period's own hierarchy
    assert World(o=o).submit().receiving_unit_id == "up2"


def test_a_draft_is_kept_with_its_problems_and_submitted_by_an_empty_submission():
    w = World()
    draft = w.call(submission.save_draft, api.SaveDraft(requirement_id="rq-2026", period="2026", unit_id="g1",
                                                        values={"sessions": -2}), "g1c")
    assert draft.problems and w.uow.events == []
    w.call(submission.save_draft, api.SaveDraft(requirement_id="rq-2026", period="2026", unit_id="g1",
                                                values={"sessions": 2}), "g1c")
    assert w.submit(values={}).status == SUBMITTED
    assert w.uow.reports.rows[draft.report_id].values == {"sessions": 2}


# --- review --------------------------------------------------------------------------------------------

def submitted() -> tuple[World, str]:
    w = World()
    return w, w.submit(report_id="r-g1").report_id


def test_the_receiving_level_accepts_and_an_accepted_report_no_longer_changes():
    w, rid = submitted()
    with pytest.raises(Forbidden):
        w.call(review.accept_report, api.AcceptReport(report_id=rid), "g1c")  # not one's own report
    with pytest.raises(Forbidden):
        w.call(review.accept_report, api.AcceptReport(report_id=rid), "up2c")  # not the receiving level
    receipt = w.call(review.accept_report, api.AcceptReport(report_id=rid), "up1c")
    assert (receipt.status, receipt.by_unit_id) == ("accepted", "up1")
    assert w.call(review.accept_report, api.AcceptReport(report_id=rid), "up1c").duplicate
    assert len(w.uow.emitted(ev.ReportAccepted)) == 1
    with pytest.raises(DomainError, match="đã được tiếp nhận"):
        w.submit(values={"sessions": 9})


def test_a_return_says_what_to_fix_and_a_leader_above_may_return_an_accepted_report():
    w, rid = submitted()
    with pytest.raises(Invalid):
        w.call(review.return_report, api.ReturnReport(report_id=rid, comment="   "), "up1c")
    w.call(review.accept_report, api.AcceptReport(report_id=rid), "up1c")
    receipt = w.call(review.return_report, api.ReturnReport(report_id=rid, comment="Số liệu chưa khớp"), "provc")
    assert (receipt.status, receipt.by_unit_id) == (RETURNED, "prov")
    (returned,) = w.uow.emitted(ev.ReportReturned)
    assert returned.comment == "Số liệu chưa khớp"


def test_reopening_an_accepted_report_lets_the_unit_correct_it():
    w, rid = submitted()
    w.call(review.accept_report, api.AcceptReport(report_id=rid), "up1c")
    reopened = w.call(review.reopen_report, api.ReopenReport(report_id=rid, comment="Sửa số buổi"), "up1c")
    assert reopened.status == SUBMITTED
    assert w.submit(values={"sessions": 4}).revision == 2
    view = w.call(reading.get_report, api.GetReport(report_id=rid), "g1c")
    assert [h.action for h in view.history] == [ACCEPTED, "reopened"]
    assert [r.values for r in view.revisions] == [{"sessions": 3}, {"sessions": 4}]


# --- reading -------------------------------------------------------------------------------------------

def test_a_report_is_read_by_its_unit_and_the_levels_above_not_by_a_sibling():
    w, rid = submitted()
    for who in ("g1m", "up1c", "provc"):
        assert w.call(reading.get_report, api.GetReport(report_id=rid), who).unit_id == "g1"
    with pytest.raises(Forbidden):
        w.call(reading.get_report, api.GetReport(report_id=rid), "up2c")
    page = w.call(reading.list_reports, api.ListReports(requirement_id="rq-2026", receiving_unit_id="up1"), "up1c")
    assert [r.report_id for r in page.items] == [rid]
    with pytest.raises(Forbidden):
        w.call(reading.list_reports, api.ListReports(requirement_id="rq-2026", receiving_unit_id="up1"), "up2c")
