"""Consolidation: completeness and timeliness per subtree, roll-ups on the hierarchy of the period,
the counting rule, narratives per child unit."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from services.reports.domain.consolidation import (
    ACCEPTED_ONLY,
    ACCEPTED_OR_SUBMITTED,
    HierarchyError,
    HierarchySnapshot,
    ReportStatus,
    Submission,
    UnitVersion,
    consolidate,
)
from services.reports.domain.forms import CAMPAIGN_FORM_01KL, FormDefinition, NumberField, ShareField, TextField
from services.reports.domain.model import Report

FORM = CAMPAIGN_FORM_01KL
AS_OF = date(2026, 11, 30)
A, S, R = ReportStatus.ACCEPTED, ReportStatus.SUBMITTED, ReportStatus.RETURNED
EXPECTED_KINDS = ("upper_level_union", "grassroots_union")

# (unit_id, name, kind, parent) — Bình Định as of 30/11/2026, children in this order
UNITS = [
    ("ldld-bd", "Liên đoàn Lao động tỉnh Bình Định", "provincial_federation", None),
    ("ban-tgnc", "Ban Tuyên giáo - Nữ công", "department", "ldld-bd"),
    ("cd-quynhon", "Công đoàn thành phố Quy Nhơn", "upper_level_union", "ldld-bd"),
    ("cdcs-cang", "CĐCS Công ty Cổ phần Cảng Quy Nhơn", "grassroots_union", "cd-quynhon"),
    ("cdcs-thpt", "CĐCS Trường THPT Quốc Học Quy Nhơn", "grassroots_union", "cd-quynhon"),
    ("cdcs-bv", "CĐCS Bệnh viện Đa khoa tỉnh", "grassroots_union", "cd-quynhon"),
    ("cd-kkt", "Công đoàn các Khu kinh tế tỉnh", "upper_level_union", "ldld-bd"),
    ("cdcs-nhua", "CĐCS Công ty TNHH Nhựa Long Thành", "grassroots_union", "cd-kkt"),
    ("cdcs-go", "CĐCS Công ty Cổ phần Gỗ Đức Long", "grassroots_union", "cd-kkt"),
    ("cdcs-dien", "CĐCS Công ty Điện lực Bình Định", "grassroots_union", "ldld-bd"),
]


def vals(members: int, with_plans: int, *, text: str = "", **over: object) -> dict:
    v: dict = {"study_sessions": 2, "participants": 3 * members, "cadres_total": 5, "cadres_with_plans": 4,
               "members_total": members, "members_with_plans": with_plans, "exemplary_models": 1,
               "commended_collectives": 1, "commended_individuals": 3, "news_posts": 10,
               "results": f"Kết quả: {text}", "limitations": f"Hạn chế: {text}", "next_year_tasks": f"Nhiệm vụ: {text}"}
    v.update(over)
    return v


def province() -> tuple[HierarchySnapshot, list[str], list[Submission]]:
    """The province fixture: snapshot, expected units and submissions (shared with the export tests)."""
    snap = HierarchySnapshot.from_parents({u: p for u, _, _, p in UNITS}, {u: n for u, n, _, _ in UNITS},
                                          {u: k for u, _, k, _ in UNITS}, as_of=AS_OF)
    expected = snap.units_of_kinds(EXPECTED_KINDS, under="ldld-bd")
    subs = [
        Submission("cd-quynhon", vals(20, 10, text="Quy Nhơn"), A, True),
        Submission("cdcs-cang", vals(100, 90, text="Cảng", proposals="Đề nghị khen thưởng tổ bốc xếp số 3."), A, True),
        Submission("cdcs-thpt", vals(10, 1, text="THPT"), A, False),  # late
        Submission("cdcs-bv", vals(500, 500, text="Bệnh viện"), R, True),  # returned: missing
        Submission("cd-kkt", vals(30, 30, text="KKT"), S, True),  # not yet accepted
        Submission("cdcs-nhua", vals(300, 150, text="Nhựa"), A, True),
        # cdcs-go: nothing
        Submission("cdcs-dien", vals(200, 200, text="Điện lực"), A, True),
        Submission("ban-tgnc", vals(7, 7), A, True),  # not expected: set aside
    ]
    return snap, expected, subs


def test_the_snapshot_is_a_flat_preorder_forest() -> None:
    snap, expected, _ = province()
    assert snap.roots == [0] and len(snap) == 10
    assert snap.children("ldld-bd") == ["ban-tgnc", "cd-quynhon", "cd-kkt", "cdcs-dien"]
    assert snap.subtree("cd-quynhon") == ["cd-quynhon", "cdcs-cang", "cdcs-thpt", "cdcs-bv"]
    assert snap.path("cdcs-go") == ["ldld-bd", "cd-kkt", "cdcs-go"]
    assert snap.is_within("cdcs-go", "cd-kkt") and not snap.is_within("cdcs-go", "cd-quynhon")
    assert expected == ["cd-quynhon", "cdcs-cang", "cdcs-thpt", "cdcs-bv", "cd-kkt", "cdcs-nhua", "cdcs-go",
                        "cdcs-dien"]
    assert snap.units_of_kinds(["grassroots_union"], under="cd-kkt") == ["cdcs-nhua", "cdcs-go"]


def test_completeness_and_timeliness_per_subtree_with_the_missing_units() -> None:
    snap, expected, subs = province()
    cons = consolidate(FORM, snap, expected, subs, requirement_id="bc-01-kl-tw", period="2026")
    assert cons.root == "ldld-bd" and cons.rule is ACCEPTED_ONLY
    c = cons.completeness()
    assert (c.expected, c.submitted, c.on_time, c.late, c.missing, c.returned, c.pending) == (8, 5, 4, 1, 3, 1, 1)
    assert c.missing_units == ("cdcs-bv", "cd-kkt", "cdcs-go")
    assert c.submitted_rate == pytest.approx(5 / 8) and c.on_time_rate == pytest.approx(4 / 8)
    qn = cons.completeness("cd-quynhon")
    assert (qn.expected, qn.submitted, qn.on_time, qn.late, qn.missing) == (4, 3, 2, 1, 1)
    assert qn.missing_units == ("cdcs-bv",)
    kkt = cons.completeness("cd-kkt")
    assert (kkt.expected, kkt.submitted, kkt.missing, kkt.pending) == (3, 1, 2, 1)
    assert cons.completeness("ban-tgnc").expected == 0
    assert [(m.unit_id, m.reason, m.parent_name) for m in cons.missing()] == [
        ("cdcs-bv", "returned", "Công đoàn thành phố Quy Nhơn"),
        ("cd-kkt", "pending", "Liên đoàn Lao động tỉnh Bình Định"),
        ("cdcs-go", "not_submitted", "Công đoàn các Khu kinh tế tỉnh")]
    assert cons.missing()[0].reason_vi == "Báo cáo bị trả lại, chưa gửi lại"
    assert cons.own_status("cdcs-thpt") == "late" and cons.own_status("ban-tgnc") is None
    assert [(i.unit_id, i.reason.split(" / ")[0]) for i in cons.ignored] == [("ban-tgnc", "not expected to report")]
    # the children of a node: by default only those that had to report
    assert [n.unit_id for n in cons.children()] == ["cd-quynhon", "cd-kkt", "cdcs-dien"]
    assert len(cons.children(only_expected=False)) == 4


def test_indicators_are_summed_and_shares_recomputed_from_the_sums_never_averaged() -> None:
    snap, expected, subs = province()
    cons = consolidate(FORM, snap, expected, subs)
    qn = cons.indicators("cd-quynhon")  # cd-quynhon 20/10, cảng 100/90, THPT 10/1 (bệnh viện returned)
    assert qn["members_total"] == 130 and qn["members_with_plans"] == 101
    assert qn["members_with_plans_share"] == pytest.approx(101 / 130)
    assert qn["members_with_plans_share"] != pytest.approx((0.5 + 0.9 + 0.1) / 3)
    assert qn["participants"] == 3 * 130 and qn["study_sessions"] == 6
    total = cons.indicators()  # + nhựa 300/150 + điện lực 200/200; never ban-tgnc, bệnh viện, KKT
    assert total["members_total"] == 630 and total["members_with_plans"] == 451
    assert total["members_with_plans_share"] == pytest.approx(451 / 630)
    assert total["cadres_with_plans_share"] == pytest.approx(20 / 25)
    assert total["news_posts"] == 50
    assert cons.indicators("cdcs-go")["members_with_plans_share"] is None  # nothing counted: no share
    assert cons.indicators("cdcs-go")["members_total"] == 0
    node = cons.node("cd-quynhon")
    assert node.name == "Công đoàn thành phố Quy Nhơn" and node.own_status == "on_time"
    assert node.indicators == qn and node.completeness == cons.completeness("cd-quynhon")


def test_the_counting_rule_is_explicit_and_configurable() -> None:
    snap, expected, subs = province()
    cons = consolidate(FORM, snap, expected, subs, rule=ACCEPTED_OR_SUBMITTED)
    c = cons.completeness()
    assert (c.submitted, c.missing, c.returned, c.pending) == (6, 2, 1, 0)  # KKT counts now; bệnh viện does not
    assert c.missing_units == ("cdcs-bv", "cdcs-go")
    assert cons.indicators("cd-kkt")["members_total"] == 330
    assert "accepted" in ACCEPTED_ONLY.description and "returned" in ACCEPTED_OR_SUBMITTED.description


def test_narratives_are_gathered_per_direct_child_unit() -> None:
    snap, expected, subs = province()
    cons = consolidate(FORM, snap, expected, subs)
    groups = cons.narratives()
    assert [(g.unit_id, g.own) for g in groups] == [("cd-quynhon", False), ("cd-kkt", False), ("cdcs-dien", False)]
    assert [i.unit_id for i in groups[1].sections["results"]] == ["cdcs-nhua"]  # cd-kkt's own is not accepted
    qn = groups[0]
    assert [(i.unit_id, i.text) for i in qn.sections["results"]] == [
        ("cd-quynhon", "Kết quả: Quy Nhơn"), ("cdcs-cang", "Kết quả: Cảng"), ("cdcs-thpt", "Kết quả: THPT")]
    assert [i.name for i in qn.sections["proposals"]] == ["CĐCS Công ty Cổ phần Cảng Quy Nhơn"]
    assert list(qn.sections) == ["results", "limitations", "next_year_tasks", "proposals"]
    own = cons.narratives("cd-quynhon")
    assert [(g.unit_id, g.own) for g in own] == [("cd-quynhon", True), ("cdcs-cang", False), ("cdcs-thpt", False)]


def history() -> list[UnitVersion]:
    """2026: Quy Nhơn has cảng and THPT; on 1/3/2027 the district level is abolished: Quy Nhơn is
    dissolved, cảng moves under the economic-zone union, THPT directly under the province; a new
    grassroots union is founded in 2027."""
    d26, reorg = date(2021, 1, 1), date(2027, 3, 1)
    return [
        UnitVersion("ldld-bd", "Liên đoàn Lao động tỉnh Bình Định", "provincial_federation", None, d26),
        UnitVersion("cd-quynhon", "Công đoàn thành phố Quy Nhơn", "upper_level_union", "ldld-bd", d26, reorg),
        UnitVersion("cd-kkt", "Công đoàn các Khu kinh tế tỉnh", "upper_level_union", "ldld-bd", d26),
        UnitVersion("cdcs-cang", "CĐCS Công ty Cổ phần Cảng Quy Nhơn", "grassroots_union", "cd-quynhon", d26, reorg),
        UnitVersion("cdcs-cang", "CĐCS Công ty Cổ phần Cảng Quy Nhơn", "grassroots_union", "cd-kkt", reorg),
        UnitVersion("cdcs-thpt", "CĐCS Trường THPT Quốc Học Quy Nhơn", "grassroots_union", "cd-quynhon", d26, reorg),
        UnitVersion("cdcs-thpt", "CĐCS Trường THPT Quốc Học Quy Nhơn", "grassroots_union", "ldld-bd", reorg),
        UnitVersion("cdcs-moi", "CĐCS Công ty TNHH Điện gió Phương Mai", "grassroots_union", "cd-kkt",
                    date(2027, 6, 1)),
    ]


def test_roll_up_follows_the_hierarchy_as_it_stood_in_the_period_not_todays() -> None:
    subs = [Submission("cdcs-cang", vals(100, 90), A), Submission("cdcs-thpt", vals(10, 5), A),
            Submission("cdcs-moi", vals(40, 40), A)]
    then = HierarchySnapshot.from_history(history(), AS_OF)
    assert "cdcs-moi" not in then and then.parent_of("cdcs-cang") == "cd-quynhon"
    cons = consolidate(FORM, then, then.units_of_kinds(EXPECTED_KINDS, "ldld-bd"), subs)
    assert cons.indicators("cd-quynhon")["members_total"] == 110  # both under Quy Nhơn in 2026
    assert cons.indicators("cd-kkt")["members_total"] == 0
    assert cons.completeness("cd-quynhon").missing_units == ("cd-quynhon",)
    assert [i.unit_id for i in cons.ignored] == ["cdcs-moi"]  # founded after the period
    now = HierarchySnapshot.from_history(history(), date(2027, 11, 30))
    assert "cd-quynhon" not in now
    cons27 = consolidate(FORM, now, now.units_of_kinds(EXPECTED_KINDS, "ldld-bd"), subs)
    assert cons27.indicators("cd-kkt")["members_total"] == 140
    assert cons27.indicators()["members_total"] == 150


def test_hierarchy_and_input_errors_are_named() -> None:
    with pytest.raises(HierarchyError, match="trực thuộc x, đơn vị không có trong cây tổ chức"):
        HierarchySnapshot.from_parents({"a": None, "b": "x"})
    with pytest.raises(HierarchyError, match="vòng lặp"):
        HierarchySnapshot.from_parents({"r": None, "a": "b", "b": "a"})
    with pytest.raises(HierarchyError, match="hai phiên bản"):
        HierarchySnapshot.from_history(history() + [UnitVersion("cd-kkt", "x", "upper_level_union", "ldld-bd",
                                                                date(2026, 1, 1))], AS_OF)
    snap, expected, subs = province()
    with pytest.raises(HierarchyError, match="ghost"):
        consolidate(FORM, snap, expected + ["ghost"], subs)
    with pytest.raises(ValueError, match="two submissions for unit cdcs-cang"):
        consolidate(FORM, snap, expected, subs + [Submission("cdcs-cang", vals(1, 1), A)])
    with pytest.raises(KeyError, match="nowhere"):
        consolidate(FORM, snap, expected, subs).node("nowhere")


def test_absent_optional_numbers_count_as_zero_and_bad_values_are_reported() -> None:
    form = FormDefinition("f", 1, "Biểu thử", (NumberField("a", "A"), NumberField("b", "B", compulsory=False),
                                               ShareField("s", "S", "b", "a"), TextField("t", "T", compulsory=False)))
    snap = HierarchySnapshot.from_parents({"r": None, "x": "r", "y": "r"})
    cons = consolidate(form, snap, ["x", "y"], {"x": Submission("x", {"a": 4}, A),
                                                "y": Submission("y", {"a": 6, "b": "sáu"}, A)})
    assert cons.indicators() == {"a": 10, "b": 0, "s": 0.0}
    assert cons.warnings == ("unit y: field b holds 'sáu', counted as 0",)
    assert cons.narratives() == []


def test_a_stored_report_becomes_a_submission() -> None:
    at = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    report = Report("r-1", "bc-01-kl-tw", "2026", "cdcs-go", "cd-kkt", 2, at, date(2026, 11, 30), False, vals(40, 4))
    sub = Submission.from_report(report, ReportStatus.ACCEPTED)
    assert (sub.unit_id, sub.on_time, sub.submitted_at, sub.status) == ("cdcs-go", False, at, A)
    snap, expected, subs = province()
    c = consolidate(FORM, snap, expected, [s for s in subs] + [sub]).completeness("cd-kkt")
    assert (c.submitted, c.late, c.missing_units) == (2, 1, ("cd-kkt",))


def naive(parents: dict, expected: set, subs: dict, rule) -> dict:  # type: ignore[no-untyped-def]
    """Per-node recursion over dicts: the obviously-correct reference."""
    kids: dict = {u: [] for u in parents}
    for u, p in parents.items():
        if p is not None:
            kids[p].append(u)

    def walk(u: str) -> tuple:
        s = subs.get(u)
        counted = u in expected and s is not None and s.status in rule.counted
        exp, sub, ont = int(u in expected), int(counted), int(counted and s.on_time)
        members = s.values["members_total"] if counted else 0
        plans = s.values["members_with_plans"] if counted else 0
        missing = [u] if u in expected and not counted else []
        for c in kids[u]:
            e2, s2, o2, m2, p2, mi2 = walk(c)
            exp, sub, ont, members, plans = exp + e2, sub + s2, ont + o2, members + m2, plans + p2
            missing += mi2
        return exp, sub, ont, members, plans, missing

    return {u: walk(u) for u in parents}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_a_naive_recursive_consolidation_on_random_deep_trees(seed: int) -> None:
    rng = random.Random(seed)
    parents: dict[str, str | None] = {"n0": None}
    for k in range(1, 400):
        parents[f"n{k}"] = f"n{rng.randrange(max(0, k - 5), k)}"  # deep and bushy
    kinds = {u: rng.choice(["upper_level_union", "grassroots_union", "department"]) for u in parents}
    snap = HierarchySnapshot.from_parents(parents, kinds=kinds)
    expected = snap.units_of_kinds(EXPECTED_KINDS)
    subs = {u: Submission(u, vals(rng.randint(0, 50), rng.randint(0, 5)) if rng.random() < 0.9 else vals(0, 0),
                          rng.choice([A, A, S, R]), rng.random() < 0.7)
            for u in parents if rng.random() < 0.8}
    for rule in (ACCEPTED_ONLY, ACCEPTED_OR_SUBMITTED):
        cons = consolidate(FORM, snap, expected, subs, rule=rule)
        ref = naive(parents, set(expected), subs, rule)
        for u, (exp, sub, ont, members, plans, missing) in ref.items():
            c, ind = cons.completeness(u), cons.indicators(u)
            assert (c.expected, c.submitted, c.on_time, c.late) == (exp, sub, ont, sub - ont), u
            assert sorted(c.missing_units) == sorted(missing), u
            assert (ind["members_total"], ind["members_with_plans"]) == (members, plans), u
            assert ind["members_with_plans_share"] == (pytest.approx(plans / members) if members else None)


def test_thirty_thousand_units_consolidate_quickly() -> None:
    import time

    rng = random.Random(7)
    parents: dict[str, str | None] = {"vn": None}
    parents.update({f"p{p}": "vn" for p in range(10)})
    parents.update({f"u{u}": f"p{u % 10}" for u in range(100)})
    parents.update({f"g{g}": f"u{rng.randrange(100)}" for g in range(30_000)})
    kinds = {u: ("grassroots_union" if u[0] == "g" else "upper_level_union") for u in parents}
    one = vals(50, 25)
    subs = [Submission(u, one, A, rng.random() < 0.9) for u in parents if u[0] == "g" and rng.random() < 0.9]
    t = time.perf_counter()
    snap = HierarchySnapshot.from_parents(parents, kinds=kinds)
    cons = consolidate(FORM, snap, snap.units_of_kinds(["grassroots_union"]), subs)
    c = cons.completeness()
    elapsed = time.perf_counter() - t
    assert c.expected == 30_000 and c.submitted == len(subs) and c.missing == 30_000 - len(subs)
    assert cons.indicators()["members_total"] == 50 * len(subs)
    assert elapsed < 2.0
