"""Error replies through NATS (issue 12 §2): a stable English code for programs, the field at fault in
details, and a message in Vietnamese for people — from the runtime's own checks (token, body,
request model) and from the rules of a service alike."""

from __future__ import annotations

import unicodedata
from typing import Any

from tests.integration.test_plans_support import fails, ok
from tests.support import api, call, running
from tests.unit.test_error_messages import problems

D0 = "2020-01-01"


def _vietnamese(err: dict[str, Any]) -> dict[str, Any]:
    """The error body, after checking every sentence in it reads as Vietnamese (NFC, no English)."""
    for text in [err["message"], *(d["message"] for d in err["details"])]:
        assert unicodedata.is_normalized("NFC", text) and not problems(text, "sentence"), (text, problems(text, "sentence"))
    return err


async def test_error_replies_are_vietnamese_with_stable_codes(nc, nats_server, make_db_url):
    async with running("plans", nats_server.url, await make_db_url("plans")):
        await ok(nc, "register_unit", {"unit_id": "prov", "code": "LDLD", "name": "Liên đoàn Lao động tỉnh",
                                       "kind": "provincial_federation", "effective_from": D0})
        await ok(nc, "register_unit", {"unit_id": "g1", "code": "G1", "name": "Công đoàn cơ sở Trường THCS Nhơn Bình",
                                       "kind": "grassroots_union", "parent_id": "prov", "effective_from": D0})
        await ok(nc, "register_person", {"person_id": "chair", "unit_id": "prov", "full_name": "Nguyễn Văn An",
                                         "roles": ["chairperson"]})
        await ok(nc, "register_person", {"person_id": "member", "unit_id": "g1", "full_name": "Trần Thị Bình",
                                         "roles": ["member"]})

        # The runtime's checks: no token, a body that is not JSON, a body that is not the request's shape.
        h, reply = await call(nc, api("plans", "get_unit"), {"unit_id": "prov"}, token="")
        assert h["Nats-Service-Error-Code"] == "401" and reply["error"]["code"] == "unauthenticated"
        err = _vietnamese(reply["error"])
        assert err["message"].startswith("Cần đăng nhập") and err["details"][0]["type"] == "missing"
        h, reply = await call(nc, api("plans", "get_unit"), b'{"unit_id": ')
        assert h["Nats-Service-Error-Code"] == "400" and reply["error"]["code"] == "bad_request"
        assert _vietnamese(reply["error"])["message"].startswith("Nội dung yêu cầu không phải JSON hợp lệ")
        err = _vietnamese(await fails(nc, "register_unit", {"code": "X", "kind": "ban_khong_co"}, "422"))
        assert err["code"] == "validation_error"
        assert err["message"] == "Yêu cầu không hợp lệ ở 2 trường: “name”, “kind”."
        assert {d["field"]: d["type"] for d in err["details"]} == {"name": "missing", "kind": "enum"}
        assert err["details"][0]["message"] == "Thiếu trường bắt buộc."

        # The rules of the service: not found, invalid, conflict, forbidden.
        err = _vietnamese(await fails(nc, "get_plan", {"plan_id": "kh-khong-co", "actor_id": "chair"}, "404"))
        assert (err["code"], err["message"]) == ("not_found", "Không tìm thấy kế hoạch kh-khong-co.")
        assert err["details"] == [{"field": "plan_id", "message": err["message"], "type": None}]
        err = _vietnamese(await fails(nc, "register_unit", {
            "unit_id": "g2", "code": "G2", "name": "Công đoàn cơ sở Công ty May Tam Quan", "kind": "grassroots_union",
            "parent_id": "g1", "effective_from": D0}, "422"))
        assert (err["code"], err["message"]) == ("validation_error", "Công đoàn cơ sở không thể trực thuộc công đoàn cơ sở.")
        assert err["details"][0]["field"] == "parent_id"
        err = _vietnamese(await fails(nc, "register_unit", {
            "unit_id": "g3", "code": "G1", "name": "Công đoàn cơ sở khác", "kind": "grassroots_union",
            "parent_id": "prov", "effective_from": D0}, "409"))
        assert (err["code"], err["message"]) == ("conflict", "Ký hiệu đơn vị “G1” đã được dùng.")
        assert err["details"][0]["field"] == "code"
        err = _vietnamese(await fails(nc, "close_unit", {"unit_id": "prov", "effective_from": "2026-01-01",
                                                          "actor_id": "chair"}, "409"))
        assert err["message"].startswith("Đơn vị prov vẫn còn 1 đơn vị trực thuộc từ ngày 01/01/2026 (g1)")
        err = _vietnamese(await fails(nc, "list_units", {"root_id": "prov", "page": {"cursor": "abc"},
                                                          "actor_id": "chair"}, "422"))
        assert err["details"][0]["field"] == "page.cursor" and err["message"].startswith("Con trỏ trang")
        err = _vietnamese(await fails(nc, "register_person", {"person_id": "x", "unit_id": "prov", "full_name": "Lê Văn C",
                                                              "actor_id": "member"}, "403"))
        assert err["code"] == "forbidden"
