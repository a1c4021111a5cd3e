"""Effective-dated organisation hierarchy: registration, moves, merges, closures, and queries as of a date."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

import pytest

from services.plans.domain.hierarchy import Hierarchy, HierarchyError, UnitVersion

D0 = date(2020, 1, 1)
D1 = date(2021, 1, 1)
D2 = date(2022, 1, 1)
D3 = date(2023, 1, 1)
REFORM = date(2025, 7, 1)  # the 2025 merger of provinces and end of the district level


@pytest.fixture
def tree() -> Hierarchy:
    """VN ─ BD (province) ─ QN (district union) ─ g1, g2
                         └ KCN (industrial-zone union) ─ g3
                         └ g4 (directly under the province)"""
    h = Hierarchy()
    h.register("VN", None, D0)
    h.register("BD", "VN", D0)
    h.register("QN", "BD", D0)
    h.register("KCN", "BD", D0)
    h.register("g1", "QN", D0)
    h.register("g2", "QN", D0)
    h.register("g3", "KCN", D0)
    h.register("g4", "BD", D0)
    return h


def test_queries(tree):
    assert tree.parent_of("g1", D1) == "QN"
    assert tree.parent_of("VN", D1) is None
    assert tree.children("BD", D1) == ["KCN", "QN", "g4"]
    assert tree.children("g1", D1) == []
    assert tree.subtree("BD", D1) == ["BD", "KCN", "QN", "g4", "g3", "g1", "g2"]
    assert set(tree.subtree("BD", D1, include_self=False)) == {"KCN", "QN", "g4", "g3", "g1", "g2"}
    assert tree.ancestors("g1", D1) == ["QN", "BD", "VN"]
    assert tree.ancestors("VN", D1) == []
    assert tree.is_ancestor("BD", "g1", D1)
    assert tree.is_ancestor("VN", "g3", D1)
    assert not tree.is_ancestor("g1", "BD", D1)
    assert not tree.is_ancestor("g1", "g1", D1)  # strict
    assert not tree.is_ancestor("KCN", "g1", D1)
    assert tree.units(D1) == ["BD", "KCN", "QN", "VN", "g1", "g2", "g3", "g4"]


def test_nothing_exists_before_registration(tree):
    early = D0 - timedelta(days=1)
    with pytest.raises(HierarchyError, match="chưa được đăng ký vào ngày"):
        tree.parent_of("g1", early)
    assert not tree.is_active("g1", early)
    assert tree.units(early) == []
    assert not tree.is_ancestor("BD", "g1", early)
    with pytest.raises(HierarchyError, match="Không tìm thấy đơn vị"):
        tree.parent_of("nope", D1)


def test_register_validation(tree):
    with pytest.raises(HierarchyError, match="chưa được đăng ký"):
        tree.register("x", "ghost", D1)
    with pytest.raises(HierarchyError, match="sau ngày"):
        tree.register("x", "BD", D0 - timedelta(days=1))  # parent did not exist yet
    with pytest.raises(HierarchyError, match="chính nó"):
        tree.register("x", "x", D1)
    with pytest.raises(HierarchyError, match="đã được đăng ký"):
        tree.register("g1", "KCN", D1)
    tree.register("g1", "QN", D0)  # an exact retry is harmless
    assert tree.versions("g1") == [UnitVersion("g1", "QN", D0, None)]


def test_move_keeps_history(tree):
    tree.move("g1", "KCN", D2)
    assert tree.parent_of("g1", D2 - timedelta(days=1)) == "QN"  # valid_to is exclusive
    assert tree.parent_of("g1", D2) == "KCN"
    assert tree.children("QN", D1) == ["g1", "g2"]
    assert tree.children("QN", D2) == ["g2"]
    assert tree.subtree("KCN", D2) == ["KCN", "g1", "g3"]
    assert tree.versions("g1") == [UnitVersion("g1", "QN", D0, D2), UnitVersion("g1", "KCN", D2, None)]
    tree.move("g1", "KCN", D3)  # already there: no-op
    assert len(tree.versions("g1")) == 2


def test_move_a_subtree(tree):
    tree.move("QN", "VN", D2)
    assert tree.ancestors("g1", D2) == ["QN", "VN"]
    assert tree.ancestors("g1", D1) == ["QN", "BD", "VN"]
    assert not tree.is_ancestor("BD", "g2", D2)


def test_move_to_root(tree):
    tree.move("KCN", None, D2)
    assert tree.parent_of("KCN", D2) is None
    assert tree.ancestors("g3", D2) == ["KCN"]


def test_move_validation(tree):
    with pytest.raises(HierarchyError, match="vòng lặp"):
        tree.move("BD", "g1", D1)  # under its own descendant
    with pytest.raises(HierarchyError, match="chính nó"):
        tree.move("BD", "BD", D1)
    with pytest.raises(HierarchyError, match="chỉ được đăng ký từ"):
        tree.move("g1", "KCN", D0 - timedelta(days=1))
    with pytest.raises(HierarchyError, match="chưa được đăng ký"):
        tree.move("g1", "ghost", D1)
    with pytest.raises(HierarchyError, match="Không tìm thấy đơn vị"):
        tree.move("ghost", "BD", D1)
    tree.move("g1", "KCN", D2)
    with pytest.raises(HierarchyError, match="thứ tự ngày"):
        tree.move("g1", "BD", D1)  # before its last change
    tree.close("g2", D2)
    with pytest.raises(HierarchyError, match="giải thể"):
        tree.move("g2", "KCN", D3)  # moving a closed unit
    with pytest.raises(HierarchyError, match="giải thể"):
        tree.move("g4", "g2", D1)  # under a unit that closes later


def test_same_day_move_corrects_instead_of_leaving_an_empty_version(tree):
    tree.register("new", "QN", D1)
    tree.move("new", "KCN", D1)
    assert tree.versions("new") == [UnitVersion("new", "KCN", D1, None)]
    tree.move("g1", "KCN", D2)
    tree.move("g1", "QN", D2)  # undo the same day: back to one version
    assert tree.versions("g1") == [UnitVersion("g1", "QN", D0, None)]


def test_cycle_is_found_on_a_later_date_recorded_earlier(tree):
    # Recorded first: from D3 KCN sits under g1.
    tree.move("KCN", "g1", D3)
    # Now, from D2, g1 goes under g3 (inside KCN). Fine on D2, a cycle from D3: refused.
    with pytest.raises(HierarchyError, match=f"vòng lặp.*{D3:%d/%m/%Y}"):
        tree.move("g1", "g3", D2)
    assert tree.parent_of("g1", D2) == "QN"


def test_close(tree):
    with pytest.raises(HierarchyError, match="đơn vị trực thuộc"):
        tree.close("QN", D2)
    tree.move("g1", "BD", D2)
    tree.move("g2", "BD", D2)
    tree.close("QN", D2)
    assert tree.is_active("QN", D2 - timedelta(days=1))
    assert not tree.is_active("QN", D2)
    assert tree.children("BD", D2) == ["KCN", "g1", "g2", "g4"]
    assert tree.children("QN", D1) == ["g1", "g2"]  # history kept
    with pytest.raises(HierarchyError, match="không hoạt động"):
        tree.children("QN", D2)
    assert tree.successor("QN", D2) is None
    tree.close("QN", D2)  # retry: harmless
    with pytest.raises(HierarchyError, match="giải thể"):
        tree.close("QN", D3)
    with pytest.raises(HierarchyError, match="giải thể"):
        tree.register("x", "QN", D3)


def test_close_refuses_children_placed_later(tree):
    tree.move("g4", "KCN", D3)
    with pytest.raises(HierarchyError, match="g4"):
        tree.close("KCN", D2)  # g3 now, and g4 from D3


def test_close_on_registration_day_is_refused(tree):
    tree.register("x", "BD", D1)
    with pytest.raises(HierarchyError, match="ngay trong ngày"):
        tree.close("x", D1)


def test_merge_moves_children_and_links_history(tree):
    tree.merge("KCN", ["QN"], D2)
    assert not tree.is_active("QN", D2)
    assert tree.children("KCN", D2) == ["g1", "g2", "g3"]
    assert tree.parent_of("g1", D1) == "QN"
    assert tree.successor("QN", D1) == "QN"  # before the merge it is itself
    assert tree.successor("QN", D2) == "KCN"
    assert tree.successor("g1", D2) == "g1"
    assert tree.merged_into("QN") == ("KCN", D2)
    assert tree.merged_into("KCN") is None
    tree.merge("KCN", ["QN"], D2)  # retry: harmless
    with pytest.raises(HierarchyError, match="đã sáp nhập vào KCN"):
        tree.move("QN", "BD", D3)


def test_successor_follows_chains_of_merges(tree):
    tree.merge("KCN", ["QN"], D2)
    tree.register("BD2", "VN", D0)
    tree.merge("BD2", ["BD"], D3)
    tree.register("X", "VN", D0)
    tree.merge("X", ["BD2"], REFORM)
    assert tree.successor("BD", D2) == "BD"
    assert tree.successor("BD", D3) == "BD2"
    assert tree.successor("BD", REFORM) == "X"
    assert tree.successor("KCN", REFORM) == "KCN"  # moved, not merged: still itself
    assert tree.ancestors("g1", REFORM) == ["KCN", "X", "VN"]
    with pytest.raises(HierarchyError, match="Không tìm thấy"):
        tree.successor("ghost", D1)
    tree.register("late", "VN", D3)
    assert tree.successor("late", D1) is None  # not there yet


def test_merge_several_units(tree):
    tree.merge("BD", ["QN", "KCN"], D2)
    assert tree.children("BD", D2) == ["g1", "g2", "g3", "g4"]
    assert tree.subtree("BD", D2) == ["BD", "g1", "g2", "g3", "g4"]
    assert tree.successor("QN", D2) == tree.successor("KCN", D2) == "BD"


def test_merge_where_one_absorbed_unit_sits_under_another(tree):
    tree.register("sub", "QN", D0)
    tree.register("g5", "sub", D0)
    tree.merge("KCN", ["QN", "sub"], D2)
    assert tree.children("KCN", D2) == ["g1", "g2", "g3", "g5"]


def test_merge_validation_leaves_the_tree_unchanged(tree):
    before = {u: tree.versions(u) for u in tree.units(D1)}
    with pytest.raises(HierarchyError, match="vào chính nó"):
        tree.merge("QN", ["QN"], D2)
    with pytest.raises(HierarchyError, match="ít nhất một"):
        tree.merge("QN", [], D2)
    with pytest.raises(HierarchyError, match="trùng nhau"):
        tree.merge("KCN", ["QN", "QN"], D2)
    with pytest.raises(HierarchyError, match="cấp dưới"):
        tree.merge("g1", ["QN"], D2)  # into its own descendant
    with pytest.raises(HierarchyError, match="cấp dưới"):
        tree.merge("g3", ["BD"], D2)  # deeper descendant
    with pytest.raises(HierarchyError, match="Không tìm thấy"):
        tree.merge("KCN", ["QN", "ghost"], D2)
    tree.register("late", "BD", D3)
    with pytest.raises(HierarchyError, match="chỉ được đăng ký từ"):
        tree.merge("KCN", ["QN", "late"], D2)  # second absorbed unit fails after the first passed
    after = {u: tree.versions(u) for u in tree.units(D1)}
    assert before == after
    assert tree.is_active("QN", D2)


def test_merge_refuses_children_placed_under_the_absorbed_unit_later(tree):
    tree.move("g4", "QN", D3)
    with pytest.raises(HierarchyError, match="sau ngày sáp nhập"):
        tree.merge("KCN", ["QN"], D2)


def test_merge_reaches_children_with_later_changes(tree):
    tree.move("g1", "KCN", REFORM)  # recorded first, effective later
    tree.merge("BD", ["QN"], D2)
    assert tree.parent_of("g1", D1) == "QN"
    assert tree.parent_of("g1", D2) == "BD"
    assert tree.parent_of("g1", REFORM) == "KCN"
    assert tree.versions("g1") == [UnitVersion("g1", "QN", D0, D2), UnitVersion("g1", "BD", D2, REFORM),
                                   UnitVersion("g1", "KCN", REFORM, None)]


def test_2025_reform_provinces_merge_and_district_unions_go(tree):
    """Two provinces merge; district-level unions are absorbed; grassroots unions keep their history."""
    tree.register("GL", "VN", D0)  # another province
    tree.register("PK", "GL", D0)  # a district union there
    tree.register("g9", "PK", D0)
    tree.merge("BD", ["QN"], REFORM)  # districts end first
    tree.merge("GL", ["PK"], REFORM)
    tree.merge("GL", ["BD"], REFORM)  # then the provinces (the new province keeps Gia Lai's name)
    assert tree.subtree("GL", REFORM) == ["GL", "KCN", "g1", "g2", "g4", "g9", "g3"]
    assert tree.ancestors("g1", REFORM - timedelta(days=1)) == ["QN", "BD", "VN"]
    assert tree.ancestors("g1", REFORM) == ["GL", "VN"]
    assert tree.successor("QN", REFORM) == "GL"  # QN → BD → GL
    assert tree.subtree("BD", D3) == ["BD", "KCN", "QN", "g4", "g3", "g1", "g2"]


def _build_random(n_grassroots: int, seed: int) -> tuple[Hierarchy, list[str]]:
    rng = random.Random(seed)
    h = Hierarchy()
    h.register("root", None, D0)
    uppers = [f"u{i}" for i in range(max(1, n_grassroots // 100))]
    for u in uppers:
        h.register(u, "root", D0)
    grass = []
    for i in range(n_grassroots):
        g = f"g{i}"
        h.register(g, rng.choice(uppers + ["root"]), D0 + timedelta(days=rng.randrange(0, 365)))
        grass.append(g)
    return h, uppers


def test_two_thousand_units_with_random_history_agree_with_parent_links():
    rng = random.Random(7)
    h, uppers = _build_random(2000, seed=7)
    day = D1
    done = {"move": 0, "merge": 0, "close": 0}
    for _ in range(300):
        day += timedelta(days=rng.randrange(0, 5))
        op = rng.random()
        units = [u for u in h.units(day) if u != "root"]
        try:
            if op < 0.6:
                h.move(rng.choice(units), rng.choice(units + ["root"]), day)
            elif op < 0.8:
                live = [u for u in uppers if h.is_active(u, day)]
                if len(live) > 2:
                    survivor, absorbed = rng.sample(live, 2)
                    h.merge(survivor, [absorbed], day)
            else:
                h.close(rng.choice(units), day)
            done[op < 0.6 and "move" or op < 0.8 and "merge" or "close"] += 1
        except HierarchyError:
            pass  # cycles, busy units… are refused; the tree must stay consistent regardless
    assert done["move"] > 100 and done["merge"] > 10 and done["close"] > 10  # the history is not trivial
    for as_of in (D0, D1, D1 + timedelta(days=200), day, day + timedelta(days=1)):
        active = h.units(as_of)
        if "root" not in active:
            continue
        sub = h.subtree("root", as_of)
        assert len(sub) == len(set(sub))
        # Every active unit hangs under the root (no orphans, no cycles), and the subtree agrees with parent_of.
        assert set(sub) == set(active)
        ancestors = {u: h.ancestors(u, as_of) for u in active}
        assert all((a[-1] if a else u) == "root" for u, a in ancestors.items())
        for u in rng.sample(active, min(40, len(active))) + [x for x in uppers if x in ancestors][:10]:
            assert set(h.subtree(u, as_of)) == {x for x, a in ancestors.items() if x == u or u in a}
            x = rng.choice(active)
            assert h.is_ancestor(u, x, as_of) == (u in ancestors[x])
            for c in h.children(u, as_of):
                assert h.parent_of(c, as_of) == u
    # Merged units always lead to an active successor.
    for u in list(h._versions):
        if h.merged_into(u):
            s = h.successor(u, day)
            assert s is None or h.is_active(s, day)


def test_subtree_of_130000_units_prints_its_time():
    h = Hierarchy()
    h.register("VN", None, D0)
    n = 0
    for p in range(63):
        prov = f"p{p}"
        h.register(prov, "VN", D0)
        for d in range(11):
            dist = f"{prov}d{d}"
            h.register(dist, prov, D0)
            for _ in range(188):
                h.register(f"g{n}", dist, D0)
                n += 1
    h.move("p0d0", "p1", D2)
    t0 = time.perf_counter()
    whole = h.subtree("VN", D3)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = h.subtree("VN", D3 + timedelta(days=100))  # same stretch of unchanged dates: cached index
    cached = time.perf_counter() - t0
    assert len(whole) == len(again) == 1 + 63 + 63 * 11 + n
    assert n >= 130_000
    print(f"\n130k-unit subtree: {len(whole)} units, first query {first * 1000:.0f} ms (builds index), "
          f"cached {cached * 1000:.0f} ms")
