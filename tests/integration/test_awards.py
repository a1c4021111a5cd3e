"""The awards service in-process, on a real nats-server and on SQLite and PostgreSQL. The test plays
plans and reports: it publishes their events (directory, reports, individual plans, plans) onto
their subjects, in whatever order it likes, and drives awards through its endpoints.

Hierarchy: a province, 5 upper-level unions, 50 grassroots unions (10 under each), a chairperson in
every unit and a member in every grassroots union."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from contracts import naming
from contracts.catalogue import EVENTS_BY_TYPE
from contracts.envelope import build_event
from runtime.clock import TZ, set_shared_time
from tests.conftest import wait_until
from tests.support import api, call, running

UPPER, PER_UPPER = 5, 10
ROLES_CHAIR = ["chairperson"]


# --- helpers -----------------------------------------------------------------------------------

async def publish(js: Any, type_: str, data: dict[str, Any], *, event_id: str | None = None,
                  at: datetime | None = None) -> str:
    spec = EVENTS_BY_TYPE[type_]
    event = build_event(type_=type_, source=naming.source_for(spec.producer), data=spec.model.model_validate(data),
                        time=at or datetime.now(TZ), id_=event_id)
    await js.publish(spec.subject, json.dumps(event, ensure_ascii=False).encode(),
                     headers={"Nats-Msg-Id": event["id"]})
    return event["id"]


async def ok(nc: Any, endpoint: str, body: dict[str, Any]) -> Any:
    headers, reply = await call(nc, api("awards", endpoint), body)
    assert "Nats-Service-Error" not in headers, (endpoint, reply)
    return reply


async def fails(nc: Any, endpoint: str, body: dict[str, Any], status: str) -> dict[str, Any]:
    headers, reply = await call(nc, api("awards", endpoint), body)
    assert headers.get("Nats-Service-Error-Code") == status, (endpoint, headers, reply)
    return reply["error"]


def upper(i: int) -> str:
    return f"u{i}"


def grassroots(i: int) -> str:
    return f"g{i:02d}"


def parent_of_grassroots(i: int) -> str:
    return upper(i // PER_UPPER)


async def scalar(rt: Any, sql: str, **params: Any) -> Any:
    async with rt.engine.connect() as conn:
        return (await conn.execute(sa.text(sql), params)).scalar_one()


async def setup_directory(js: Any, rt: Any, on: date, *, national: bool = False,
                          also: tuple[Any, ...] = ()) -> None:
    """Directory events as plans publishes them: units top-down, then people. `national` puts the
    national federation (tw, its chair p-tw) above the province; `also` are other services'
    runtimes that must have projected the directory too."""
    reg = "vn.congdoan.plans.unit.registered.v1"
    person = "vn.congdoan.plans.person.registered.v1"
    if national:
        await publish(js, reg, {"unit_id": "tw", "code": "TLĐ", "name": "Tổng Liên đoàn Lao động Việt Nam",
                                "kind": "national_federation", "effective_from": on.isoformat()})
        await publish(js, person, {"person_id": "p-tw", "unit_id": "tw", "full_name": "Nguyễn Đình Khang",
                                   "roles": ROLES_CHAIR})
    await publish(js, reg, {"unit_id": "prov", "code": "LĐLĐ-BĐ", "name": "Liên đoàn Lao động tỉnh Bình Định",
                            "kind": "provincial_federation", "effective_from": on.isoformat(),
                            **({"parent_id": "tw"} if national else {})})
    for u in range(UPPER):
        await publish(js, reg, {"unit_id": upper(u), "code": f"CĐCTCS-{u}", "name": f"Công đoàn ngành số {u}",
                                "kind": "upper_level_union", "parent_id": "prov", "effective_from": on.isoformat()})
    for g in range(UPPER * PER_UPPER):
        await publish(js, reg, {"unit_id": grassroots(g), "code": f"CĐCS-{g}", "name": f"Công đoàn cơ sở Công ty {g}",
                                "kind": "grassroots_union", "parent_id": parent_of_grassroots(g),
                                "effective_from": on.isoformat()})
    await publish(js, person, {"person_id": "p-prov", "unit_id": "prov", "full_name": "Nguyễn Mạnh Hùng",
                               "roles": ROLES_CHAIR})
    for u in range(UPPER):
        await publish(js, person, {"person_id": f"p-{upper(u)}", "unit_id": upper(u), "full_name": f"Chủ tịch ngành {u}",
                                   "roles": ROLES_CHAIR})
    for g in range(UPPER * PER_UPPER):
        await publish(js, person, {"person_id": f"p-{grassroots(g)}", "unit_id": grassroots(g),
                                   "full_name": f"Chủ tịch CĐCS {g}", "roles": ROLES_CHAIR})
        await publish(js, person, {"person_id": f"m-{grassroots(g)}", "unit_id": grassroots(g),
                                   "full_name": f"Đoàn viên Trần Thị {g}", "roles": ["member"]})
    units, people = 1 + UPPER + UPPER * PER_UPPER + national, 1 + UPPER + 2 * UPPER * PER_UPPER + national

    async def projected() -> bool:
        return all([await scalar(r, "SELECT count(*) FROM dir_units") == units
                    and await scalar(r, "SELECT count(*) FROM dir_people") == people for r in (rt, *also)])

    await wait_until(projected, what="awards to project the directory")


async def report(js: Any, kind: str, unit_id: str, period: str, *, revision: int = 1, on_time: bool = True,
                 report_id: str | None = None, event_id: str | None = None) -> None:
    rid = report_id or f"r-{unit_id}-{period}"
    at = datetime(int(period[:4]), 11, 25, 9, 0, tzinfo=TZ)
    base = {"report_id": rid, "requirement_id": "annual", "period": period, "unit_id": unit_id, "revision": revision}
    if kind == "submitted":
        data = {**base, "receiving_unit_id": "prov", "submitted_at": at.isoformat(), "on_time": on_time}
    elif kind == "returned":
        data = {**base, "by_unit_id": "prov", "comment": "Đề nghị bổ sung số liệu.",
                "returned_at": (at + timedelta(days=1)).isoformat()}
    else:
        data = {**base, "by_unit_id": "prov", "on_time": on_time, "accepted_at": (at + timedelta(days=2)).isoformat()}
    await publish(js, f"vn.congdoan.reports.report.{kind}.v1", data, event_id=event_id)


async def assessed(js: Any, person_id: str, unit_id: str, year: int, rating: str, on: date) -> None:
    await publish(js, "vn.congdoan.plans.individual_plan.assessed.v1", {
        "individual_plan_id": f"ip-{person_id}-{year}", "person_id": person_id, "unit_id": unit_id, "year": year,
        "rating": rating, "assessed_on": on.isoformat()})


async def open_round(nc: Any, today: date, **kw: Any) -> dict[str, Any]:
    body = {"actor_id": "p-prov", "round_id": "r-19-5", "name": "Khen thưởng Tháng Công nhân",
            "issuer_unit_id": "prov", "opens_on": (today - timedelta(days=1)).isoformat(),
            "closes_on": (today + timedelta(days=20)).isoformat(), "report_period": str(today.year - 1),
            "collective_categories": ["Tập thể xuất sắc"], "individual_categories": ["Cá nhân xuất sắc"], **kw}
    return await ok(nc, "open_round", body)


def nominate(by: str, kind: str, nominee: str, form: str = "bang_khen_ldld_tinh", **kw: Any) -> dict[str, Any]:
    return {"actor_id": f"p-{by}", "round_id": "r-19-5", "by_unit_id": by, "nominee_kind": kind,
            "nominee_id": nominee, "form": form,
            "category": "Tập thể xuất sắc" if kind == "collective" else "Cá nhân xuất sắc",
            "achievements": f"Thành tích xuất sắc của {nominee} trong học tập và làm theo Bác.", **kw}


async def stream_count(js: Any, type_: str) -> int:
    subject = naming.subject_for_type(type_)
    info = await js.stream_info(naming.stream_name(naming.parse_type(type_)[0]), subjects_filter=subject)
    return int((info.state.subjects or {}).get(subject, 0))


async def stream_events(js: Any, type_: str, n: int) -> list[dict[str, Any]]:
    psub = await js.pull_subscribe(naming.subject_for_type(type_), stream=naming.stream_name("awards"))
    try:
        msgs = await psub.fetch(n, timeout=5)
        return [json.loads(m.data) for m in msgs]
    finally:
        await psub.unsubscribe()


# --- tests -------------------------------------------------------------------------------------

async def test_a_round_from_opening_to_decision_over_a_generated_hierarchy(nc, nats_server, make_db_url):
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        today = rt.clock.today()
        last = str(today.year - 1)
        await setup_directory(js, rt, today - timedelta(days=400))
        # Last year's reports: accepted and on time, except g11 (late), g12 (returned), g13 (none),
        # g14 (submitted, not yet accepted). Individual plans: good, except m-g11 (only "done").
        for g in range(UPPER * PER_UPPER):
            unit = grassroots(g)
            if g != 13:
                await report(js, "submitted", unit, last, on_time=g != 11)
            if g == 12:
                await report(js, "returned", unit, last)
            elif g not in (13, 14):
                await report(js, "accepted", unit, last, on_time=g != 11)
            await assessed(js, f"m-{unit}", unit, today.year - 1, "done" if g == 11 else "good", today)
        for u in range(UPPER):
            await report(js, "accepted", upper(u), last)

        async def facts_in() -> bool:
            return await scalar(rt, "SELECT count(*) FROM plan_assessments") == UPPER * PER_UPPER
        await wait_until(facts_in, what="reports and assessments projected")

        forms = await ok(nc, "list_award_forms", {})
        assert {"bieu_duong", "giay_khen", "bang_khen_ldld_tinh", "bang_khen_tong_ldld"} <= {f["code"] for f in forms["items"]}

        # A member may not open a round; the chair of the province may.
        await fails(nc, "open_round", {"actor_id": "m-g00", "name": "x", "issuer_unit_id": "prov",
                                       "opens_on": today.isoformat(), "closes_on": today.isoformat()}, "403")
        rnd = await open_round(nc, today, quotas=[{"unit_id": "u0", "quota": 2}, {"unit_id": "u1", "quota": 12}])
        assert (rnd["status"], rnd["level"], rnd["report_period"]) == ("open", "Cấp tỉnh", last)
        assert "bang_khen_ldld_tinh" in [f["code"] for f in rnd["forms"]]
        again = await open_round(nc, today)
        assert again["duplicate"] is True

        # Under u0 (quota 2): two nominations go in, the third is over the quota; withdrawing frees it.
        n0 = await ok(nc, "submit_nomination", nominate("g00", "collective", "g00"))
        assert (n0["status"], n0["at_unit_id"], n0["eligible"]) == ("submitted", "u0", True)
        await ok(nc, "submit_nomination", nominate("g05", "collective", "g05"))
        err = await fails(nc, "submit_nomination", nominate("g06", "collective", "g06"), "409")
        assert "Vượt chỉ tiêu khen thưởng của Công đoàn ngành số 0" in err["message"]
        assert err["details"][0]["field"] == "quotas.u0"
        await ok(nc, "withdraw_nomination", {"actor_id": "p-g00", "nomination_id": n0["nomination_id"]})
        n6 = await ok(nc, "submit_nomination", nominate("g06", "collective", "g06", nomination_id="nom-g06"))

        # One nomination per nominee per round: u0 nominating g05 again is refused, clearly.
        err = await fails(nc, "submit_nomination", nominate("u0", "collective", "g05"), "409")
        assert "Công đoàn cơ sở Công ty 5 đã được đề nghị trong đợt" in err["message"]
        assert "mỗi đối tượng chỉ được đề nghị một lần" in err["message"]
        assert err["details"][0]["field"] == "nominee_id"
        # A retry with the same nomination id is not a duplicate: it answers the same nomination.
        retry = await ok(nc, "submit_nomination", nominate("g06", "collective", "g06", nomination_id="nom-g06"))
        assert retry["duplicate"] is True and retry["nomination_id"] == n6["nomination_id"]

        # Unit scope: a grassroots union nominates only within itself; a member cannot nominate.
        await fails(nc, "submit_nomination", nominate("g20", "collective", "g21"), "403")
        await fails(nc, "submit_nomination", {**nominate("g20", "collective", "g20"), "actor_id": "m-g20"}, "403")
        err = await fails(nc, "submit_nomination", nominate("g20", "individual", "m-g20", form="co_thi_dua_ldld_tinh"),
                          "422")
        assert err["details"][0]["field"] == "form"

        # Under u1: every grassroots nominates itself, g10 also its member; ineligible ones say why.
        u1_noms = {}
        for g in range(10, 20):
            u1_noms[grassroots(g)] = await ok(nc, "submit_nomination", nominate(grassroots(g), "collective",
                                                                                grassroots(g)))
        member = await ok(nc, "submit_nomination", nominate("g10", "individual", "m-g10"))
        weak = await ok(nc, "submit_nomination", nominate("g11", "individual", "m-g11", form="bieu_duong"))
        assert not weak["eligible"] and "Hoàn thành nhiệm vụ" in weak["reasons"][0]
        reasons = {g: u1_noms[g]["reasons"] for g in ("g11", "g12", "g13", "g14")}
        assert reasons == {
            "g11": [f"Báo cáo kết quả kỳ {last} gửi trễ hạn"],
            "g12": [f"Báo cáo kết quả kỳ {last} đã bị trả lại để bổ sung, chưa được gửi lại"],
            "g13": [f"Chưa gửi báo cáo kết quả kỳ {last}"],
            "g14": [f"Báo cáo kết quả kỳ {last} chưa được cấp trên chấp nhận"],
        }
        assert all(u1_noms[grassroots(g)]["eligible"] for g in range(15, 20)) and u1_noms["g10"]["eligible"]
        # u1's quota is 12: 10 collectives + 2 individuals fill it.
        await fails(nc, "submit_nomination", nominate("g15", "individual", "m-g15"), "409")
        # u2 nominates one of its grassroots unions directly: it goes straight to the province.
        direct = await ok(nc, "submit_nomination", nominate("u2", "collective", "g21"))
        assert (direct["status"], direct["at_unit_id"]) == ("under_review", "prov")

        # The council cannot act before the level above the nominating unit sends it up.
        await fails(nc, "record_council_result", {"actor_id": "p-prov", "nomination_id": member["nomination_id"],
                                                  "result": "approved"}, "409")
        waiting = await ok(nc, "list_nominations", {"actor_id": "p-u1", "round_id": "r-19-5", "unit_id": "u1",
                                                    "awaiting_only": True, "page": {"limit": 5}})
        assert len(waiting["items"]) == 5 and waiting["next_cursor"]
        rest = await ok(nc, "list_nominations", {"actor_id": "p-u1", "round_id": "r-19-5", "unit_id": "u1",
                                                 "awaiting_only": True, "page": {"limit": 50,
                                                                                 "cursor": waiting["next_cursor"]}})
        ids = [n["nomination_id"] for n in waiting["items"] + rest["items"]]
        assert len(ids) == 12
        await fails(nc, "forward_nominations", {"actor_id": "p-u0", "unit_id": "u1", "nomination_ids": ids}, "403")
        fwd = await ok(nc, "forward_nominations", {"actor_id": "p-u1", "unit_id": "u1", "nomination_ids": ids,
                                                   "note": "Ban Thường vụ công đoàn ngành đồng ý trình"})
        assert {n["status"] for n in fwd["items"]} == {"under_review"}
        await ok(nc, "forward_nominations", {"actor_id": "p-u0", "unit_id": "u0",
                                             "nomination_ids": [n6["nomination_id"]], "endorse": False,
                                             "note": "Chưa đủ hồ sơ"})

        # The council: only the province's people; ineligible nominations cannot be approved.
        await fails(nc, "record_council_result", {"actor_id": "p-u1", "nomination_id": u1_noms["g10"]["nomination_id"],
                                                  "result": "approved"}, "403")
        err = await fails(nc, "record_council_result", {"actor_id": "p-prov",
                                                        "nomination_id": u1_noms["g13"]["nomination_id"],
                                                        "result": "approved"}, "409")
        assert "chưa đủ điều kiện" in err["message"] and "Chưa gửi báo cáo" in err["message"]
        approved = []
        for g in ("g10", "g15", "g16", "g17", "g18", "g19"):
            r = await ok(nc, "record_council_result", {"actor_id": "p-prov",
                                                       "nomination_id": u1_noms[g]["nomination_id"],
                                                       "result": "approved"})
            assert r["status"] == "approved"
            approved.append(r["nomination_id"])
        await ok(nc, "record_council_result", {"actor_id": "p-prov", "nomination_id": direct["nomination_id"],
                                               "result": "approved"})
        approved.append(direct["nomination_id"])
        esc = await ok(nc, "record_council_result", {"actor_id": "p-prov", "nomination_id": member["nomination_id"],
                                                     "result": "escalated", "form": "bang_khen_tong_ldld",
                                                     "note": "Đề nghị Tổng Liên đoàn tặng Bằng khen"})
        assert (esc["status"], esc["council_form"], esc["escalated_to"]) == ("escalated", "bang_khen_tong_ldld", None)
        # The national federation is not in this directory: the dossier goes up on paper, and the
        # province's own decision cannot grant the national federation's form.
        err = await fails(nc, "issue_decision", {
            "actor_id": "p-prov", "round_id": "r-19-5", "number": "124/QĐ-LĐLĐ", "decision_date": today.isoformat(),
            "signer": "Nguyễn Mạnh Hùng", "nomination_ids": [member["nomination_id"]]}, "409")
        assert "do cấp trên quyết định tặng" in err["message"]
        # The council thinks again: its own Bằng khen.
        member = await ok(nc, "record_council_result", {"actor_id": "p-prov",
                                                        "nomination_id": member["nomination_id"], "result": "approved"})
        approved.append(member["nomination_id"])
        rej = await ok(nc, "record_council_result", {"actor_id": "p-prov", "nomination_id": u1_noms["g12"]["nomination_id"],
                                                     "result": "rejected", "note": "Báo cáo bị trả lại"})
        assert rej["status"] == "rejected"

        # Quotas hold when they change: u1 cannot be cut below what it already sent.
        await fails(nc, "set_round_quotas", {"actor_id": "p-prov", "round_id": "r-19-5",
                                             "quotas": [{"unit_id": "u1", "quota": 5}]}, "409")
        # A change is an event; setting what is already set is none.
        await ok(nc, "set_round_quotas", {"actor_id": "p-prov", "round_id": "r-19-5",
                                          "quotas": [{"unit_id": "u1", "quota": 13}]})
        await ok(nc, "set_round_quotas", {"actor_id": "p-prov", "round_id": "r-19-5",
                                          "quotas": [{"unit_id": "u1", "quota": 13}, {"unit_id": "u0", "quota": 2}]})
        # A decision naming a rejected nomination is refused as a whole.
        decision = {"actor_id": "p-prov", "decision_id": "qd-125", "round_id": "r-19-5", "number": "125/QĐ-LĐLĐ",
                    "decision_date": today.isoformat(), "signer": "Nguyễn Mạnh Hùng, Chủ tịch LĐLĐ tỉnh",
                    "nomination_ids": approved}
        await fails(nc, "issue_decision", {**decision, "nomination_ids": approved + [rej["nomination_id"]]}, "409")
        issued = await ok(nc, "issue_decision", decision)
        assert len(issued["awards"]) == len(approved) == 8
        by_nominee = {a["nominee_id"]: a for a in issued["awards"]}
        assert by_nominee["m-g10"]["form"] == "bang_khen_ldld_tinh" and by_nominee["m-g10"]["unit_id"] == "g10"
        assert by_nominee["g21"]["form_name"] == "Bằng khen của Ban Chấp hành Liên đoàn Lao động tỉnh"
        assert (await ok(nc, "issue_decision", decision))["duplicate"] is True
        await fails(nc, "issue_decision", {**decision, "decision_id": "qd-other"}, "409")  # number already used

        async def granted() -> bool:
            return await stream_count(js, "vn.congdoan.awards.award.granted.v1") >= 8
        await wait_until(granted, what="award.granted on the stream")
        events = await stream_events(js, "vn.congdoan.awards.award.granted.v1", 20)
        assert len(events) == 8
        assert {e["data"]["nominee_id"] for e in events} == set(by_nominee)
        assert all(e["data"]["decision_number"] == "125/QĐ-LĐLĐ" for e in events)
        assert await stream_count(js, "vn.congdoan.awards.round.opened.v1") == 1
        assert await stream_count(js, "vn.congdoan.awards.nomination.decided.v1") == 10
        # Every state change is an event (issue 13 §9): forwarded, returned, withdrawn, decision, quotas.
        fwd_evs = await stream_events(js, "vn.congdoan.awards.nomination.forwarded.v1", 20)
        assert len(fwd_evs) == 12 and {(e["data"]["from_unit_id"], e["data"]["to_unit_id"], e["data"]["to_council"])
                                       for e in fwd_evs} == {("u1", "prov", True)}
        [ret] = await stream_events(js, "vn.congdoan.awards.nomination.returned.v1", 5)
        assert (ret["data"]["nomination_id"], ret["data"]["returned_by_unit_id"], ret["data"]["note"]) == (
            n6["nomination_id"], "u0", "Chưa đủ hồ sơ")
        [wd] = await stream_events(js, "vn.congdoan.awards.nomination.withdrawn.v1", 5)
        assert (wd["data"]["nomination_id"], wd["data"]["waited_at_unit_id"]) == (n0["nomination_id"], "u0")
        [dec] = await stream_events(js, "vn.congdoan.awards.decision.issued.v1", 5)
        assert (dec["data"]["number"], dec["data"]["awards"], dec["data"]["issuer_unit_id"]) == ("125/QĐ-LĐLĐ", 8, "prov")
        assert set(dec["data"]["by_unit_ids"]) == {"g10", "g15", "g16", "g17", "g18", "g19", "u2"}
        [quo] = await stream_events(js, "vn.congdoan.awards.quotas.changed.v1", 5)
        assert quo["data"]["changed"] == [{"unit_id": "u1", "quota": 13}] and quo["data"]["removed"] == []

        final = await ok(nc, "get_round", {"actor_id": "p-g10", "round_id": "r-19-5"})
        assert {q["unit_id"]: (q["used"], q["awarded"]) for q in final["quotas"]} == {"u0": (1, 0), "u1": (11, 7)}
        assert final["nominations"]["awarded"] == 8

        # History: the unit, its ancestors; not its siblings.
        hist = await ok(nc, "get_award_history", {"actor_id": "p-u1", "unit_id": "g10"})
        assert sorted((a["nominee_id"], a["form"]) for a in hist["awards"]) == [("g10", "bang_khen_ldld_tinh"),
                                                                                ("m-g10", "bang_khen_ldld_tinh")]
        await fails(nc, "get_award_history", {"actor_id": "p-g11", "unit_id": "g10"}, "403")
        mine = await ok(nc, "get_award_history", {"actor_id": "m-g10", "person_id": "m-g10"})
        assert [a["decision_number"] for a in mine["awards"]] == ["125/QĐ-LĐLĐ"]

        # An exemplary model, from the award, published to all.
        award_id = by_nominee["m-g10"]["award_id"]
        model = await ok(nc, "register_exemplary_model", {
            "actor_id": "p-g10", "model_id": "em-1", "unit_id": "g10", "person_id": "m-g10",
            "title": "Nữ công nhân giỏi việc nước, đảm việc nhà", "story": "Nhiều sáng kiến cải tiến kỹ thuật.",
            "year": today.year, "award_id": award_id})
        assert model["person_name"] == "Đoàn viên Trần Thị 10"
        await fails(nc, "register_exemplary_model", {"actor_id": "p-g11", "unit_id": "g10", "title": "x",
                                                     "story": "y", "year": today.year}, "403")
        listed = await ok(nc, "list_exemplary_models", {"actor_id": "m-g49", "unit_id": "u1", "year": today.year})
        assert [m["model_id"] for m in listed["items"]] == ["em-1"]
        assert (await ok(nc, "list_exemplary_models", {"actor_id": "m-g49", "unit_id": "u2"}))["items"] == []


async def test_eligibility_flips_when_report_and_plan_events_arrive_in_either_order(nc, nats_server, make_db_url):
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        today = rt.clock.today()
        last = str(today.year - 1)
        await setup_directory(js, rt, today - timedelta(days=400))
        await open_round(nc, today)

        async def check(kind: str, nominee: str) -> dict[str, Any]:
            return await ok(nc, "check_eligibility", {"actor_id": "p-prov", "round_id": "r-19-5",
                                                      "nominee_kind": kind, "nominee_id": nominee})

        async def becomes(kind: str, nominee: str, reasons: list[str] | None = None,
                          contains: str | None = None) -> dict[str, Any]:
            """Wait until the nominee's reasons are `reasons` (or one contains `contains`)."""
            async def done() -> bool:
                _, r = await call(nc, api("awards", "check_eligibility"), {
                    "actor_id": "p-prov", "round_id": "r-19-5", "nominee_kind": kind, "nominee_id": nominee})
                if "reasons" not in r:
                    return False
                if contains is not None:
                    return any(contains in x for x in r["reasons"])
                return r["reasons"] == reasons and r["eligible"] is (not reasons)
            await wait_until(done, what=f"{nominee}: {reasons if contains is None else contains}")
            return await check(kind, nominee)

        assert (await check("collective", "g00"))["reasons"] == [f"Chưa gửi báo cáo kết quả kỳ {last}"]
        # A nomination made before the facts arrive records them as they were, and follows them after.
        nom = await ok(nc, "submit_nomination", nominate("g00", "collective", "g00"))
        assert nom["eligible"] is False
        # g00: accepted before submitted. g01: submitted, then accepted.
        await report(js, "accepted", "g00", last)
        await becomes("collective", "g00", [])
        await report(js, "submitted", "g00", last)
        await report(js, "submitted", "g01", last)
        await becomes("collective", "g01", [f"Báo cáo kết quả kỳ {last} chưa được cấp trên chấp nhận"])
        lenient = await ok(nc, "get_eligibility", {"unit_id": "g01", "period": last})
        assert lenient == {"unit_id": "g01", "period": last, "eligible": True, "reasons": []}
        await report(js, "accepted", "g01", last)
        await becomes("collective", "g01", [])
        assert (await check("collective", "g00")) == {**(await check("collective", "g01")), "nominee_id": "g00"}
        listed = await ok(nc, "list_nominations", {"actor_id": "p-u0", "round_id": "r-19-5", "unit_id": "u0"})
        assert [(n["nomination_id"], n["eligible"]) for n in listed["items"]] == [(nom["nomination_id"], True)]

        # g02: returned after revision 2 was accepted (a late, older event) changes nothing.
        await report(js, "submitted", "g02", last)
        await report(js, "accepted", "g02", last, revision=2)
        await report(js, "submitted", "g02", last, revision=2)
        await becomes("collective", "g02", [])
        await report(js, "returned", "g02", last)  # revision 1, arriving last
        await report(js, "accepted", "g03", last)  # a marker behind it on the same stream
        await becomes("collective", "g03", [])
        assert (await check("collective", "g02"))["eligible"] is True

        # A person assessed before plans registered them: eligible as soon as they are known.
        await assessed(js, "p-new", "g04", today.year - 1, "excellent", date(today.year - 1, 12, 20))
        await wait_until(lambda: _has_assessment(rt, "p-new"), what="the assessment stored")
        _, reply = await call(nc, api("awards", "check_eligibility"), {
            "actor_id": "p-prov", "round_id": "r-19-5", "nominee_kind": "individual", "nominee_id": "p-new"})
        assert reply["error"]["code"] == "not_found"
        await publish(js, "vn.congdoan.plans.person.registered.v1", {
            "person_id": "p-new", "unit_id": "g04", "full_name": "Lê Văn Mới", "roles": ["member"]})
        await becomes("individual", "p-new", [])
        # A later self-assessment downgrades; the earlier one arriving after it changes nothing.
        await publish(js, "vn.congdoan.plans.individual_plan.assessed.v1", {
            "individual_plan_id": "ip-p-new-b", "person_id": "p-new", "unit_id": "g04", "year": today.year - 1,
            "rating": "not_done", "assessed_on": date(today.year - 1, 12, 28).isoformat()})
        await becomes("individual", "p-new", contains="Không hoàn thành nhiệm vụ")
        await assessed(js, "p-new", "g04", today.year - 1, "excellent", date(today.year - 1, 12, 21))
        await assessed(js, "m-g05", "g05", today.year - 1, "good", today)  # marker
        await becomes("individual", "m-g05", [])
        assert (await check("individual", "p-new"))["eligible"] is False


async def _has_assessment(rt: Any, person_id: str) -> bool:
    return await scalar(rt, "SELECT count(*) FROM plan_assessments WHERE person_id = :p", p=person_id) == 1


async def test_award_history_survives_a_unit_merge(nc, nats_server, make_db_url):
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        today = rt.clock.today()
        last = str(today.year - 1)
        await setup_directory(js, rt, today - timedelta(days=400))
        for unit in ("g30", "g31"):
            await report(js, "accepted", unit, last)
        await open_round(nc, today)

        async def eligible() -> bool:
            r = await ok(nc, "check_eligibility", {"actor_id": "p-prov", "round_id": "r-19-5",
                                                   "nominee_kind": "collective", "nominee_id": "g31"})
            return r["eligible"]
        await wait_until(eligible, what="g31's report")
        noms = [await ok(nc, "submit_nomination", nominate("u3", "collective", g)) for g in ("g30", "g31")]
        for n in noms:
            await ok(nc, "record_council_result", {"actor_id": "p-prov", "nomination_id": n["nomination_id"],
                                                   "result": "approved"})
        await ok(nc, "issue_decision", {"actor_id": "p-prov", "round_id": "r-19-5", "number": "88/QĐ-LĐLĐ",
                                        "decision_date": today.isoformat(), "signer": "Nguyễn Mạnh Hùng",
                                        "nomination_ids": [n["nomination_id"] for n in noms]})
        await ok(nc, "register_exemplary_model", {"actor_id": "p-g31", "unit_id": "g31", "title": "Mô hình “Bữa cơm công đoàn”",
                                                  "story": "Chăm lo bữa ăn ca cho công nhân.", "year": today.year})

        # g31 merges into g30 (plans moves nothing: g31 has no children), effective tomorrow.
        await publish(js, "vn.congdoan.plans.unit.closed.v1", {"unit_id": "g31", "merged_into": "g30",
                                                               "effective_from": (today + timedelta(days=1)).isoformat()})

        async def merged() -> bool:
            return await scalar(rt, "SELECT count(*) FROM dir_units WHERE merged_into = 'g30'") == 1
        await wait_until(merged, what="the merge projected")
        # The merge takes effect tomorrow: today g31 is still itself, eligible, and may still nominate.
        still = await ok(nc, "check_eligibility", {"actor_id": "p-prov", "round_id": "r-19-5",
                                                   "nominee_kind": "collective", "nominee_id": "g31"})
        assert still["eligible"] is True, still

        successor = await ok(nc, "get_award_history", {"actor_id": "p-g30", "unit_id": "g30"})
        assert successor["includes_units"] == ["g30", "g31"]
        assert sorted(a["nominee_id"] for a in successor["awards"]) == ["g30", "g31"]
        assert [m["unit_id"] for m in successor["exemplary_models"]] == ["g31"]
        old = await ok(nc, "get_award_history", {"actor_id": "p-u3", "unit_id": "g31"})
        assert old["successor_id"] == "g30" and [a["nominee_id"] for a in old["awards"]] == ["g31"]
        # The successor's people read the merged unit's history; other units' people do not.
        via_successor = await ok(nc, "get_award_history", {"actor_id": "p-g30", "unit_id": "g31"})
        assert [a["award_id"] for a in via_successor["awards"]] == [a["award_id"] for a in old["awards"]]
        await fails(nc, "get_award_history", {"actor_id": "p-g32", "unit_id": "g31"}, "403")
        # The province's register of exemplary models still finds it under the successor's branch.
        listed = await ok(nc, "list_exemplary_models", {"actor_id": "p-prov", "unit_id": "u3"})
        assert [m["unit_id"] for m in listed["items"]] == ["g31"]


async def test_a_plan_item_opens_the_workers_month_round_once_a_year(nc, nats_server, make_db_url):
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        today = rt.clock.today()
        await publish(js, "vn.congdoan.plans.unit.registered.v1", {
            "unit_id": "prov", "code": "LĐLĐ", "name": "LĐLĐ tỉnh Bình Định", "kind": "provincial_federation",
            "effective_from": "2021-01-01"})
        await publish(js, "vn.congdoan.plans.person.registered.v1", {
            "person_id": "p-prov", "unit_id": "prov", "full_name": "Nguyễn Mạnh Hùng", "roles": ["chairperson"]})
        workers_month = {"kind": "yearly_window", "month": 5, "day": 1, "end_month": 5, "end_day": 31,
                         "text": "Hàng năm trong dịp triển khai các hoạt động của Tháng Công nhân, kỷ niệm Ngày sinh "
                                 "của Chủ tịch Hồ Chí Minh"}
        plan = {"plan_id": "kh-01", "revision": 1, "number": "KH-01/LĐLĐ", "title": "Kế hoạch thực hiện Kết luận 01-KL/TW",
                "issuer_unit_id": "prov", "issued_on": "2021-11-15", "items": [
                    {"item_id": "II.2.c", "section": "II.2", "output": "award_round", "timing": workers_month,
                     "content": "Các cấp công đoàn đẩy mạnh phong trào thi đua yêu nước gắn với việc lựa chọn, tôn "
                                "vinh, khen thưởng các tập thể, cá nhân có thành tích xuất sắc.",
                     "responsible": [{"kind": "units_of_kind",
                                      "unit_kinds": ["upper_level_union", "grassroots_union"]}]},
                    {"item_id": "II.3.a", "section": "II.3", "output": "report", "content": "Báo cáo",
                     "timing": {"kind": "yearly_by_day", "month": 11, "day": 30}, "responsible": []}]}
        await publish(js, "vn.congdoan.plans.plan.issued.v1", plan)
        first = today.year if today <= date(today.year, 5, 31) else today.year + 1

        async def rounds() -> list[dict[str, Any]]:
            _, page = await call(nc, api("awards", "list_rounds"), {"actor_id": "p-prov", "issuer_unit_id": "prov"})
            return page.get("items", [])  # an error while p-prov is not projected yet

        async def n_rounds(n: int) -> bool:
            return len(await rounds()) == n

        await wait_until(lambda: n_rounds(1), what="the round of the plan's award item")
        (r,) = await rounds()
        assert (r["opens_on"], r["closes_on"], r["anchor_on"]) == (f"{first}-05-01", f"{first}-05-31", f"{first}-05-19")
        assert r["name"].startswith(f"Khen thưởng dịp Tháng Công nhân, kỷ niệm Ngày sinh Chủ tịch Hồ Chí Minh năm {first}")
        assert (r["source_plan_id"], r["source_item_id"]) == ("kh-01", "II.2.c")
        detail = await ok(nc, "get_round", {"actor_id": "p-prov", "round_id": r["round_id"]})
        assert detail["report_period"] == str(first - 1) and detail["level"] == "Cấp tỉnh"

        # Re-issued (revision 2, and the same revision again): still one round for the year.
        await publish(js, "vn.congdoan.plans.plan.issued.v1", {**plan, "revision": 2})
        await publish(js, "vn.congdoan.plans.plan.issued.v1", {**plan, "revision": 2})
        await publish(js, "vn.congdoan.plans.plan.issued.v1", plan)  # an old revision, late

        async def handled(n: int) -> bool:
            return await scalar(rt, "SELECT count(*) FROM inbox WHERE event_type = 'vn.congdoan.plans.plan.issued.v1'") == n
        await wait_until(lambda: handled(4), what="the re-issues handled")
        assert len(await rounds()) == 1

        # A year on: the reminder opens next year's round, ahead of May, exactly once.
        await set_shared_time(js, datetime(first + 1, 4, 2, 9, 0))
        await wait_until(lambda: n_rounds(2), timeout=30, what="next year's round")
        years = sorted(x["year"] for x in await rounds())
        assert years == [first, first + 1]

        async def opened_twice() -> bool:
            return await stream_count(js, "vn.congdoan.awards.round.opened.v1") == 2
        await wait_until(opened_twice, what="two round.opened events")
        assert await scalar(rt, "SELECT count(*) FROM outbox WHERE type = 'vn.congdoan.awards.round.opened.v1'") == 2

        # Closing the plan stops the yearly rounds: the next reminder is cancelled.
        await publish(js, "vn.congdoan.plans.plan.closed.v1", {"plan_id": "kh-01", "closed_on": f"{first + 1}-06-01"})

        async def cancelled() -> bool:
            return await scalar(rt, "SELECT count(*) FROM reminders WHERE fired_at IS NULL AND cancelled = false") == 0
        await wait_until(cancelled, what="the next year's reminder cancelled")
        assert await scalar(rt, "SELECT count(*) FROM reminders WHERE cancelled = true") >= 1
        # A re-issue arriving after the closure opens nothing again.
        await publish(js, "vn.congdoan.plans.plan.issued.v1", {**plan, "revision": 3})
        await wait_until(lambda: handled(5), what="the late re-issue handled")
        assert await cancelled() and len(await rounds()) == 2


async def test_quotas_and_one_place_per_nominee_hold_under_concurrent_nominations(nc, nats_server, make_db_url):
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt:
        today = rt.clock.today()
        await setup_directory(js, rt, today - timedelta(days=400))
        await open_round(nc, today, quotas=[{"unit_id": "u4", "quota": 3}])
        # Ten grassroots unions under u4 nominate at once: exactly three get in.
        results = await asyncio.gather(*(call(nc, api("awards", "submit_nomination"),
                                              nominate(grassroots(g), "collective", grassroots(g)))
                                         for g in range(40, 50)))
        codes = sorted(h.get("Nats-Service-Error-Code", "ok") for h, _ in results)
        assert codes == ["409"] * 7 + ["ok"] * 3, codes
        # The same nominee put forward at once by its own union and by the level above: one place.
        await ok(nc, "set_round_quotas", {"actor_id": "p-prov", "round_id": "r-19-5",
                                          "quotas": [{"unit_id": "u4", "quota": 10}]})
        nominee = next(g for g in (grassroots(i) for i in range(40, 50))
                       if not any(r.get("nominee_id") == g for _, r in results))
        again = await asyncio.gather(*(call(nc, api("awards", "submit_nomination"), nominate(by, "collective", nominee))
                                       for by in (nominee, "u4", nominee, "u4")))
        codes = sorted(h.get("Nats-Service-Error-Code", "ok") for h, _ in again)
        assert codes == ["409", "409", "409", "ok"], codes
        # Without a quota on the way (u3 has none) the unique place alone decides.
        free = await asyncio.gather(*(call(nc, api("awards", "submit_nomination"), nominate(by, "collective", "g30"))
                                      for by in ("g30", "u3", "g30", "u3")))
        codes = sorted(h.get("Nats-Service-Error-Code", "ok") for h, _ in free)
        assert codes == ["409", "409", "409", "ok"], codes
        assert all("đã được đề nghị" in r["error"]["message"] for h, r in free if "Nats-Service-Error" in h)
        rnd = await ok(nc, "get_round", {"actor_id": "p-prov", "round_id": "r-19-5"})
        assert rnd["quotas"] == [{"unit_id": "u4", "quota": 10, "used": 4, "awarded": 0}]
        assert sum(rnd["nominations"].values()) == 5  # 3 + 1 under u4, 1 under u3




async def test_an_escalated_nomination_reaches_the_higher_levels_council(nc, nats_server, make_db_url):
    """Issue 13 §9: the province's council proposes a form the national federation grants; the
    nomination goes to the national federation's round, waits at its council, is counted against
    the quota that round gives the province, and the national federation's people are told."""
    js = nc.jetstream()
    async with running("awards", nats_server.url, await make_db_url("awards")) as rt, \
            running("notify", nats_server.url, await make_db_url("notify")) as notify_rt:
        today = rt.clock.today()
        last = str(today.year - 1)
        await setup_directory(js, rt, today - timedelta(days=400), national=True, also=(notify_rt,))
        for unit in ("g00", "g01"):
            await report(js, "accepted", unit, last)
        await assessed(js, "m-g00", "g00", today.year - 1, "excellent", today)

        async def facts_in() -> bool:
            return (await scalar(rt, "SELECT count(*) FROM plan_assessments") == 1
                    and await scalar(rt, "SELECT count(*) FROM report_facts") >= 2)
        await wait_until(facts_in, what="reports and the assessment projected")
        await open_round(nc, today)
        member = await ok(nc, "submit_nomination", nominate("g00", "individual", "m-g00"))
        unit = await ok(nc, "submit_nomination", nominate("g01", "collective", "g01"))
        await ok(nc, "forward_nominations", {"actor_id": "p-u0", "unit_id": "u0",
                                             "nomination_ids": [member["nomination_id"], unit["nomination_id"]]})
        escalate = {"actor_id": "p-prov", "nomination_id": member["nomination_id"], "result": "escalated",
                    "form": "bang_khen_tong_ldld", "note": "Đề nghị Tổng Liên đoàn tặng Bằng khen"}

        # The national federation has no round taking nominations yet: refused, clearly, and nothing changes.
        err = await fails(nc, "record_council_result", escalate, "409")
        assert "Tổng Liên đoàn Lao động Việt Nam chưa có đợt khen thưởng nào đang nhận hồ sơ" in err["message"]
        listed = await ok(nc, "list_nominations", {"actor_id": "p-prov", "round_id": "r-19-5", "unit_id": "prov"})
        assert {n["status"] for n in listed["items"]} == {"under_review"}

        await ok(nc, "open_round", {
            "actor_id": "p-tw", "round_id": "r-tw", "name": "Khen thưởng toàn quốc Tháng Công nhân",
            "issuer_unit_id": "tw", "opens_on": (today - timedelta(days=2)).isoformat(),
            "closes_on": (today + timedelta(days=30)).isoformat(), "report_period": last,
            "quotas": [{"unit_id": "prov", "quota": 1}]})
        esc = await ok(nc, "record_council_result", escalate)
        assert (esc["status"], esc["council_form"]) == ("escalated", "bang_khen_tong_ldld")
        up_id = esc["escalated_to"]
        assert up_id and esc["status_label"].endswith("đã trình Hội đồng cấp trên")
        assert [s["action"] for s in esc["trail"]][-2:] == ["council_escalated", "escalated_up"]
        again = await ok(nc, "record_council_result", escalate)  # the same result again: nothing new
        assert again["escalated_to"] == up_id

        # The national federation's council has it, in its round, waiting at it.
        queue = await ok(nc, "list_nominations", {"actor_id": "p-tw", "round_id": "r-tw", "unit_id": "tw",
                                                  "awaiting_only": True})
        [up] = queue["items"]
        assert (up["nomination_id"], up["status"], up["at_unit_id"], up["by_unit_id"], up["form"]) == (
            up_id, "under_review", "tw", "prov", "bang_khen_tong_ldld")
        assert (up["escalated_from"], up["nominee_id"], up["eligible"]) == (member["nomination_id"], "m-g00", True)
        assert up["achievements"] == member["achievements"]
        # The province's quota in the national round holds: a second escalation is over it.
        err = await fails(nc, "record_council_result", {"actor_id": "p-prov", "nomination_id": unit["nomination_id"],
                                                        "result": "escalated", "form": "co_thi_dua_tong_ldld"}, "409")
        assert "Vượt chỉ tiêu khen thưởng của Liên đoàn Lao động tỉnh Bình Định" in err["message"]
        # The province can neither grant the national form itself nor change its result now.
        err = await fails(nc, "issue_decision", {
            "actor_id": "p-prov", "round_id": "r-19-5", "number": "130/QĐ-LĐLĐ", "decision_date": today.isoformat(),
            "signer": "Nguyễn Mạnh Hùng", "nomination_ids": [member["nomination_id"]]}, "409")
        assert "đã được trình lên Hội đồng cấp trên" in err["message"]
        err = await fails(nc, "record_council_result", {"actor_id": "p-prov", "nomination_id": member["nomination_id"],
                                                        "result": "approved"}, "409")
        assert "kết quả xét của cấp trên là kết quả cuối cùng" in err["message"]
        # Only the national federation's council decides it; its decision grants the award.
        await fails(nc, "record_council_result", {"actor_id": "p-prov", "nomination_id": up_id,
                                                  "result": "approved"}, "403")
        await ok(nc, "record_council_result", {"actor_id": "p-tw", "nomination_id": up_id, "result": "approved"})
        issued = await ok(nc, "issue_decision", {
            "actor_id": "p-tw", "round_id": "r-tw", "number": "1500/QĐ-TLĐ", "decision_date": today.isoformat(),
            "signer": "Nguyễn Đình Khang", "nomination_ids": [up_id]})
        assert [(a["nominee_id"], a["form"]) for a in issued["awards"]] == [("m-g00", "bang_khen_tong_ldld")]
        hist = await ok(nc, "get_award_history", {"actor_id": "m-g00", "person_id": "m-g00"})
        assert [(a["decision_number"], a["round_id"]) for a in hist["awards"]] == [("1500/QĐ-TLĐ", "r-tw")]

        # The events say so: decided names where it went; forwarded from the province to the national council.
        async def relayed() -> bool:
            return await stream_count(js, "vn.congdoan.awards.nomination.forwarded.v1") == 3  # u0's two, the province's one
        await wait_until(relayed, what="nomination.forwarded on the stream")
        fwd = [e["data"] for e in await stream_events(js, "vn.congdoan.awards.nomination.forwarded.v1", 5)]
        [sent_up] = [d for d in fwd if d["nomination_id"] == up_id]
        assert (sent_up["from_unit_id"], sent_up["to_unit_id"], sent_up["to_council"], sent_up["escalated_from"]) == (
            "prov", "tw", True, member["nomination_id"])
        decided = [e["data"] for e in await stream_events(js, "vn.congdoan.awards.nomination.decided.v1", 5)]
        [d] = [d for d in decided if d["nomination_id"] == member["nomination_id"]]
        assert (d["result"], d["to_round_id"], d["to_nomination_id"], d["to_unit_id"]) == (
            "escalated", "r-tw", up_id, "tw")

        # notify tells the national federation's people that a dossier waits at their council.
        async def told() -> bool:
            _, page = await call(nc, api("notify", "list_inbox"), {}, as_="p-tw")
            return any(i["kind"] == "nomination_forwarded" for i in page.get("items", []))
        await wait_until(told, what="the national federation told")
        _, page = await call(nc, api("notify", "list_inbox"), {}, as_="p-tw")
        [notice] = [i for i in page["items"] if i["kind"] == "nomination_forwarded"]
        assert notice["title"] == ("Hồ sơ đề nghị khen thưởng Đoàn viên Trần Thị 0 chờ Hội đồng thi đua, "
                                   "khen thưởng xét")
        assert ("Hội đồng thi đua, khen thưởng của Liên đoàn Lao động tỉnh Bình Định đề nghị cấp trên tặng Bằng khen "
                "của Ban Chấp hành Tổng Liên đoàn Lao động Việt Nam cho cá nhân Đoàn viên Trần Thị 0 trong đợt "
                "“Khen thưởng toàn quốc Tháng Công nhân”.") in notice["body"], notice["body"]
        assert "Hồ sơ đang chờ Hội đồng thi đua, khen thưởng của Tổng Liên đoàn Lao động Việt Nam xét." in notice["body"]
