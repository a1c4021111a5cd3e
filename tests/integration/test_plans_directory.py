"""plans' organisation directory through NATS (SQLite and PostgreSQL): reorganisation with
history (a query as of a date before a merge shows the old parent), the events for the other
services' projections, authorisation by unit scope, and the all-or-nothing CSV import."""

from __future__ import annotations

from datetime import date

from runtime.directory import Directory
from tests.conftest import wait_until
from tests.integration.test_plans_support import events, fails, ok, stream_count
from tests.support import api, call, running, service_token

D0 = "2020-01-01"


async def _tree(nc) -> None:  # type: ignore[no-untyped-def]
    """prov ─ A ─ g1, g2      (upper-level unions A, B; grassroots g1, g2, g3)
            └ B ─ g3"""
    await ok(nc, "register_unit", {"unit_id": "prov", "code": "LDLD", "name": "Liên đoàn Lao động tỉnh",
                                   "kind": "provincial_federation", "effective_from": D0})
    for uid, code, name, kind, parent in [
            ("A", "A", "Liên đoàn Lao động huyện An Nhơn", "upper_level_union", "prov"),
            ("B", "B", "Liên đoàn Lao động thị xã Hoài Nhơn", "upper_level_union", "prov"),
            ("g1", "G1", "Công đoàn cơ sở Trường THCS Nhơn Bình", "grassroots_union", "A"),
            ("g2", "G2", "Công đoàn cơ sở Công ty May Tam Quan", "grassroots_union", "A"),
            ("g3", "G3", "Công đoàn cơ sở UBND xã Tam Quan", "grassroots_union", "B")]:
        await ok(nc, "register_unit", {"unit_id": uid, "code": code, "name": name, "kind": kind, "parent_id": parent,
                                       "effective_from": D0})
    for pid, unit, roles in [("chair", "prov", ["chairperson", "executive_member"]), ("a-chair", "A", ["chairperson"]),
                             ("g1-member", "g1", ["member"]), ("b-chair", "B", ["chairperson"])]:
        await ok(nc, "register_person", {"person_id": pid, "unit_id": unit, "full_name": f"Nguyễn Văn {pid}",
                                         "roles": roles, "email": f"{pid}@example.org"})


async def test_reorganisation_keeps_history_and_is_published(nc, nats_server, make_db_url):
    url = await make_db_url("plans")
    async with running("plans", nats_server.url, url) as rt:
        js = nc.jetstream()
        await _tree(nc)
        # Move g1 under B from 2024; merge A into B from 1/7/2025 (g2 follows to B).
        moved = await ok(nc, "move_unit", {"unit_id": "g1", "to_parent_id": "B", "effective_from": "2024-01-01",
                                           "actor_id": "chair"})
        assert moved == {"unit_id": "g1", "from_parent_id": "A", "to_parent_id": "B", "effective_from": "2024-01-01",
                         "unchanged": False, "withdrawn_tasks": 0}
        again = await ok(nc, "move_unit", {"unit_id": "g1", "to_parent_id": "B", "effective_from": "2024-01-01",
                                           "actor_id": "chair"})
        assert again["unchanged"] is True
        merged = await ok(nc, "merge_units", {"survivor_id": "B", "absorbed_ids": ["A"], "effective_from": "2025-07-01",
                                              "actor_id": "chair"})
        assert merged["moved_children"] == ["g2"]
        # History: before the merge g2 sat under A, and A existed; after, g2 is under B and A is closed.
        before = await ok(nc, "get_unit", {"unit_id": "g2", "as_of": "2025-06-30", "actor_id": "chair"})
        after = await ok(nc, "get_unit", {"unit_id": "g2", "as_of": "2025-07-01", "actor_id": "chair"})
        assert before["parent_id"] == "A" and after["parent_id"] == "B"
        assert [(s["parent_id"], s["valid_from"], s["valid_to"]) for s in after["history"]] == [
            ("A", D0, "2025-07-01"), ("B", "2025-07-01", None)]
        g1_2023 = await ok(nc, "get_unit", {"unit_id": "g1", "as_of": "2023-12-31"})
        assert g1_2023["parent_id"] == "A"
        a_then = await ok(nc, "get_unit", {"unit_id": "A", "as_of": "2025-06-30", "actor_id": "chair"})
        a_now = await ok(nc, "get_unit", {"unit_id": "A", "actor_id": "chair"})
        assert a_then["active"] and a_then["parent_id"] == "prov"
        assert not a_now["active"] and a_now["merged_into"] == "B" and a_now["successor_id"] == "B"
        assert a_now["closed_on"] == "2025-07-01"
        tree_then = await ok(nc, "list_units", {"root_id": "prov", "as_of": "2025-06-30", "actor_id": "chair"})
        tree_now = await ok(nc, "list_units", {"root_id": "prov", "actor_id": "chair"})
        assert {(u["unit_id"], u["parent_id"]) for u in tree_then["items"]} == {
            ("prov", None), ("A", "prov"), ("B", "prov"), ("g1", "B"), ("g2", "A"), ("g3", "B")}
        assert {(u["unit_id"], u["parent_id"]) for u in tree_now["items"]} == {
            ("prov", None), ("B", "prov"), ("g1", "B"), ("g2", "B"), ("g3", "B")}
        # Closing: a unit with children cannot close; a leaf can.
        err = await fails(nc, "close_unit", {"unit_id": "B", "effective_from": "2026-01-01", "actor_id": "chair"}, "409")
        assert "vẫn còn 3 đơn vị trực thuộc" in err["message"] and err["code"] == "conflict"
        await ok(nc, "close_unit", {"unit_id": "g3", "effective_from": "2026-01-01", "actor_id": "chair"})

        # The events other services project, in order: children move before the merged unit closes.
        await wait_until(lambda: _relay_idle(rt), what="plans' outbox drained")
        evs = [e for e in await events(js) if e["type"].split(".")[3] in ("unit",)]
        kinds = [(e["type"].split(".")[4], e["data"]["unit_id"]) for e in evs]
        assert kinds[-4:] == [("moved", "g1"), ("moved", "g2"), ("closed", "A"), ("closed", "g3")]
        assert evs[-2]["data"] == {"unit_id": "A", "effective_from": "2025-07-01", "merged_into": "B"}

        # The shared projection handlers, fed these same events, give the same history.
        async with rt.uow() as uow:
            d = Directory(uow.session)
            assert await d.parent_as_of("g2", date(2025, 6, 30)) == "A"
            assert await d.parent_as_of("g2", date(2025, 7, 1)) == "B"
            assert await d.successor("A") == "B"


async def test_authorisation_and_bad_input(nc, nats_server, make_db_url):
    async with running("plans", nats_server.url, await make_db_url("plans")):
        await _tree(nc)
        # A member of g1 may not move g2 (not its unit); the chair of A may not touch B's units.
        await fails(nc, "move_unit", {"unit_id": "g2", "to_parent_id": "B", "actor_id": "g1-member"}, "403")
        await fails(nc, "move_unit", {"unit_id": "g3", "to_parent_id": "A", "actor_id": "a-chair"}, "403")
        await fails(nc, "get_unit", {"unit_id": "B", "actor_id": "a-chair"}, "403")
        await fails(nc, "list_units", {"root_id": "prov", "actor_id": "a-chair"}, "403")
        sub = await ok(nc, "list_units", {"root_id": "A", "actor_id": "a-chair"})
        assert [u["unit_id"] for u in sub["items"]] == ["A", "g1", "g2"]
        # Without a root, as the contract says: a person's own unit's subtree, a machine's every root.
        own = await ok(nc, "list_units", {"actor_id": "a-chair"})
        assert [u["unit_id"] for u in own["items"]] == ["A", "g1", "g2"]
        every = await ok(nc, "list_units", {})
        assert [u["unit_id"] for u in every["items"]] == ["prov", "A", "B", "g1", "g2", "g3"]
        assert [u["unit_id"] for u in (await ok(nc, "list_units", {"actor_id": "g1-member"}))["items"]] == ["g1"]
        # Dates as people write them (dd/mm/yyyy) as well as ISO; replies in ISO.
        then = await ok(nc, "get_unit", {"unit_id": "g1", "as_of": "31/12/2023", "actor_id": "chair"})
        assert then["as_of"] == "2023-12-31"
        assert (await ok(nc, "list_units", {"as_of": "1/1/2020", "actor_id": "chair"}))["as_of"] == "2020-01-01"
        err = await fails(nc, "get_unit", {"unit_id": "g1", "as_of": "31/02/2024", "actor_id": "chair"}, "422")
        assert err["details"][0]["field"] == "as_of" and "30/11/2026" in err["details"][0]["message"]
        await fails(nc, "get_unit", {"unit_id": "A", "actor_id": "nobody"}, "403")
        # Domain rules: a grassroots union has no children; a unit cannot go under itself.
        err = await fails(nc, "move_unit", {"unit_id": "g2", "to_parent_id": "g1", "actor_id": "chair"}, "422")
        assert err["details"][0]["field"] == "to_parent_id"
        await fails(nc, "move_unit", {"unit_id": "nope", "to_parent_id": "B", "actor_id": "chair"}, "404")
        await fails(nc, "merge_units", {"survivor_id": "A", "absorbed_ids": ["A"], "actor_id": "chair"}, "409")
        # Changes are recorded forwards, one a day per unit.
        await ok(nc, "move_unit", {"unit_id": "g2", "to_parent_id": "B", "effective_from": "2024-03-01",
                                   "actor_id": "chair"})
        err = await fails(nc, "move_unit", {"unit_id": "g2", "to_parent_id": "A", "effective_from": "2024-02-01",
                                            "actor_id": "chair"}, "409")
        assert err["details"][0]["field"] == "effective_from"
        # People: update roles and unit; list by role.
        p = await ok(nc, "update_person", {"person_id": "g1-member", "roles": ["member", "cadre"], "actor_id": "chair"})
        assert p["roles"] == ["member", "cadre"] and p["active"] is True
        people = await ok(nc, "list_people", {"unit_id": "prov", "subtree": True, "roles": ["chairperson"],
                                              "actor_id": "chair"})
        assert {x["person_id"] for x in people["items"]} == {"chair", "a-chair", "b-chair"}


CSV_OK_1 = """code,name,kind,parent_code
LDLD_X,Liên đoàn Lao động tỉnh X,provincial_federation,
CD_H1,Liên đoàn Lao động huyện Một,upper_level_union,LDLD_X
"""
CSV_OK_2 = """CDCS_1,Công đoàn cơ sở Trường Tiểu học Một,grassroots_union,CD_H1
CDCS_2,"Công đoàn cơ sở Công ty TNHH Hai, Ba",grassroots_union,CD_H9
CD_H9,Liên đoàn Lao động huyện Chín (cuối tệp),upper_level_union,LDLD_X
"""
CSV_BAD = """code,name,kind,parent_code
BAD_1,Một,no_such_kind,LDLD_X
BAD_2,Hai,grassroots_union,MISSING
BAD_3,,grassroots_union,LDLD_X
BAD_4,Bốn,upper_level_union,CDCS_1
CDCS_1,Trùng mã,grassroots_union,LDLD_X
OK_5,Năm,grassroots_union,LDLD_X
"""


async def test_csv_import_is_all_or_nothing_with_bad_rows_by_line(nc, nats_server, make_db_url):
    async with running("plans", nats_server.url, await make_db_url("plans")) as rt:
        js = nc.jetstream()
        part1 = await ok(nc, "import_units", {"import_id": "imp-1", "part": 1, "parts": 2, "csv": CSV_OK_1,
                                              "effective_from": D0})
        assert part1["complete"] is False and part1["received_parts"] == [1]
        done = await ok(nc, "import_units", {"import_id": "imp-1", "part": 2, "parts": 2, "csv": CSV_OK_2,
                                             "effective_from": D0})
        assert done["complete"] is True and done["imported"] == 5
        tree = await ok(nc, "list_units", {"root_id": "u-" + _sha("LDLD_X")})
        assert {u["code"]: u["depth"] for u in tree["items"]} == {"LDLD_X": 0, "CD_H1": 1, "CD_H9": 1, "CDCS_1": 2,
                                                                   "CDCS_2": 2}
        # Bad rows: every one reported by its line; nothing of the file is imported.
        err = await fails(nc, "import_units", {"import_id": "imp-2", "csv": CSV_BAD}, "422")
        lines = {d["field"].split(":")[0] for d in err["details"]}
        assert lines == {"line 2", "line 3", "line 4", "line 5", "line 6"}, err
        assert "chưa nhập đơn vị nào" in err["message"] and err["code"] == "validation_error"
        tree = await ok(nc, "list_units", {"root_id": "u-" + _sha("LDLD_X")})
        assert len(tree["items"]) == 5
        # The same file again: nothing new (a re-import is harmless).
        again = await ok(nc, "import_units", {"import_id": "imp-3", "csv": CSV_OK_1 + CSV_OK_2, "effective_from": D0})
        assert again == {"import_id": "imp-3", "received_parts": [1], "complete": True, "imported": 0, "unchanged": 5}
        await wait_until(lambda: _relay_idle(rt), what="outbox drained")
        assert await stream_count(js, "congdoan.evt.plans.unit.registered.v1") == 5


def _sha(code: str) -> str:
    import hashlib
    return hashlib.sha1(code.encode()).hexdigest()[:16]


async def _relay_idle(rt) -> bool:  # type: ignore[no-untyped-def]
    return await rt.relay.pending() == 0


async def test_no_request_is_a_system_request_and_roots_need_a_directory_admin(nc, nats_server, make_db_url):
    async with running("plans", nats_server.url, await make_db_url("plans")):
        await _tree(nc)  # bootstrapping: the loader's machine identity (directory_admin)
        h, err = await call(nc, api("plans", "get_unit"), {"unit_id": "A"}, token="")
        assert h["Nats-Service-Error-Code"] == "401" and err["error"]["code"] == "unauthenticated"
        # A person, however high, registers units only under a unit they administer; roots are
        # for a directory_admin identity.
        await fails(nc, "register_unit", {"code": "X", "name": "X", "kind": "provincial_federation",
                                          "actor_id": "chair"}, "403")
        await fails(nc, "register_unit", {"code": "X", "name": "X", "kind": "grassroots_union", "parent_id": "B",
                                          "actor_id": "a-chair"}, "403")
        made = await ok(nc, "register_unit", {"code": "G4", "name": "Công đoàn cơ sở Bốn", "kind": "grassroots_union",
                                              "parent_id": "A", "actor_id": "a-chair"})
        assert made["parent_id"] == "A"
        # A reader identity reads, and changes nothing.
        h, _ = await call(nc, api("plans", "get_unit"), {"unit_id": "A"}, token=service_token("bi", {"reader"}))
        assert "Nats-Service-Error" not in h
        h, err = await call(nc, api("plans", "register_unit"), {"code": "Y", "name": "Y", "kind": "grassroots_union",
                                                                "parent_id": "A"},
                            token=service_token("bi", {"reader"}))
        assert h["Nats-Service-Error-Code"] == "403", err


