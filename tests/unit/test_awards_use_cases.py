"""The awards use cases' rules, without NATS or a database: each use case is called with a fake
unit of work (tests/unit/fakes.py) and the test reads its reply, what it stored and the events it
emitted. The domain objects' own rules are in test_awards_domain.py; the wiring (endpoints, the
consumer, the stack) in tests/integration/test_awards.py."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest

from contracts.api import awards as api
from contracts.events import awards as ev
from contracts.events import reports as reports_ev
from runtime.clock import TZ
from runtime.errors import Conflict, Forbidden, Invalid, NotFound
from services.awards.domain.eligibility import Assessment
from services.awards.domain.model import AwardForm
from services.awards.service_layer import decisions, eligibility, nominations, rounds
from tests.unit.fakes import FakeAwardsUnitOfWork, Org, person

T = TypeVar("T")
NOW = datetime(2026, 5, 10, 9, 0, tzinfo=TZ)
FORMS = [AwardForm("giay-khen", "Giấy khen", 1, ("collective", "individual"), ("provincial_federation",), True),
         AwardForm("bang-khen", "Bằng khen", 2, ("collective", "individual"), ("provincial_federation",), True),
         AwardForm("co-thi-dua", "Cờ thi đua", 3, ("collective",), ("national_federation",), True)]


def org() -> Org:
    """prov ⊃ up1 ⊃ {g1, g2}; prov ⊃ up2 ⊃ g3."""
    o = Org()
    o.unit("prov", "provincial_federation", name="LĐLĐ tỉnh Bình Định")
    o.unit("up1", "upper_level_union", "prov", name="Công đoàn ngành Giáo dục")
    o.unit("up2", "upper_level_union", "prov", name="Công đoàn ngành Y tế")
    o.unit("g1", "grassroots_union", "up1", name="CĐCS Trường THPT Quy Nhơn")
    o.unit("g2", "grassroots_union", "up1", name="CĐCS Trường THCS Lê Lợi")
    o.unit("g3", "grassroots_union", "up2", name="CĐCS Bệnh viện tỉnh")
    o.person("chair", "prov", "chairperson").person("up1c", "up1", "chairperson")
    o.person("g1c", "g1", "chairperson").person("g1m", "g1", "member", name="Phạm Văn Mạnh")
    o.person("g2c", "g2", "chairperson").person("g3c", "g3", "chairperson").person("g3m", "g3", "member")
    return o


def uow() -> FakeAwardsUnitOfWork:
    u = FakeAwardsUnitOfWork(org(), NOW, FORMS)
    for pid, unit in (("g1m", "g1"), ("g3m", "g3")):  # both kept their 2025 individual plan, well
        u.facts.assessed[f"ip-{pid}"] = (Assessment(f"ip-{pid}", pid, 2025, "good", date(2025, 12, 20), "1"), unit)
    return u


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def opened(u: FakeAwardsUnitOfWork, **over: object) -> api.RoundReply:
    cmd = dict(round_id="round-2026", name="Khen thưởng Tháng Công nhân 2026", issuer_unit_id="prov",
               opens_on=date(2026, 5, 1), closes_on=date(2026, 5, 31), require_report_accepted=True)
    cmd.update(over)
    return await rounds.open_round(api.OpenRound.model_validate(cmd), person("chair"), u)


async def nominate(u: FakeAwardsUnitOfWork, by: str, who: str, nominee: str, kind: str = "individual",
                   form: str = "giay-khen", nomination_id: str | None = None) -> api.NominationReply:
    return await nominations.submit_nomination(api.SubmitNomination(
        nomination_id=nomination_id, round_id="round-2026", by_unit_id=by, nominee_kind=kind, nominee_id=nominee,
        form=form, achievements="Hoàn thành xuất sắc nhiệm vụ năm học 2025-2026"), person(who), u)


# --- rounds ----------------------------------------------------------------------------------------------

def test_the_issuing_levels_leader_opens_a_round_with_the_forms_that_level_may_grant():
    u = uow()
    reply = run(opened(u))
    assert reply.status == "open" and reply.report_period == "2025"  # the year before it opens
    assert [f.code for f in reply.forms] == ["giay-khen", "bang-khen"]  # not the national federation's flag
    (event,) = u.emitted(ev.RoundOpened)
    assert event.round_id == "round-2026" and event.form_codes == ["giay-khen", "bang-khen"]


def test_only_a_leader_of_the_issuing_unit_itself_opens_its_round():
    u = uow()
    with pytest.raises(Forbidden):  # the chair of a unit below is no leader of the province
        run(rounds.open_round(api.OpenRound(name="Đợt", issuer_unit_id="prov", opens_on=date(2026, 5, 1),
                                            closes_on=date(2026, 5, 31)), person("up1c"), u))
    assert u.events == [] and u.rounds.rows == {}


def test_a_quota_is_never_set_below_what_was_already_nominated_through_the_unit():
    u = uow()
    run(opened(u))
    run(nominate(u, "g1", "g1c", "g1m"))
    with pytest.raises(Conflict, match="thấp hơn số hồ sơ đã đề nghị"):
        run(rounds.set_round_quotas(api.SetRoundQuotas(round_id="round-2026", quotas=[
            api.QuotaSetting(unit_id="up1", quota=0)]), person("chair"), u))


# --- nominations -----------------------------------------------------------------------------------------

def test_a_nomination_waits_at_the_next_level_up_with_the_nominees_eligibility():
    u = uow()
    run(opened(u))
    reply = run(nominate(u, "g1", "g1c", "g1m"))
    assert (reply.status, reply.at_unit_id, reply.eligible) == ("submitted", "up1", True)
    stored = u.nominations.rows[reply.nomination_id]
    assert stored.route == ["g1", "up1"]  # the units whose quotas it counts against
    (event,) = u.emitted(ev.NominationSubmitted)
    assert event.nominee_id == "g1m" and event.form == "Giấy khen" and event.eligible


def test_a_unit_nominates_only_inside_its_own_subtree():
    u = uow()
    run(opened(u))
    with pytest.raises(Forbidden, match="không thuộc"):
        run(nominate(u, "g1", "g1c", "g3m"))  # a person of another branch
    with pytest.raises(Forbidden):
        run(nominate(u, "g1", "g1m", "g1m"))  # a plain member does not act for the unit


def test_a_nominee_has_one_place_per_round():
    u = uow()
    run(opened(u))
    first = run(nominate(u, "g1", "g1c", "g1m", nomination_id="nom-1"))
    assert run(nominate(u, "g1", "g1c", "g1m", nomination_id="nom-1")).duplicate  # a retry answers the same
    with pytest.raises(Conflict, match="mỗi đối tượng chỉ được đề nghị một lần"):
        run(nominate(u, "up1", "up1c", "g1m"))  # the level above, for the same person
    assert len(u.emitted(ev.NominationSubmitted)) == 1 and first.nomination_id == "nom-1"


def test_nominations_through_a_unit_stay_within_its_quota():
    u = uow()
    run(opened(u, quotas=[{"unit_id": "up1", "quota": 1}]))
    run(nominate(u, "g1", "g1c", "g1m"))
    with pytest.raises(Conflict, match="Vượt chỉ tiêu"):
        run(nominate(u, "g2", "g2c", "g2", kind="collective"))  # also through up1
    assert run(nominate(u, "g3", "g3c", "g3m")).status == "submitted"  # up2 has no quota: not limited


def test_a_round_not_yet_open_takes_no_nomination():
    u = uow()
    run(opened(u, opens_on=date(2026, 6, 1), closes_on=date(2026, 6, 30)))
    with pytest.raises(Conflict, match="chưa bắt đầu"):
        run(nominate(u, "g1", "g1c", "g1m"))


def test_only_the_level_a_nomination_waits_at_forwards_it():
    u = uow()
    run(opened(u))
    nom = run(nominate(u, "g1", "g1c", "g1m"))
    forward = api.ForwardNominations(unit_id="up1", nomination_ids=[nom.nomination_id])
    with pytest.raises(Forbidden):  # the nominating unit cannot act for the level above
        run(nominations.forward_nominations(forward, person("g1c"), u))
    (sent,) = run(nominations.forward_nominations(forward, person("up1c"), u)).items
    assert (sent.status, sent.at_unit_id) == ("under_review", "prov")  # now before the council
    with pytest.raises(Conflict, match="không chờ up1"):  # once sent up, not again
        run(nominations.forward_nominations(forward, person("up1c"), u))


# --- the council and decisions -----------------------------------------------------------------------------

def before_the_council(u: FakeAwardsUnitOfWork, nominee: str = "g1m") -> str:
    run(opened(u))
    nom = run(nominate(u, "g1", "g1c", nominee))
    run(nominations.forward_nominations(api.ForwardNominations(unit_id="up1", nomination_ids=[nom.nomination_id]),
                                        person("up1c"), u))
    return nom.nomination_id


def test_the_council_sees_only_what_the_levels_below_sent_up():
    u = uow()
    run(opened(u))
    nom = run(nominate(u, "g1", "g1c", "g1m"))
    with pytest.raises(Conflict, match="chưa được cấp trên trình lên"):
        run(decisions.record_council_result(api.RecordCouncilResult(nomination_id=nom.nomination_id,
                                                                    result="approved"), person("chair"), u))


def test_the_council_approves_only_an_eligible_nominee_but_may_always_reject():
    u = uow()
    nid = before_the_council(u)
    del u.facts.assessed["ip-g1m"]  # the assessment never came: not eligible now
    approve = api.RecordCouncilResult(nomination_id=nid, result="approved")
    with pytest.raises(Conflict, match="chưa đủ điều kiện"):
        run(decisions.record_council_result(approve, person("chair"), u))
    rejected = run(decisions.record_council_result(api.RecordCouncilResult(nomination_id=nid, result="rejected",
                                                                           note="Chưa đủ thành tích"),
                                                   person("chair"), u))
    assert rejected.status == "rejected"
    (decided,) = u.emitted(ev.NominationDecided)
    assert decided.result == "rejected"


def test_an_escalation_names_a_higher_form():
    u = uow()
    nid = before_the_council(u)
    with pytest.raises(Invalid, match="không cao hơn"):
        run(decisions.record_council_result(api.RecordCouncilResult(nomination_id=nid, result="escalated",
                                                                    form="giay-khen"), person("chair"), u))
    up = run(decisions.record_council_result(api.RecordCouncilResult(nomination_id=nid, result="escalated",
                                                                     form="bang-khen"), person("chair"), u))
    assert up.council_form == "bang-khen"


def test_a_decision_grants_the_approved_nominations_and_its_number_is_used_once():
    u = uow()
    nid = before_the_council(u)
    run(decisions.record_council_result(api.RecordCouncilResult(nomination_id=nid, result="approved"),
                                        person("chair"), u))
    cmd = api.IssueDecision(decision_id="dec-1", round_id="round-2026", number="125/QĐ-LĐLĐ",
                            decision_date=date(2026, 5, 28), signer="Chủ tịch LĐLĐ tỉnh", nomination_ids=[nid])
    reply = run(decisions.issue_decision(cmd, person("chair"), u))
    (award,) = reply.awards
    assert (award.nominee_id, award.form, award.unit_id, award.year) == ("g1m", "giay-khen", "g1", 2026)
    assert u.nominations.rows[nid].status == "awarded"
    (granted,) = u.emitted(ev.AwardGranted)
    assert granted.award_id == award.award_id and granted.decision_number == "125/QĐ-LĐLĐ"
    assert run(decisions.issue_decision(cmd, person("chair"), u)).duplicate  # a retry
    with pytest.raises(Conflict, match="đã được dùng"):
        run(decisions.issue_decision(cmd.model_copy(update={"decision_id": "dec-2"}), person("chair"), u))
    assert len(u.emitted(ev.AwardGranted)) == 1


def test_a_decision_grants_nothing_the_council_did_not_approve():
    u = uow()
    nid = before_the_council(u)  # under review, not yet approved
    cmd = api.IssueDecision(round_id="round-2026", number="126/QĐ-LĐLĐ", decision_date=date(2026, 5, 28),
                            signer="Chủ tịch", nomination_ids=[nid])
    with pytest.raises(Conflict, match="chưa được Hội đồng đồng ý"):
        run(decisions.issue_decision(cmd, person("chair"), u))
    assert u.decisions.rows == {} and u.emitted(ev.AwardGranted) == []


# --- eligibility from the facts ----------------------------------------------------------------------------

def test_a_unit_becomes_eligible_when_its_report_of_the_period_is_accepted():
    u = uow()
    run(opened(u))
    check = api.CheckEligibility(round_id="round-2026", nominee_kind="collective", nominee_id="g2")
    assert not run(eligibility.check_eligibility(check, person("g2c"), u)).eligible  # no report yet
    accepted = reports_ev.ReportAccepted(report_id="r-g2", requirement_id="rq-1", period="2025", unit_id="g2",
                                         by_unit_id="up1", revision=1, on_time=True,
                                         accepted_at=datetime(2025, 12, 5, 8, 0, tzinfo=TZ))
    run(eligibility.on_report_accepted(SimpleNamespace(data=accepted), u))  # type: ignore[arg-type]
    assert run(eligibility.check_eligibility(check, person("g2c"), u)).eligible


def test_eligibility_of_a_unit_is_read_by_the_unit_and_the_levels_above_only():
    u = uow()
    run(opened(u))
    check = api.CheckEligibility(round_id="round-2026", nominee_kind="collective", nominee_id="g2")
    run(eligibility.check_eligibility(check, person("up1c"), u))  # the level above reads it
    with pytest.raises(Forbidden):
        run(eligibility.check_eligibility(check, person("g1c"), u))  # a sibling does not
    with pytest.raises(NotFound):
        run(eligibility.check_eligibility(check.model_copy(update={"nominee_id": "g9"}), person("chair"), u))
