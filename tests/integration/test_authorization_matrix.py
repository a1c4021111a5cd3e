"""The authorization matrix: every request endpoint of every service, called by every kind of
caller, with the outcome each must get — allowed (any answer but 401/403) or refused (403; 401
for a missing, expired or foreign token). The four services run together on a real nats-server.

    prov (provincial federation) ─┬─ tgnc (Ban Tuyên giáo - Nữ công: receives prov's reports)
                                  ├─ u1  ◀ the unit every request is about ─┬─ g1, g2, …
                                  ├─ u2 (its sibling)                       │
                                  └─ u3 (merged into u2 today)              └─ (t_member's individual plan)

Callers: u1's chairperson, cadre and plain member; prov's chairperson (the parent); u2's
chairperson (a sibling); Ban TG-NC's cadre (the receiving department); u3's chairperson (a unit
merged away); no token; an expired token; a token signed by another key.

The table below is the rule as users meet it; tests/unit/test_access.py states it as a function.
Every endpoint of the catalogue must be in it: a new endpoint cannot ship unchecked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contracts.catalogue import ENDPOINTS
from runtime.auth import TokenIssuer, generate_signing_key
from tests.conftest import PINNED_NOW, wait_until
from tests.support import TEST_SECRETS, api, call, loader_secret, person_token, running

pytestmark = pytest.mark.timeout(600)

T_CHAIR, T_CADRE, T_MEMBER = "t-chair", "t-cadre", "t-member"
P_CHAIR, S_CHAIR, DEPT, M_CHAIR = "p-chair", "s-chair", "dept-cadre", "m-chair"
PEOPLE = [T_CHAIR, T_CADRE, T_MEMBER, P_CHAIR, S_CHAIR, DEPT, M_CHAIR]
NO_TOKEN, EXPIRED, FOREIGN = "no token", "expired token", "foreign key"
CALLERS = [*PEOPLE, NO_TOKEN, EXPIRED, FOREIGN]
EVERYONE = set(PEOPLE)
PUBLIC = set(CALLERS)
TODAY = PINNED_NOW.date().isoformat()
YEAR = PINNED_NOW.year
P_PLAN, U_PLAN = "kh-prov", "kh-u1"
REQ = f"{P_PLAN}:II.3.a:{YEAR}"
ROUND = "round-prov"
PASSWORDS = {"t-login": "Hoa-sen-no-2026"}

UNIT = {T_CHAIR, T_CADRE, T_MEMBER}  # anyone of u1
READ_U1 = UNIT | {P_CHAIR}  # u1, and the staff of the level above
ACT_U1 = {T_CHAIR, T_CADRE}
ADMIN_U1 = {T_CHAIR, P_CHAIR}
SUBTREE = EVERYONE - {M_CHAIR}  # everyone under prov whose unit still exists
RECEIVING = {P_CHAIR, DEPT}


def _doc(issuer: str, items: list[dict[str, Any]], number: str) -> dict[str, Any]:
    return {"number": number, "title": "Kế hoạch thực hiện Kết luận số 01-KL/TW", "issuer_unit_id": issuer,
            "sections": [{"code": "II", "title": "NHIỆM VỤ", "items": items}]}


PROV_ITEMS = [
    {"item_id": "II.1.b", "content": "Các cấp công đoàn xây dựng kế hoạch thực hiện.", "output": "plan",
     "timing_text": "hoàn thành vào tháng 12 hằng năm", "timing": {"kind": "yearly_by_month_end", "month": 12},
     "responsible": [{"kind": "units_of_kind", "unit_kinds": ["upper_level_union"], "under": "issuer"}]},
    {"item_id": "II.3.a", "output": "report", "timing_text": "Trước ngày 30/11 hàng năm",
     "content": "Các cấp công đoàn gửi báo cáo kết quả thực hiện về LĐLĐ tỉnh (qua Ban Tuyên giáo - Nữ công).",
     "timing": {"kind": "yearly_by_day", "month": 11, "day": 30},
     "responsible": [{"kind": "units_of_kind", "unit_kinds": ["upper_level_union"], "under": "issuer"}],
     "reports_to": [{"kind": "department", "code": "BAN_TGNC"}]},
]
U1_ITEMS = [{"item_id": "1.a", "content": "Sinh hoạt chuyên đề hằng quý.", "output": "activity",
             "timing_text": "thực hiện thường xuyên", "timing": {"kind": "ongoing"},
             "responsible": [{"kind": "units_of_kind", "unit_kinds": ["grassroots_union"], "under": "issuer"}]}]

REPORT = {"study_sessions": 2, "participants": 30, "cadres_total": 5, "cadres_with_plans": 4, "members_total": 10,
          "members_with_plans": 8, "exemplary_models": 1, "commended_collectives": 0, "commended_individuals": 1,
          "news_posts": 3, "results": "Tổ chức học tập chuyên đề.", "limitations": "Chưa đều.",
          "next_year_tasks": "Tiếp tục."}


class World:
    """What the setup made, and fresh credentials for the public endpoints."""

    def __init__(self, nc: Any) -> None:
        self.nc = nc
        self.occurrence = ""
        self.report_id = ""
        self.nomination = ""
        self.withdrawable = ""
        self.password = PASSWORDS["t-login"]
        self.other_password = "Sen-trang-2026!"

    async def fresh_refresh(self) -> dict[str, str]:
        _, reply = await call(self.nc, api("plans", "login"), {"username": "t-login", "password": self.password},
                              token="")
        return {"refresh_token": reply["refresh_token"]}

    def change(self) -> dict[str, Any]:
        body = {"username": "t-login", "current_password": self.password, "new_password": self.other_password}
        self.password, self.other_password = self.other_password, self.password
        return body


Body = Callable[[World], Any]


def const(body: dict[str, Any]) -> Body:
    return lambda w: body


# endpoint → (request body, who is allowed)
MATRIX: dict[str, tuple[Body, set[str]]] = {
    # --- plans: the directory --------------------------------------------------------------------
    "plans.register_unit": (const({"unit_id": "g-new", "code": "G-NEW", "name": "Công đoàn cơ sở Mới",
                                   "kind": "grassroots_union", "parent_id": "u1", "effective_from": TODAY}), ADMIN_U1),
    "plans.register_person": (const({"person_id": "new-person", "unit_id": "u1", "full_name": "Lê Văn Mới",
                                     "roles": ["member"]}), ADMIN_U1),
    "plans.update_person": (const({"person_id": T_MEMBER, "phone": "+84 905 000 111"}), ADMIN_U1),
    "plans.move_unit": (const({"unit_id": "g-move", "to_parent_id": "u1"}), ADMIN_U1),
    "plans.merge_units": (const({"survivor_id": "g-m1", "absorbed_ids": ["g-m2"], "effective_from": TODAY}), ADMIN_U1),
    "plans.close_unit": (const({"unit_id": "g-close", "effective_from": TODAY}), ADMIN_U1),
    "plans.get_unit": (const({"unit_id": "u1"}), READ_U1),
    "plans.list_units": (const({"root_id": "u1"}), READ_U1),
    "plans.list_people": (const({"unit_id": "u1"}), READ_U1),
    "plans.import_units": (const({"import_id": "imp-u1", "csv": "code,name,kind,parent_code\n"
                                  "G-IMP,Công đoàn cơ sở Nhập,grassroots_union,U1\n", "effective_from": TODAY}),
                           ADMIN_U1),
    # --- plans: plans and tasks ------------------------------------------------------------------
    "plans.create_plan": (const({"plan_id": "kh-u1-draft", "document": _doc("u1", U1_ITEMS, "02-KH/LĐLĐ-U1")}),
                          ACT_U1),
    "plans.update_plan": (const({"plan_id": "kh-u1-draft", "document": _doc("u1", U1_ITEMS, "03-KH/LĐLĐ-U1")}),
                          ACT_U1),
    "plans.issue_plan": (const({"plan_id": "kh-u1-draft"}), {T_CHAIR}),
    "plans.revise_plan": (const({"plan_id": U_PLAN, "document": _doc("u1", U1_ITEMS, "01-KH/LĐLĐ-U1"),
                                 "note": "Điều chỉnh"}), {T_CHAIR}),
    "plans.close_plan": (const({"plan_id": U_PLAN, "closed_on": f"{YEAR}-12-31"}), {T_CHAIR}),
    "plans.get_plan": (const({"plan_id": P_PLAN}), SUBTREE),
    "plans.list_plans": (const({}), EVERYONE),
    "plans.list_tasks": (const({"unit_id": "u1"}), READ_U1),
    "plans.update_task": (lambda w: {"occurrence_id": w.occurrence, "status": "in_progress"}, ACT_U1),
    "plans.register_implementation_plan": (const({"unit_id": "u1", "parent_plan_id": P_PLAN,
                                                  "number": "05-KH/LĐLĐ-U1"}), ACT_U1),
    "plans.get_rollup": (const({"root_unit_id": "u1", "plan_id": P_PLAN}), READ_U1),
    "plans.submit_individual_plan": (const({"person_id": T_MEMBER, "year": YEAR, "commitments": ["Học tập"]}),
                                     {T_MEMBER, T_CHAIR, P_CHAIR}),
    "plans.assess_individual_plan": (const({"person_id": T_MEMBER, "year": YEAR, "results": "Hoàn thành",
                                            "rating": "good"}), {T_MEMBER, T_CHAIR, P_CHAIR}),
    "plans.get_individual_plan": (const({"person_id": T_MEMBER, "year": YEAR}), {T_MEMBER, T_CHAIR, P_CHAIR}),
    "plans.get_individual_plan_coverage": (const({"unit_id": "u1", "year": YEAR}), READ_U1),
    "plans.export_individual_plans": (const({"unit_id": "u1", "year": YEAR}), {T_CHAIR, P_CHAIR}),
    # --- plans: logins -----------------------------------------------------------------------------
    "plans.login": (lambda w: {"username": "t-login", "password": w.password}, PUBLIC),
    "plans.refresh_token": (lambda w: w.fresh_refresh(), PUBLIC),
    "plans.logout": (lambda w: w.fresh_refresh(), PUBLIC),
    "plans.change_password": (lambda w: w.change(), PUBLIC),
    "plans.set_login": (const({"person_id": "t-reset", "username": "t-reset", "password": "Mai-vang-2026!",
                               "must_change_password": False}), ADMIN_U1),
    "plans.reset_password": (const({"person_id": "t-reset"}), ADMIN_U1),
    "plans.get_login": (const({"person_id": "t-login"}), ADMIN_U1),
    "plans.service_token": (const({"client_id": "loader", "client_secret": loader_secret()}), PUBLIC),
    "plans.whoami": (const({}), EVERYONE),
    # --- reports -----------------------------------------------------------------------------------
    "reports.submit_report": (lambda w: {"report_id": w.report_id, "requirement_id": REQ, "period": str(YEAR),
                                         "unit_id": "u1", "values": REPORT}, ACT_U1),
    "reports.save_draft": (const({"requirement_id": REQ, "period": str(YEAR), "unit_id": "u1",
                                  "values": {"study_sessions": 1}}), ACT_U1),
    "reports.accept_report": (lambda w: {"report_id": w.report_id}, RECEIVING),
    "reports.return_report": (lambda w: {"report_id": w.report_id, "comment": "Bổ sung số liệu."}, RECEIVING),
    "reports.reopen_report": (lambda w: {"report_id": w.report_id, "comment": "Mở lại để bổ sung."}, RECEIVING),
    "reports.get_report": (lambda w: {"report_id": w.report_id}, READ_U1 | {DEPT}),
    "reports.list_reports": (const({"requirement_id": REQ, "receiving_unit_id": "prov"}), RECEIVING),
    "reports.open_requirement": (const({"requirement_id": "rq-u1", "name": "Báo cáo quý IV của LĐLĐ thành phố",
                                        "issuer_unit_id": "u1", "reporting_kinds": ["grassroots_union"],
                                        "period": f"{YEAR}-Q4", "due_date": f"{YEAR}-12-31"}), {T_CHAIR}),
    "reports.get_requirement": (const({"requirement_id": REQ}), SUBTREE),
    "reports.list_requirements": (const({"issuer_unit_id": "prov"}), EVERYONE),
    "reports.register_form": (const({"definition": {
        "form_id": "bc-ma-tran", "version": 1, "title": "Báo cáo thử", "fields": [
            {"key": "so_buoi", "kind": "number", "label": "Số buổi", "compulsory": True, "integer": True,
             "min": 0}]}}), {P_CHAIR}),
    "reports.get_form": (const({"form_id": "bc-01-kl-tw"}), EVERYONE),
    "reports.get_completeness": (const({"requirement_id": REQ, "unit_id": "u1"}), READ_U1 | {DEPT}),
    "reports.consolidate": (const({"requirement_id": REQ, "unit_id": "u1", "counting": "received"}), ACT_U1),
    "reports.get_export": (lambda w: {"export_id": w.export_id, "limit": 1024}, READ_U1 | {DEPT}),
    # --- notify: a person's own inbox, whoever they are --------------------------------------------
    "notify.list_inbox": (const({}), EVERYONE),
    "notify.unread_count": (const({}), EVERYONE),
    "notify.mark_read": (const({"all": True}), EVERYONE),
    "notify.get_preferences": (const({}), EVERYONE),
    "notify.set_preferences": (const({"email": "digest"}), EVERYONE),
    "notify.delivery_log": (const({"person_id": T_MEMBER}), {T_MEMBER, T_CHAIR, P_CHAIR}),
    # --- awards ------------------------------------------------------------------------------------
    "awards.get_eligibility": (const({"unit_id": "u1", "period": str(YEAR)}), READ_U1),
    "awards.check_eligibility": (const({"round_id": ROUND, "nominee_kind": "collective", "nominee_id": "u1"}),
                                 READ_U1),
    "awards.list_award_forms": (const({}), EVERYONE),
    "awards.open_round": (const({"round_id": "round-u1", "name": "Khen thưởng của LĐLĐ thành phố",
                                 "issuer_unit_id": "u1", "opens_on": TODAY, "closes_on": f"{YEAR}-12-31",
                                 "report_period": str(YEAR - 1)}), {T_CHAIR}),
    "awards.set_round_quotas": (const({"round_id": ROUND, "quotas": [{"unit_id": "u1", "quota": 5}]}), {P_CHAIR}),
    "awards.get_round": (const({"round_id": ROUND}), SUBTREE),
    "awards.list_rounds": (const({}), EVERYONE),
    "awards.submit_nomination": (const({"nomination_id": "nom-matrix", "round_id": ROUND, "by_unit_id": "u1",
                                        "nominee_kind": "individual", "nominee_id": T_CADRE,
                                        "form": "bang_khen_ldld_tinh", "category": "Cá nhân xuất sắc",
                                        "achievements": "Thành tích xuất sắc trong học tập và làm theo Bác."}),
                                 ACT_U1),
    "awards.withdraw_nomination": (lambda w: {"nomination_id": w.withdrawable, "reason": "Rút hồ sơ"}, ACT_U1),
    "awards.forward_nominations": (lambda w: {"unit_id": "u1", "nomination_ids": [w.nomination]}, ACT_U1),
    "awards.list_nominations": (const({"round_id": ROUND, "unit_id": "u1"}), READ_U1),
    "awards.record_council_result": (lambda w: {"nomination_id": w.nomination, "result": "rejected",
                                                "note": "Chưa đủ thành tích"}, {P_CHAIR}),
    "awards.issue_decision": (const({"decision_id": "dec-matrix", "round_id": ROUND, "number": "45/QĐ-LĐLĐ",
                                     "decision_date": TODAY, "signer": "Nguyễn Mạnh Hùng",
                                     "nomination_ids": ["nom-matrix"]}),
                              {P_CHAIR}),
    "awards.register_exemplary_model": (const({"model_id": "em-u1", "unit_id": "u1", "title": "Bữa cơm công đoàn",
                                               "story": "Mỗi quý một bữa cơm chung.", "year": YEAR}), ACT_U1),
    "awards.list_exemplary_models": (const({}), EVERYONE),
    "awards.get_award_history": (const({"unit_id": "u1"}), READ_U1),
}


def _other_key_token(tmp: Path, person_id: str) -> str:
    """Signed by a key of our own making, claiming the id of the stack's key."""
    generate_signing_key(tmp / "other.pem", tmp / "other.json")
    other = TokenIssuer(tmp / "other.pem")
    other.kid = (TEST_SECRETS / "jwt" / "signing-key.pem.kid").read_text().strip()
    return other.issue("person", person_id)[0]


async def _setup(nc: Any, rts: dict[str, Any], w: World) -> None:
    async def ok(service: str, endpoint: str, body: dict[str, Any], as_: str | None = None) -> Any:
        h, reply = await call(nc, api(service, endpoint), body, as_=as_, timeout=30)
        assert "Nats-Service-Error" not in h, (endpoint, reply)
        return reply

    await ok("plans", "register_unit", {"unit_id": "prov", "code": "LDLD", "name": "Liên đoàn Lao động tỉnh Bình Định",
                                        "kind": "provincial_federation", "effective_from": "2020-01-01"})
    units = [("tgnc", "BAN_TGNC", "Ban Tuyên giáo - Nữ công", "department", "prov"),
             ("u1", "U1", "Liên đoàn Lao động thành phố Quy Nhơn", "upper_level_union", "prov"),
             ("u2", "U2", "Liên đoàn Lao động thị xã An Nhơn", "upper_level_union", "prov"),
             ("u3", "U3", "Liên đoàn Lao động huyện Tuy Phước", "upper_level_union", "prov")]
    units += [(g, g.upper(), f"Công đoàn cơ sở {g}", "grassroots_union", "u1")
              for g in ("g1", "g2", "g-move", "g-m1", "g-m2", "g-close")]
    for uid, code, name, kind, parent in units:
        await ok("plans", "register_unit", {"unit_id": uid, "code": code, "name": name, "kind": kind,
                                            "parent_id": parent, "effective_from": "2020-01-01"})
    people = [(T_CHAIR, "u1", ["chairperson"]), (T_CADRE, "u1", ["cadre"]), (T_MEMBER, "u1", ["member"]),
              (P_CHAIR, "prov", ["chairperson", "executive_member"]), (S_CHAIR, "u2", ["chairperson"]),
              (DEPT, "tgnc", ["cadre"]), (M_CHAIR, "u3", ["chairperson"]), ("t-login", "u1", ["member"]),
              ("t-reset", "u1", ["member"])]
    for pid, unit, roles in people:
        await ok("plans", "register_person", {"person_id": pid, "unit_id": unit, "full_name": f"Nguyễn Văn {pid}",
                                              "roles": roles, "email": f"{pid}@example.org"})
    await ok("plans", "set_login", {"person_id": "t-login", "username": "t-login", "password": w.password,
                                    "must_change_password": False})
    await ok("plans", "set_login", {"person_id": "t-reset", "username": "t-reset", "password": "Mai-vang-2026!",
                                    "must_change_password": False})
    await ok("plans", "merge_units", {"survivor_id": "u2", "absorbed_ids": ["u3"], "effective_from": TODAY})
    # prov's plan: a yearly plan task and the 30/11 report for every upper-level union
    await ok("plans", "create_plan", {"plan_id": P_PLAN, "document": _doc("prov", PROV_ITEMS, "01-KH/LĐLĐ")})
    await ok("plans", "issue_plan", {"plan_id": P_PLAN, "issued_on": "2026-01-05"})
    await ok("plans", "create_plan", {"plan_id": U_PLAN, "document": _doc("u1", U1_ITEMS, "01-KH/LĐLĐ-U1")}, T_CHAIR)
    await ok("plans", "issue_plan", {"plan_id": U_PLAN}, T_CHAIR)
    tasks = await ok("plans", "list_tasks", {"unit_id": "u1", "plan_id": P_PLAN}, T_CHAIR)
    w.occurrence = next(t["occurrence_id"] for t in tasks["items"] if t["item_id"] == "II.1.b")

    # reports and awards learn the directory and the plan from plans' events
    async def projected() -> bool:
        h, _ = await call(nc, api("reports", "get_requirement"), {"requirement_id": REQ}, as_=T_CHAIR)
        h2, _ = await call(nc, api("awards", "get_eligibility"), {"unit_id": "u1", "period": "2025"}, as_=T_CHAIR)
        h3, _ = await call(nc, api("notify", "unread_count"), {}, as_=M_CHAIR)
        return not any("Nats-Service-Error" in x for x in (h, h2, h3))

    await wait_until(projected, timeout=60, what="reports, awards and notify to project the directory and plan")
    w.report_id = (await ok("reports", "submit_report", {"requirement_id": REQ, "period": str(YEAR), "unit_id": "u1",
                                                         "values": REPORT}, T_CADRE))["report_id"]
    w.export_id = (await ok("reports", "consolidate", {"requirement_id": REQ, "unit_id": "u1", "counting": "received"},
                            T_CHAIR))["exports"][0]["export_id"]
    await ok("awards", "open_round", {"round_id": ROUND, "name": "Khen thưởng Tháng Công nhân", "issuer_unit_id": "prov",
                                      "opens_on": "2026-10-01", "closes_on": f"{YEAR}-12-31",
                                      "report_period": str(YEAR - 1), "collective_categories": ["Tập thể xuất sắc"],
                                      "individual_categories": ["Cá nhân xuất sắc"]}, P_CHAIR)
    for nominee, attr in (("g1", "nomination"), ("g2", "withdrawable")):
        nom = await ok("awards", "submit_nomination", {
            "round_id": ROUND, "by_unit_id": "u1", "nominee_kind": "collective", "nominee_id": nominee,
            "form": "bang_khen_ldld_tinh", "category": "Tập thể xuất sắc",
            "achievements": "Thành tích xuất sắc trong học tập và làm theo Bác."}, T_CHAIR)
        setattr(w, attr, nom["nomination_id"])


async def test_every_endpoint_against_every_caller(nc, nats_server, make_db_url, tmp_path, db_backend):
    if db_backend != "sqlite":
        pytest.skip("the rule does not depend on the database: the matrix runs once, on SQLite")
    assert {f"{e.service}.{e.name}" for e in ENDPOINTS} == set(MATRIX), "every endpoint has its row"
    tokens = {NO_TOKEN: "", EXPIRED: person_token(T_CHAIR, now=time.time() - 7200),
              FOREIGN: _other_key_token(tmp_path, T_CHAIR)}
    url = nats_server.url
    async with running("plans", url, await make_db_url("plans")) as plans, \
            running("reports", url, await make_db_url("reports"), data_dir=tmp_path) as reports, \
            running("notify", url, await make_db_url("notify"), data_dir=tmp_path) as notify, \
            running("awards", url, await make_db_url("awards")) as awards:
        w = World(nc)
        await _setup(nc, {"plans": plans, "reports": reports, "notify": notify, "awards": awards}, w)
        public = {f"{e.service}.{e.name}" for e in ENDPOINTS if e.public}
        wrong: list[str] = []
        counts = {"allowed": 0, "refused": 0}
        for spec in ENDPOINTS:
            key = f"{spec.service}.{spec.name}"
            make, allowed = MATRIX[key]
            for caller in CALLERS:
                body = make(w)
                if hasattr(body, "__await__"):
                    body = await body
                if caller in tokens:
                    h, reply = await call(nc, spec.subject, body, token=tokens[caller], timeout=30)
                else:
                    h, reply = await call(nc, spec.subject, body, as_=caller, timeout=30)
                status = h.get("Nats-Service-Error-Code", "200")
                expect_allowed = caller in allowed or key in public
                if expect_allowed:
                    counts["allowed"] += 1
                    # allowed: not refused, and a well-formed request (the row is a real request)
                    if status in ("401", "403", "400", "422", "500"):
                        wrong.append(f"{key} by {caller}: expected allowed, got {status} {reply}")
                else:
                    counts["refused"] += 1
                    expected = "401" if caller in tokens else "403"
                    if status != expected:
                        wrong.append(f"{key} by {caller}: expected {expected}, got {status} {str(reply)[:200]}")
                    elif reply["error"]["code"] not in ("forbidden", "unauthenticated"):
                        wrong.append(f"{key} by {caller}: error code {reply['error']['code']}")
        assert not wrong, f"{len(wrong)} wrong outcomes:\n" + "\n".join(wrong)
        assert counts["allowed"] + counts["refused"] == len(ENDPOINTS) * len(CALLERS)
        # Refusals have no effect: the sibling, the merged-away chair and the department wrote nothing.
        _, inbox = await call(nc, api("notify", "list_inbox"), {}, as_=T_MEMBER)
        assert all(i["kind"] for i in inbox["items"])
        print(f"authorization matrix: {len(ENDPOINTS)} endpoints × {len(CALLERS)} callers = "
              f"{counts['allowed']} allowed, {counts['refused']} refused")

