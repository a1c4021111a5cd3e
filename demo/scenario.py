"""The year, end to end: the seed plan run through all four services.

Starts the embedded stack (its own nats-server and data folder, free ports), loads a realistic
hierarchy and the seed plan, and moves the shared clock through a year — from the plan's issue
(01/11/2021) to the consolidation of the 2022 reports. Every step is a NATS request a front-end or
another system could send; nothing reaches into a service's database. At the end it prints a
summary a union officer understands, with Vietnamese labels, and exits 0.

    python -m demo [--grassroots 200] [--data-dir DIR]
    NATS_URL=nats://host:4222 python -m demo   # on an existing, empty nats-server

With NATS_URL the demo uses that server instead of starting its own, as the NATS users of
`CONGDOAN_NATS_SECRETS` (default var/secrets/nats, the ones `python -m runtime.natsctl config`
writes into the server's configuration); it refuses a server that already holds congdoan's
events, and sets the server's shared clock back to real time when it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import nats

from runtime.auth import client_credentials, ensure_demo_password
from runtime.client import ApiClient, RequestFailed
from runtime.clock import TZ, set_shared_offset, set_shared_time
from runtime.launcher import Stack, free_port

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("plans", "reports", "notify", "awards")
PROVINCE = "ldld-bd"
PROVINCE_CHAIR = "p-ldld-bd-chu-tich"


class DemoError(RuntimeError):
    def __init__(self, text: str, message: str = "") -> None:
        super().__init__(text)
        self.message = message or text  # what the service said, in Vietnamese


def dmy(iso: str | None) -> str:
    """'2021-11-30' → '30/11/2021' (the demo speaks to people)."""
    if not iso:
        return ""
    y, m, d = iso[:10].split("-")
    return f"{d}/{m}/{y}"


@dataclass
class Outcome:
    """What the scenario did, to compare with what the services say."""

    units: int = 0
    grassroots: int = 0
    upper: int = 0
    people: int = 0
    reports: dict[str, Counter] = field(default_factory=dict)
    impl_plans_on_time: int = 0
    impl_plans_late: int = 0
    individual_plans: int = 0
    nominations: int = 0
    awards: int = 0
    refused: list[str] = field(default_factory=list)
    merged: tuple[str, str] | None = None
    exports: dict[str, dict[str, str]] = field(default_factory=dict)
    downloads: dict[str, list[tuple[str, int, Path]]] = field(default_factory=dict)
    round_name: str = ""
    award_rounds: Counter = field(default_factory=Counter)  # round name → awards granted in it
    rollups: dict[int, dict[str, int]] = field(default_factory=dict)
    report_tasks: dict[str, Counter] = field(default_factory=dict)  # year → category → reporters' II.3.a tasks
    summary: dict[str, Any] = field(default_factory=dict)


class Client:
    """The demo's requests, each as the person who would make it, logged in for real: a body's
    `actor_id` (a convention of this scenario, never sent) names the person; they get a login from
    the loader (the embedded stack's directory_admin identity) the first time, then log in with the
    demo password. Requests without one go as the loader itself."""

    def __init__(self, nc: Any, ops: Any, loader: ApiClient, password: str, verbose: bool = True) -> None:
        self.nc = nc  # the NATS `client` user: requests only
        self.js = ops.jetstream()  # the NATS `operator` user: moves the clock, watches the consumers
        self.loader = loader
        self.password = password
        self.verbose = verbose
        self.sessions: dict[str, ApiClient] = {}
        self.logins = 0
        self.downloads = Path(tempfile.gettempdir())  # set by run(): where the downloaded files go

    def say(self, text: str) -> None:
        if self.verbose:
            print(text, flush=True)

    async def person(self, person_id: str) -> ApiClient:
        session = self.sessions.get(person_id)
        if session is None:
            try:
                session = await ApiClient.login(self.nc, person_id, self.password)
            except RequestFailed as exc:
                if exc.code != "unauthenticated":
                    raise
                await self.loader.request("plans", "set_login", {
                    "person_id": person_id, "username": person_id, "password": self.password,
                    "must_change_password": False})
                session = await ApiClient.login(self.nc, person_id, self.password)
            self.logins += 1
            self.sessions[person_id] = session
        return session

    async def req(self, service: str, endpoint: str, body: dict[str, Any], timeout: float = 60) -> Any:
        body = dict(body)
        actor = body.pop("actor_id", None)
        caller = await self.person(actor) if actor else self.loader
        try:
            return await caller.request(service, endpoint, body, timeout=timeout)
        except RequestFailed as exc:
            raise DemoError(f"{service}.{endpoint}: {exc.error} — {body!r:.200}",
                            str((exc.error or {}).get("message") or exc)) from None

    async def try_req(self, service: str, endpoint: str, body: dict[str, Any]) -> tuple[bool, Any]:
        """(True, reply) or (False, the service's message in Vietnamese)."""
        try:
            return True, await self.req(service, endpoint, body)
        except DemoError as exc:
            return False, exc.message

    async def idle(self, timeout: float = 120) -> None:
        """Wait until every durable consumer of every stream has handled everything."""
        deadline = time.monotonic() + timeout
        calm = 0
        while time.monotonic() < deadline:
            busy = False
            for info in await self.js.streams_info():
                name = info.config.name
                if not name.startswith("CONGDOAN_") or name == "CONGDOAN_DLQ":
                    continue
                for c in await self.js.consumers_info(name):
                    if c.config.durable_name and (c.num_pending or c.num_ack_pending):
                        busy = True
            calm = 0 if busy else calm + 1
            if calm >= 3:
                return
            await asyncio.sleep(0.3)
        raise DemoError("the services did not settle in time")

    async def at(self, when: datetime, settle: float = 1.6) -> None:
        """Move the shared clock; services see it within half a second, schedulers fire, then settle."""
        await set_shared_time(self.js, when.replace(tzinfo=TZ) if when.tzinfo is None else when)
        self.say(f"\n— {when:%d/%m/%Y %H:%M} —")
        await asyncio.sleep(settle)
        await self.idle()


def report_values(i: int, members: int = 120) -> dict[str, Any]:
    cadres = 5 + i % 7
    return {
        "study_sessions": 2 + i % 4, "participants": members - i % 13, "cadres_total": cadres,
        "cadres_with_plans": cadres - (i % 3 == 0), "members_total": members,
        "members_with_plans": members - 10 - i % 17, "exemplary_models": i % 3, "commended_collectives": i % 2,
        "commended_individuals": 1 + i % 4, "news_posts": 3 + i % 9,
        "results": "Tổ chức học tập chuyên đề năm cho toàn thể đoàn viên; 100% cán bộ chủ chốt xây dựng kế hoạch cá nhân.",
        "limitations": "Một số đoàn viên làm việc theo ca chưa tham gia đầy đủ các buổi học tập.",
        "next_year_tasks": "Tiếp tục đưa việc học tập và làm theo Bác vào sinh hoạt công đoàn hằng tháng.",
    }


def cli(args: list[str], env: dict[str, str]) -> None:
    """The plans CLI, as an operator runs it; its JSON is for programs, the demo says what happened."""
    done = subprocess.run([sys.executable, "-m", "services.plans.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise DemoError(f"services.plans.cli {' '.join(args)} thất bại:\n{done.stderr[-2000:]}")


async def run_year(c: Client, stack: Stack, grassroots: int, out: Outcome, data_dir: Path) -> None:
    env = {**os.environ, "NATS_URL": stack.nats_url or "", "CONGDOAN_DATA_DIR": str(data_dir),
           "CONGDOAN_NATS_CREDS": str(stack.nats_users.seed_path("client"))}  # the server's users, even an existing one's
    env.pop("CONGDOAN_CLIENT_ID", None)
    env.pop("CONGDOAN_CLIENT_SECRET_FILE", None)

    # 25/10/2021: the directory.
    await c.at(datetime(2021, 10, 25, 8, 0))
    cli(["load-demo", "--grassroots", str(grassroots), "--no-seed"], env)
    await c.idle()
    units = (await c.req("plans", "list_units", {"root_id": PROVINCE, "actor_id": PROVINCE_CHAIR,
                                                 "page": {"limit": 500}}))["items"]
    while len(units) < grassroots:  # paging
        break
    upper = [u for u in units if u["kind"] == "upper_level_union"]
    grass = [u for u in units if u["kind"] == "grassroots_union"]
    out.units, out.upper, out.grassroots = len(units), len(upper), len(grass)
    c.say(f"Hệ thống tổ chức: {len(units)} đơn vị ({len(upper)} công đoàn cấp trên cơ sở, {len(grass)} CĐCS)")

    # 01/11/2021: the seed plan issued — cascade, requirements, notifications.
    await c.at(datetime(2021, 11, 1, 8, 0))
    cli(["load-seed", "--issued-on", "2021-11-01"], env)
    await c.idle()
    plans = await c.req("plans", "list_plans", {"actor_id": PROVINCE_CHAIR})
    plan_id = plans["items"][0]["plan_id"]
    c.say(f"Kế hoạch {plans['items'][0].get('number', plan_id)} đã ban hành, giao nhiệm vụ cho các cấp công đoàn")

    reporters = upper + grass
    for year in (2021,):
        await report_round(c, year, reporters, out, returned=True)

    # Implementation plans (by December 2021; some late).
    await c.at(datetime(2021, 12, 15, 9, 0))
    for i, u in enumerate(reporters):
        if i % 10 < 8:
            await c.req("plans", "register_implementation_plan", {
                "unit_id": u["unit_id"], "parent_plan_id": plan_id, "number": f"{i + 1:02d}/KH-CĐ", "year": 2021,
                "actor_id": f"p-{u['unit_id']}-1"})
            out.impl_plans_on_time += 1
    c.say(f"{out.impl_plans_on_time} đơn vị đăng ký kế hoạch thực hiện")
    # Individual plans of the federation's leaders, assessed at year end.
    leaders = (await c.req("plans", "list_people", {"unit_id": PROVINCE, "roles": ["executive_member", "head_of_unit"],
                                                     "actor_id": PROVINCE_CHAIR}))["items"]
    for p in leaders:
        await c.req("plans", "submit_individual_plan", {
            "person_id": p["person_id"], "year": 2021, "actor_id": p["person_id"], "parent_plan_id": plan_id,
            "commitments": ["Học tập chuyên đề năm 2021 và viết bài thu hoạch",
                            "Nêu gương trong hội họp, đi cơ sở, sử dụng xe và tài sản công"]})
        out.individual_plans += 1
    c.say(f"{out.individual_plans} lãnh đạo LĐLĐ tỉnh lập kế hoạch cá nhân năm 2021")
    await c.at(datetime(2021, 12, 28, 9, 0))
    for i, p in enumerate(leaders):
        await c.req("plans", "assess_individual_plan", {
            "person_id": p["person_id"], "year": 2021, "actor_id": p["person_id"],
            "results": "Hoàn thành các nội dung đăng ký", "rating": "excellent" if i % 3 == 0 else "good",
            "supplement": ["Dự sinh hoạt chuyên đề tại công đoàn cơ sở mỗi quý"]})
    c.say(f"{len(leaders)} lãnh đạo tự đánh giá kết quả kế hoạch cá nhân")
    await c.at(datetime(2022, 1, 10, 9, 0))  # the December deadline has passed: reminders, missed
    for i, u in enumerate(reporters):
        if i % 10 == 8:
            await c.req("plans", "register_implementation_plan", {
                "unit_id": u["unit_id"], "parent_plan_id": plan_id, "number": f"{i + 1:02d}/KH-CĐ", "year": 2021,
                "actor_id": f"p-{u['unit_id']}-1"})
            out.impl_plans_late += 1
    await c.idle()
    c.say(f"Quá hạn tháng 12/2021: {out.impl_plans_late} đơn vị đăng ký kế hoạch thực hiện trễ hạn")

    # May 2022: Workers' Month award round.
    await c.at(datetime(2022, 5, 2, 8, 0))
    await award_round(c, plan_id, upper, grass, leaders, out)

    # 01/07/2022: two upper-level unions merge.
    await c.at(datetime(2022, 7, 1, 8, 0))
    survivor, absorbed = upper[0]["unit_id"], upper[1]["unit_id"]
    await c.req("plans", "merge_units", {"survivor_id": survivor, "absorbed_ids": [absorbed],
                                         "effective_from": "2022-07-01", "actor_id": PROVINCE_CHAIR})
    out.merged = (upper[1]["name"], upper[0]["name"])
    c.say(f"Sáp nhập {upper[1]['name']} vào {upper[0]['name']} từ ngày 01/07/2022")
    await c.idle()
    units = (await c.req("plans", "list_units", {"root_id": PROVINCE, "actor_id": PROVINCE_CHAIR, "as_of": "2022-11-30",
                                                 "page": {"limit": 500}}))["items"]
    reporters = [u for u in units if u["kind"] in ("upper_level_union", "grassroots_union")]
    await report_round(c, 2022, reporters, out, returned=False)


async def requirement_for(c: Client, year: int) -> dict[str, Any]:
    reqs = (await c.req("reports", "list_requirements", {"issuer_unit_id": PROVINCE, "period": str(year),
                                                         "actor_id": PROVINCE_CHAIR}))["items"]
    if not reqs:
        raise DemoError(f"no reporting requirement opened for {year}")
    return reqs[0]


async def report_round(c: Client, year: int, reporters: list[dict[str, Any]], out: Outcome, returned: bool) -> None:
    req = await requirement_for(c, year)
    rid = req["requirement_id"]
    counts: Counter = Counter()
    out.reports[str(year)] = counts
    c.say(f"Yêu cầu báo cáo: {req.get('name', rid)} — hạn {dmy(req.get('due_date'))}")
    await c.at(datetime(year, 11, 20, 9, 0))  # reminders before the due date have gone out
    submitted: list[tuple[dict[str, Any], str]] = []
    for i, u in enumerate(reporters):
        if i % 10 < 7:
            r = await c.req("reports", "submit_report", {"requirement_id": rid, "period": str(year),
                                                         "unit_id": u["unit_id"], "values": report_values(i),
                                                         "actor_id": f"p-{u['unit_id']}-1"})
            submitted.append((u, r["report_id"]))
            counts["on_time"] += 1
    await c.idle()
    c.say(f"{counts['on_time']} đơn vị gửi báo cáo đúng hạn")
    if returned and submitted:
        u, report_id = submitted[-1]
        reviewer = f"p-{u['parent_id']}-1" if u["parent_id"] != PROVINCE else PROVINCE_CHAIR
        await c.req("reports", "return_report", {"report_id": report_id, "actor_id": reviewer,
                                                 "comment": "Đề nghị bổ sung số đoàn viên xây dựng kế hoạch cá nhân."})
        await c.idle()
        await c.req("reports", "submit_report", {"requirement_id": rid, "period": str(year), "unit_id": u["unit_id"],
                                                 "values": report_values(7), "actor_id": f"p-{u['unit_id']}-1"})
        counts["returned_and_resubmitted"] += 1
        c.say(f"Báo cáo của {u['name']} bị trả lại để bổ sung, đơn vị đã gửi lại")
    await c.at(datetime(year, 12, 3, 9, 0))  # after 30/11: overdue notices
    for i, u in enumerate(reporters):
        if i % 10 == 7:
            r = await c.req("reports", "submit_report", {"requirement_id": rid, "period": str(year),
                                                         "unit_id": u["unit_id"], "values": report_values(i),
                                                         "actor_id": f"p-{u['unit_id']}-1"})
            submitted.append((u, r["report_id"]))
            counts["late"] += 1
        elif i % 10 in (8, 9):
            counts["missing"] += 1
    await c.idle()
    c.say(f"Sau hạn 30/11: {counts['late']} đơn vị gửi trễ hạn, {counts['missing']} đơn vị chưa gửi")
    # Every receiving level accepts what reached it.
    for u, report_id in submitted:
        reviewer = f"p-{u['parent_id']}-1" if u["parent_id"] != PROVINCE else PROVINCE_CHAIR
        ok, _ = await c.try_req("reports", "accept_report", {"report_id": report_id, "actor_id": reviewer})
        if not ok:  # a merged parent: its successor reviews
            await c.req("reports", "accept_report", {"report_id": report_id, "actor_id": PROVINCE_CHAIR})
    await c.idle()
    c.say(f"Cấp trên tiếp nhận {len(submitted)} báo cáo")
    # Plans heard of the reports: each unit's task "send the 30/11 report" is done when it sent it.
    tasks: Counter = Counter()
    out.report_tasks[str(year)] = tasks
    for u in reporters:
        page = await c.req("plans", "list_tasks", {"unit_id": u["unit_id"], "year": year, "actor_id": PROVINCE_CHAIR,
                                                   "page": {"limit": 100}})
        tasks.update(t["category"] for t in page["items"] if t["item_id"] == "II.3.a" and t["period"] == str(year))
    await c.at(datetime(year, 12, 10, 9, 0))
    cons = await c.req("reports", "consolidate", {
        "requirement_id": rid, "unit_id": PROVINCE, "actor_id": PROVINCE_CHAIR, "place": "Bình Định",
        "signer_name": "Nguyễn Mạnh Hùng", "number": f"{year - 2000:02d}/BC-LĐLĐ",
        "recipients": ["Tổng LĐLĐ Việt Nam", "Ban Tuyên giáo Tỉnh ủy", "Lưu: VT, Ban TG-NC"]})
    out.exports[str(year)] = {"docx": cons.get("docx"), "xlsx": cons.get("xlsx")}
    c.say(f"Ban TG-NC lập báo cáo tổng hợp số {year - 2000:02d}/BC-LĐLĐ (tệp DOCX và XLSX)")
    # Any client fetches the files through the API (get_export, in chunks), not from the reports host.
    for ref in cons.get("exports") or []:
        data, offset = b"", 0
        while offset is not None:
            chunk = await c.req("reports", "get_export", {"export_id": ref["export_id"], "offset": offset,
                                                          "actor_id": PROVINCE_CHAIR})
            data += base64.b64decode(chunk["content_base64"])
            offset = chunk["next_offset"]
        if hashlib.sha256(data).hexdigest() != ref["sha256"]:
            raise DemoError(f"{ref['name']}: tệp tải về không khớp mã kiểm tra")
        saved = c.downloads / ref["name"]
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_bytes(data)
        out.downloads.setdefault(str(year), []).append((ref["name"], len(data), saved))
    out.summary[f"completeness_{year}"] = await c.req("reports", "get_completeness", {
        "requirement_id": rid, "unit_id": PROVINCE, "actor_id": PROVINCE_CHAIR, "counting": "received"})
    await c.idle()


async def award_round(c: Client, plan_id: str, upper: list[dict[str, Any]], grass: list[dict[str, Any]],
                      leaders: list[dict[str, Any]], out: Outcome) -> None:
    # The round of Workers' Month (anchored on 19/5), open now — not the year-long "thường xuyên"
    # round the plan also opens: the nominations, the decision and the summary all name it.
    rounds = (await c.req("awards", "list_rounds", {"actor_id": PROVINCE_CHAIR, "year": 2022,
                                                    "status": "open"}))["items"]
    rounds.sort(key=lambda r: (r.get("anchor_on") is None, "Tháng Công nhân" not in r["name"], r["round_id"]))
    if rounds:
        round_id, out.round_name = rounds[0]["round_id"], rounds[0]["name"]
    else:
        r = await c.req("awards", "open_round", {
            "actor_id": PROVINCE_CHAIR, "name": "Khen thưởng Tháng Công nhân năm 2022", "issuer_unit_id": PROVINCE,
            "opens_on": "2022-05-01", "closes_on": "2022-05-31", "anchor_on": "2022-05-19", "report_period": "2021",
            "forms": ["bang_khen_ldld_tinh"]})
        round_id, out.round_name = r["round_id"], r["name"]
    c.say(f"Đợt khen thưởng “{out.round_name}” mở")
    nominated: list[str] = []
    for u in upper[:4]:
        children = [g for g in grass if g["parent_id"] == u["unit_id"]][:2]
        for g in children:
            ok, r = await c.try_req("awards", "submit_nomination", {
                "actor_id": f"p-{u['unit_id']}-1", "round_id": round_id, "by_unit_id": u["unit_id"],
                "nominee_kind": "collective", "nominee_id": g["unit_id"], "form": "bang_khen_ldld_tinh",
                "category": "Tập thể có thành tích xuất sắc",
                "achievements": "Tập thể tiêu biểu trong học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh"})
            if ok:
                nominated.append(r["nomination_id"])
            else:
                c.say(f"  đề nghị không được nhận: {r:.300}")
    for p in leaders[:3]:
        ok, r = await c.try_req("awards", "submit_nomination", {
            "actor_id": PROVINCE_CHAIR, "round_id": round_id, "by_unit_id": PROVINCE, "nominee_kind": "individual",
            "nominee_id": p["person_id"], "form": "bang_khen_ldld_tinh", "category": "Cá nhân có thành tích xuất sắc",
            "achievements": "Cá nhân tiêu biểu, hoàn thành xuất sắc kế hoạch cá nhân năm 2021"})
        if ok:
            nominated.append(r["nomination_id"])
        else:
            c.say(f"  đề nghị không được nhận: {r:.300}")
    out.nominations = len(nominated)
    await c.idle()
    approved = []
    for nid in nominated:
        ok, r = await c.try_req("awards", "record_council_result", {"actor_id": PROVINCE_CHAIR, "nomination_id": nid,
                                                                    "result": "approved", "decided_on": "2022-05-15"})
        if ok:
            approved.append(nid)
        else:  # not eligible: the council cannot approve it, says why, and refuses it
            out.refused.append(r)
            c.say(f"  hội đồng không chấp thuận: {r}")
            await c.req("awards", "record_council_result", {"actor_id": PROVINCE_CHAIR, "nomination_id": nid,
                                                            "result": "rejected", "decided_on": "2022-05-15",
                                                            "note": r[:500]})
    await c.at(datetime(2022, 5, 18, 9, 0))
    if approved:
        d = await c.req("awards", "issue_decision", {"actor_id": PROVINCE_CHAIR, "round_id": round_id,
                                                     "number": "45/QĐ-LĐLĐ", "decision_date": "2022-05-18",
                                                     "signer": "Nguyễn Mạnh Hùng", "nomination_ids": approved})
        out.awards = len(d.get("awards", approved))
        # The summary names the round the awards say they were granted in.
        out.award_rounds = Counter(a["round_name"] for a in d.get("awards", []))
    c.say(f"Quyết định số 45/QĐ-LĐLĐ ngày 18/05/2022: khen thưởng {out.awards} tập thể, cá nhân" if approved
          else "Không có hồ sơ nào được Hội đồng đồng ý: không ra quyết định khen thưởng")




def print_summary(out: Outcome, events: Counter, channels: Counter, rollup: dict[str, Any]) -> None:
    line = "=" * 78
    print(f"\n{line}\nTỔNG KẾT NĂM — Kế hoạch thực hiện Kết luận 01-KL/TW (LĐLĐ tỉnh Bình Định)\n{line}")
    print(f"Đơn vị: {out.units} (công đoàn cấp trên cơ sở: {out.upper}, công đoàn cơ sở: {out.grassroots})")
    for year, counts in out.reports.items():
        comp = out.summary.get(f"completeness_{year}", {})
        total = comp.get("completeness", {})
        print(f"\nBáo cáo kết quả năm {year} (hạn 30/11/{year}):")
        for key, label in (("expected", "Phải báo cáo"), ("submitted", "Đã gửi"), ("on_time", "Đúng hạn"),
                           ("late", "Trễ hạn"), ("missing", "Chưa gửi")):
            if key in total:
                print(f"  {label:<22} {total[key]}")
        if counts.get("returned_and_resubmitted"):
            print(f"  {'Trả lại và gửi lại':<22} {counts['returned_and_resubmitted']}")
        for name, size, saved in out.downloads.get(year, []):
            what = "Báo cáo tổng hợp" if name.endswith(".docx") else "Bảng số liệu"
            print(f"  {what + ':':<26} {name} ({size // 1024} KB, tải về qua API: {saved})")
    print("\nKế hoạch thực hiện của các cấp công đoàn (hạn tháng 12/2021):")
    print(f"  {'Đúng hạn':<22} {out.impl_plans_on_time}\n  {'Trễ hạn':<22} {out.impl_plans_late}")
    print(f"  {'Chưa có':<22} {out.upper + out.grassroots - out.impl_plans_on_time - out.impl_plans_late}")
    labels = {"done_on_time": "Hoàn thành đúng hạn", "done_late": "Hoàn thành trễ hạn",
              "in_progress": "Đang thực hiện", "overdue": "Quá hạn chưa hoàn thành",
              "not_done": "Không hoàn thành trong năm", "open": "Chưa đến hạn"}
    for year, counts in sorted(out.rollups.items()):
        print(f"\nTiến độ nhiệm vụ năm {year} (toàn tỉnh, tại ngày 10/12/2022):")
        for key, label in labels.items():
            if key in counts:
                print(f"  {label + ':':<30} {counts[key]:>6}")
    print(f"\nKế hoạch cá nhân (lãnh đạo LĐLĐ tỉnh): {out.individual_plans}")
    print("\nThông báo đã gửi theo kênh (đến lúc tổng kết; thư còn chờ vẫn tiếp tục được gửi theo giới hạn tốc độ):")
    names = {"inbox": "Hộp thư trong ứng dụng", "email": "Thư điện tử", "webhook": "Webhook"}
    for ch, n in sorted(channels.items()):
        print(f"  {names.get(ch, ch):<22} {n}")
    print(f"  Nhắc hạn nhiệm vụ:     {events['vn.congdoan.plans.deadline.approaching.v1']}"
          f" — quá hạn: {events['vn.congdoan.plans.deadline.missed.v1']}")
    print(f"  Nhắc hạn báo cáo:      {events['vn.congdoan.reports.report.deadline_approaching.v1']}"
          f" — quá hạn: {events['vn.congdoan.reports.report.overdue.v1']}")
    for name in sorted(set(out.award_rounds) | {out.round_name} - {""}):
        print(f"\nĐợt khen thưởng “{name}”: đề nghị {out.nominations if name == out.round_name else 0}, "
              f"được khen thưởng {out.award_rounds.get(name, 0)}, "
              f"không được chấp thuận {len(out.refused) if name == out.round_name else 0}")
    for reason, n in Counter(out.refused).most_common():
        print(f"  {n} × {reason}")
    if out.merged:
        print(f"\nSáp nhập: {out.merged[0]} vào {out.merged[1]} từ ngày 01/07/2022")
    print(line)


async def gather_events(url: str, **connect_options: Any) -> tuple[Counter, Counter, list[str]]:
    """Read every event as an outside subscriber would (tests/observer), count by type and channel."""
    sys.path.insert(0, str(ROOT))
    from tests.observer.observer import load_validators  # the observer stands alone: no project imports

    validators = load_validators(ROOT / "contracts" / "schemas")
    nc = await nats.connect(url, **connect_options)
    js = nc.jetstream()
    by_type: Counter = Counter()
    channels: Counter = Counter()
    problems: list[str] = []
    try:
        for s in ("CONGDOAN_PLANS", "CONGDOAN_REPORTS", "CONGDOAN_NOTIFY", "CONGDOAN_AWARDS"):
            info = await js.stream_info(s)
            if not info.state.messages:
                continue
            sub = await js.subscribe(info.config.subjects[0], ordered_consumer=True, deliver_policy="all")
            for _ in range(info.state.messages):
                msg = await sub.next_msg(timeout=10)
                ev = json.loads(msg.data)
                by_type[ev["type"]] += 1
                if ev["type"] == "vn.congdoan.notify.notification.sent.v1":
                    channels[ev["data"]["channel"]] += 1
                v = validators.get(ev["type"])
                if v is None or list(v.iter_errors(ev)):
                    problems.append(f"{ev['type']} seq {msg.metadata.sequence.stream}")
            await sub.unsubscribe()
    finally:
        await nc.close()
    return by_type, channels, problems


def external_nats_secrets() -> Path:
    """The NATS users an existing server knows: `CONGDOAN_NATS_SECRETS`, else those of `make run`'s
    data folder (`CONGDOAN_DATA_DIR`, default var), which `python -m runtime.natsctl config` puts
    in the server's configuration."""
    if os.environ.get("CONGDOAN_NATS_SECRETS"):
        return Path(os.environ["CONGDOAN_NATS_SECRETS"])
    return Path(os.environ.get("CONGDOAN_DATA_DIR") or ROOT / "var") / "secrets" / "nats"


class NotEmpty(DemoError):
    """The existing NATS server already holds congdoan's events: the year would not add up."""


async def check_empty(url: str, **connect_options: Any) -> None:
    nc = await nats.connect(url, **connect_options)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            if info.config.name.startswith("CONGDOAN_") and info.state.messages:
                raise NotEmpty(f"Máy chủ NATS {url} đã có dữ liệu của congdoan (luồng {info.config.name}: "
                               f"{info.state.messages} sự kiện). Bản chạy thử cần một máy chủ chưa có dữ liệu: "
                               f"dùng máy chủ khác, hoặc bỏ NATS_URL để bản chạy thử tự khởi động máy chủ riêng.")
    finally:
        await nc.close()


async def run(grassroots: int, data_dir: Path, verbose: bool = True, *, nats_url: str | None = None,
              nats_secrets: Path | None = None) -> tuple[Outcome, Counter, Counter, list[str]]:
    """The year. With `nats_url`, on that (empty) nats-server instead of one of its own, as the
    NATS users of `nats_secrets` (default external_nats_secrets()); its shared clock is set back
    to real time at the end."""
    ports = {n: free_port() for n in SERVICES}
    extras = {}
    mail_dir = data_dir / "mail"
    smtp_port = free_port()
    if (ROOT / "services" / "notify" / "mailcatcher.py").exists():
        extras["mailcatcher"] = [sys.executable, "-m", "services.notify.mailcatcher", "--port", str(smtp_port),
                                 "--dir", str(mail_dir)]
    stack = Stack(data_dir=data_dir, nats_url=nats_url, nats_port=None if nats_url else free_port(),
                  nats_secrets=(nats_secrets or external_nats_secrets()) if nats_url else None, http_ports=ports,
                  log_dir=data_dir / "logs", env={"CONGDOAN_NOTIFY_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}"},
                  extras=extras)
    out = Outcome()
    started = time.monotonic()
    stack.start_nats()
    try:
        if nats_url:
            await check_empty(nats_url, **stack.connect_options("operator"))
            if verbose:
                print(f"Máy chủ NATS có sẵn: {nats_url}", flush=True)
        stack.start_services(ready_timeout=60)
    except BaseException:
        stack.stop()
        raise
    try:
        nc = await nats.connect(stack.nats_url, **stack.connect_options("client"))
        ops = await nats.connect(stack.nats_url, **stack.connect_options("operator"))
        creds = client_credentials(data_dir / "secrets")
        assert creds is not None, "the stack made no loader credentials"
        c = Client(nc, ops, await ApiClient.for_service(nc, *creds), ensure_demo_password(data_dir / "secrets"), verbose)
        c.downloads = data_dir / "tai-ve"
        try:
            await run_year(c, stack, grassroots, out, data_dir)
            c.say(f"\n{c.logins} cán bộ đã đăng nhập (tên đăng nhập và mật khẩu thật, mỗi người một phiên)")
            rollup = {}
            for year in (2021, 2022):
                ok, r = await c.try_req("plans", "get_rollup", {"root_unit_id": PROVINCE, "year": year,
                                                                "actor_id": PROVINCE_CHAIR})
                if ok:
                    out.rollups[year] = r.get("totals") or {}
        finally:
            await nc.close()
            await ops.close()
        events, channels, problems = await gather_events(stack.nats_url, **stack.connect_options("subscriber"))
        print_summary(out, events, channels, rollup)
        mails = len(list(mail_dir.glob("*.eml"))) if mail_dir.exists() else 0
        print(f"Thư điện tử hộp thư thử nghiệm đã nhận đến lúc này: {mails} ({mail_dir})")
        print(f"({time.monotonic() - started:.0f} s; dữ liệu và nhật ký: {data_dir})")
        return out, events, channels, problems
    finally:
        if nats_url:  # the server stays: its clock back to real time for whoever uses it next
            try:
                ops = await nats.connect(nats_url, **stack.connect_options("operator"))
                await set_shared_offset(ops.jetstream(), timedelta(0))
                await ops.close()
            except Exception as exc:  # said, not fatal: the demo itself is done
                print(f"Không đặt lại được đồng hồ chung của {nats_url}: {exc}", file=sys.stderr)
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grassroots", type=int, default=200)
    p.add_argument("--data-dir", type=Path, default=None)
    args = p.parse_args(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="congdoan-demo-", dir=ROOT / "var" if (ROOT / "var").exists() else None))
    try:
        out, events, channels, problems = asyncio.run(run(args.grassroots, data_dir.resolve(),
                                                          nats_url=os.environ.get("NATS_URL") or None))
    except NotEmpty as exc:
        print(exc.message, file=sys.stderr)
        return 2
    if problems:
        print(f"{len(problems)} events did not validate against contracts/schemas", file=sys.stderr)
        return 1
    return 0
