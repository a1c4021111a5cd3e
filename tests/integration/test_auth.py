"""Logging in for real (plans keeps the logins with the directory): passwords, backoff after
failures, refresh tokens that are good once, logout, temporary passwords from an administrator,
machine identities' client credentials — and the tokens working at the other services."""

from __future__ import annotations

from typing import Any

from runtime.client import ApiClient, RequestFailed, raw_request
from tests.conftest import wait_until
from tests.support import LOADER, api, call, loader_secret, open_requirements, running

PASSWORD = "Hoa-sen-no-2026"


async def _directory(nc: Any) -> None:
    for uid, kind, parent in [("prov", "provincial_federation", None), ("u1", "upper_level_union", "prov"),
                              ("u2", "upper_level_union", "prov")]:
        h, r = await call(nc, api("plans", "register_unit"), {"unit_id": uid, "code": uid.upper(), "name": f"Đơn vị {uid}",
                                                              "kind": kind, "parent_id": parent,
                                                              "effective_from": "2020-01-01"}, as_=LOADER)
        assert "Nats-Service-Error" not in h, r
    for pid, unit, roles in [("chair", "prov", ["chairperson"]), ("lan", "u1", ["cadre"]),
                             ("u2-chair", "u2", ["chairperson"])]:
        h, r = await call(nc, api("plans", "register_person"), {"person_id": pid, "unit_id": unit,
                                                                "full_name": f"Nguyễn Thị {pid}", "roles": roles})
        assert "Nats-Service-Error" not in h, r


async def _fails(coro: Any, code: str) -> RequestFailed:
    try:
        await coro
    except RequestFailed as exc:
        assert exc.code == code, exc
        return exc
    raise AssertionError(f"expected {code}")


async def test_login_refresh_logout_and_backoff(nc, nats_server, make_db_url):
    async with running("plans", nats_server.url, await make_db_url("plans")):
        await _directory(nc)
        given = await raw_request(nc, "plans", "set_login", {"person_id": "lan", "username": "Lan.NT",
                                                              "password": PASSWORD, "must_change_password": False},
                                  token=(await ApiClient.for_service(nc, "loader", loader_secret())).token)
        assert given["username"] == "lan.nt" and given["temporary_password"] is None

        # A person logs in with the user name (any case) and the password; the token names them.
        lan = await ApiClient.login(nc, "LAN.nt", PASSWORD)
        assert lan.person == {"person_id": "lan", "full_name": "Nguyễn Thị lan", "unit_id": "u1", "roles": ["cadre"]}
        me = await lan.request("plans", "whoami", {})
        assert (me["kind"], me["id"]) == ("person", "lan")

        # Wrong passwords and unknown names look the same; from the third failure, a wait.
        for username in ("lan.nt", "khong-co-ai"):
            err = await _fails(ApiClient.login(nc, username, "sai-mat-khau-1"), "unauthenticated")
            assert err.error["message"] == "Tên đăng nhập hoặc mật khẩu không đúng."
        await _fails(ApiClient.login(nc, "lan.nt", "sai-mat-khau-2"), "unauthenticated")
        await _fails(ApiClient.login(nc, "lan.nt", "sai-mat-khau-3"), "unauthenticated")
        waiting = await _fails(ApiClient.login(nc, "lan.nt", PASSWORD), "too_many_attempts")  # even the right one
        assert "giây" in waiting.error["message"] and waiting.error["details"][0]["type"] == "retry_after"

        async def let_in() -> bool:
            try:
                await ApiClient.login(nc, "lan.nt", PASSWORD)
                return True
            except RequestFailed as exc:
                assert exc.code == "too_many_attempts", exc
                return False

        await wait_until(let_in, timeout=10, what="the backoff to pass")
        view = await lan.request("plans", "get_login", {"person_id": "lan"})
        assert view["failed_attempts"] == 0 and view["locked_until"] is None  # a success forgets the failures

        # A refresh token is good once: the next one replaces it; a second use ends the session.
        first = lan.refresh
        renewed = await raw_request(nc, "plans", "refresh_token", {"refresh_token": first})
        assert renewed["refresh_token"] != first and renewed["person"]["person_id"] == "lan"
        await _fails(raw_request(nc, "plans", "refresh_token", {"refresh_token": first}), "unauthenticated")
        await _fails(raw_request(nc, "plans", "refresh_token", {"refresh_token": renewed["refresh_token"]}),
                     "unauthenticated")  # the whole family is revoked

        # Logout ends a session.
        again = await ApiClient.login(nc, "lan.nt", PASSWORD)
        assert (await raw_request(nc, "plans", "logout", {"refresh_token": again.refresh}))["revoked"] is True
        await _fails(raw_request(nc, "plans", "refresh_token", {"refresh_token": again.refresh}), "unauthenticated")

        # An inactive person cannot log in.
        h, _ = await call(nc, api("plans", "update_person"), {"person_id": "lan", "active": False}, as_=LOADER)
        assert "Nats-Service-Error" not in h
        await _fails(ApiClient.login(nc, "lan.nt", PASSWORD), "forbidden")


async def test_temporary_passwords_from_an_administrator_above(nc, nats_server, make_db_url):
    async with running("plans", nats_server.url, await make_db_url("plans")):
        await _directory(nc)
        # The province's chairperson gives u1's cadre a login: a temporary password, shown once.
        h, made = await call(nc, api("plans", "set_login"), {"person_id": "lan", "username": "lan"}, as_="chair")
        assert "Nats-Service-Error" not in h, made
        temporary = made["temporary_password"]
        assert made["must_change_password"] is True and len(temporary) >= 16
        h, shown = await call(nc, api("plans", "get_login"), {"person_id": "lan"}, as_="chair")
        assert shown["temporary_password"] is None  # never again
        # A sibling's chairperson administers nothing here; a person cannot reset their own way in.
        for endpoint in ("set_login", "reset_password", "get_login"):
            body = {"person_id": "lan", **({"username": "lan"} if endpoint == "set_login" else {})}
            h, err = await call(nc, api("plans", endpoint), body, as_="u2-chair")
            assert h["Nats-Service-Error-Code"] == "403", (endpoint, err)
        await _fails(ApiClient.login(nc, "lan", temporary), "password_change_required")
        # The new password must be fit to keep.
        await _fails(raw_request(nc, "plans", "change_password", {"username": "lan", "current_password": temporary,
                                                                  "new_password": "lan-lan-lan-1"}), "validation_error")
        await raw_request(nc, "plans", "change_password", {"username": "lan", "current_password": temporary,
                                                           "new_password": PASSWORD})
        lan = await ApiClient.login(nc, "lan", PASSWORD)
        # Forgotten: the administrator resets it; the person's sessions end.
        h, reset = await call(nc, api("plans", "reset_password"), {"person_id": "lan"}, as_="chair")
        assert reset["temporary_password"] and reset["temporary_password"] != temporary
        await _fails(raw_request(nc, "plans", "refresh_token", {"refresh_token": lan.refresh}), "unauthenticated")
        await _fails(ApiClient.login(nc, "lan", PASSWORD), "unauthenticated")


async def test_machine_identities_use_client_credentials_and_hold_narrow_roles(nc, nats_server, make_db_url):
    async with running("plans", nats_server.url, await make_db_url("plans")), \
            running("reports", nats_server.url, await make_db_url("reports")):
        loader = await ApiClient.for_service(nc, "loader", loader_secret())
        assert (await loader.request("plans", "whoami", {}))["roles"] == ["directory_admin", "plan_issuer"]
        await _fails(ApiClient.for_service(nc, "loader", "not-the-secret-at-all"), "unauthenticated")
        await _fails(ApiClient.for_service(nc, "nobody", "not-the-secret-at-all"), "unauthenticated")
        await _directory(nc)
        await open_requirements(nc, ["annual"], kinds=("upper_level_union",))
        # It loads the directory; it never acts for a unit (a report is a person's act).
        refused: list[RequestFailed] = []

        async def refused_once_known() -> bool:
            try:
                await loader.request("reports", "submit_report", {"requirement_id": "annual", "period": "2026",
                                                                  "unit_id": "u1", "values": {}})
            except RequestFailed as exc:
                if exc.code == "not_found":  # reports has not learnt u1 from plans' events yet
                    return False
                refused.append(exc)
                return True
            raise AssertionError("the loader submitted a report")

        await wait_until(refused_once_known, what="reports to know u1")
        assert refused[0].code == "forbidden" and "Định danh dịch vụ loader" in refused[0].error["message"]
        await _fails(loader.request("plans", "set_login", {"person_id": "ghost", "username": "ghost"}), "not_found")
