"""The web front-end at the HTTP level (httpx against the ASGI app, real services in-process on
the session's nats-server): what needs a login redirects to it, every form is CSRF-checked,
cookies are HttpOnly and SameSite, tokens never reach the browser, logins are rate-limited,
and a session that expired — idle, or its tokens revoked at plans — asks to log in again."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from runtime.client import ApiClient, raw_request
from services.web.app import create_app
from services.web.settings import WebSettings
from tests.conftest import wait_until
from tests.support import LOADER, api, call, loader_secret, running

PASSWORD = "Hoa-sen-no-2026"


async def _directory(nc: Any) -> None:
    for uid, kind, parent in [("prov", "provincial_federation", None), ("u1", "upper_level_union", "prov")]:
        h, r = await call(nc, api("plans", "register_unit"), {"unit_id": uid, "code": uid.upper(), "name": f"Đơn vị {uid}",
                                                              "kind": kind, "parent_id": parent,
                                                              "effective_from": "2020-01-01"}, as_=LOADER)
        assert "Nats-Service-Error" not in h, r
    h, r = await call(nc, api("plans", "register_person"), {"person_id": "lan", "unit_id": "u1",
                                                            "full_name": "Nguyễn Thị Lan", "roles": ["chairperson"]})
    assert "Nats-Service-Error" not in h, r
    loader = await ApiClient.for_service(nc, "loader", loader_secret())
    await raw_request(nc, "plans", "set_login", {"person_id": "lan", "username": "lan", "password": PASSWORD,
                                                 "must_change_password": False}, token=loader.token)

    async def notify_knows_lan() -> bool:  # the services learn the directory from plans' events
        # set_preferences: it authorises over the projection (unread_count may answer before)
        h, _ = await call(nc, api("notify", "set_preferences"), {}, as_="lan")
        return "Nats-Service-Error" not in h

    await wait_until(notify_knows_lan, timeout=20, what="notify to project lan")


@asynccontextmanager
async def web(nc: Any, nats_url: str, tmp_path: Any, base_url: str = "http://testserver",  # type: ignore[no-untyped-def]
              services: tuple[str, ...] = ("plans", "reports", "notify"), **settings: Any):
    """plans, reports and notify (or the services named) in this process; the web app on an httpx
    client."""
    async with AsyncExitStack() as stack:
        for name in services:
            await stack.enter_async_context(running(name, nats_url, f"sqlite+aiosqlite:///{tmp_path / name}.db"))
        await _directory(nc)
        app = create_app(WebSettings(nats_url=nats_url, data_dir=tmp_path, **settings), nc=nc)
        await stack.enter_async_context(app.router.lifespan_context(app))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.0.0.7", 5000)),
                                   base_url=base_url)
        await stack.enter_async_context(client)
        yield app, client


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:2000]
    return m.group(1)


async def login(client: httpx.AsyncClient, username: str = "lan", password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    return await client.post("/login", data={"csrf": csrf_of(page.text), "username": username,
                                             "password": password, "next": "/"})


@pytest.mark.timeout(120)
async def test_login_required_csrf_cookies_and_headers(nc, nats_server, tmp_path):
    async with web(nc, nats_server.url, tmp_path) as (app, client):
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).json()["ready"] is True

        # Nothing but the login page without a session; a page remembers where it was asked for.
        r = await client.get("/reports/requirements/q1/2026/u1")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/reports/requirements/q1/2026/u1"
        assert (await client.get("/live")).status_code == 401
        r = await client.post("/notices/read", data={"all": "1"})
        assert r.status_code in (303, 403)
        page = await client.get("/login")
        assert page.status_code == 200 and "Đăng nhập" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff" and page.headers["x-frame-options"] == "DENY"
        assert "no-store" in page.headers["cache-control"]

        # The login form is CSRF-checked too (a token keyed to the pre-session cookie).
        r = await client.post("/login", data={"username": "lan", "password": PASSWORD})
        assert r.status_code == 403 and "congdoan_sid" not in r.headers.get("set-cookie", "")
        r = await client.post("/login", data={"csrf": "0" * 64, "username": "lan", "password": PASSWORD})
        assert r.status_code == 403

        # Wrong password: a sentence, no session.
        r = await login(client, password="sai-mat-khau-1")
        assert r.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng." in r.text

        r = await login(client)
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("congdoan_sid="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Secure" not in cookie
        session = next(iter(app.state.web.sessions._by_id.values()))
        home = await client.get("/")
        assert home.status_code == 200 and "Việc cần làm" in home.text and "Nguyễn Thị Lan" in home.text
        # The tokens stay on the server: not in the page, not in a cookie.
        for secret in (session.client.token, session.client.refresh):
            assert secret and secret not in home.text and secret not in r.headers.get("set-cookie", "")

        # Every form of a session carries the session's token; without it, or from another site, refused.
        for data, headers in [({"all": "1"}, {}), ({"all": "1", "csrf": "x" * 43}, {}),
                              ({"all": "1", "csrf": session.csrf}, {"origin": "https://evil.example"})]:
            r = await client.post("/notices/read", data=data, headers=headers)
            assert r.status_code == 403, (data, headers)
            assert "không hợp lệ" in r.text
        r = await client.post("/notices/read", data={"all": "1", "csrf": session.csrf},
                              headers={"origin": "http://testserver"})
        assert r.status_code == 303 and r.headers["location"] == "/notices"

        # Log out: the session is gone here and its refresh token at plans.
        refresh = session.client.refresh
        r = await client.post("/logout", data={"csrf": session.csrf})
        assert r.status_code == 200 and "Đồng chí đã đăng xuất." in r.text
        assert len(app.state.web.sessions) == 0
        assert (await client.get("/")).status_code == 303
        with pytest.raises(Exception, match="unauthenticated"):
            await raw_request(nc, "plans", "refresh_token", {"refresh_token": refresh})


@pytest.mark.timeout(120)
async def test_secure_cookie_and_login_rate_limit(nc, nats_server, tmp_path):
    # Behind TLS (a proxy terminating https): the cookies are Secure.
    async with web(nc, nats_server.url, tmp_path, "https://testserver", cookie_secure=True,
                   login_per_minute=3) as (app, client):
        r = await login(client)
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("congdoan_sid="))
        assert "Secure" in cookie
        client.cookies.clear()
        for _ in range(2):
            assert (await login(client, password="sai-mat-khau-1")).status_code == 401
        r = await login(client)
        assert r.status_code == 429 and "Đăng nhập quá nhiều lần" in r.text


@pytest.mark.timeout(120)
async def test_session_expiry(nc, nats_server, tmp_path):
    async with web(nc, nats_server.url, tmp_path) as (app, client):
        sessions = app.state.web.sessions
        assert (await login(client)).status_code == 303
        s = next(iter(sessions._by_id.values()))

        # Idle past the limit: the next page asks to log in again, and comes back to where it was.
        s.last_seen -= sessions.idle_s + 1
        r = await client.get("/notices")
        assert r.status_code == 200 and "Phiên làm việc đã hết hạn" in r.text and 'value="/notices"' in r.text
        assert len(sessions) == 0

        # Tokens revoked at plans (logged out elsewhere) once the access token needs renewing.
        assert (await login(client)).status_code == 303
        s = next(iter(sessions._by_id.values()))
        await raw_request(nc, "plans", "logout", {"refresh_token": s.client.refresh})
        s.client._expires = 0  # the access token has run out: the next call renews it, and fails
        r = await client.get("/")
        assert r.status_code == 200 and "Phiên làm việc đã hết hạn" in r.text
        assert len(sessions) == 0

        # A live session renews its access token by itself (the refresh token, once).
        assert (await login(client)).status_code == 303
        s = next(iter(sessions._by_id.values()))
        before = s.client.refresh
        s.client._expires = 0
        assert (await client.get("/")).status_code == 200
        assert s.client.refresh != before and len(sessions) == 1


@pytest.mark.timeout(120)
async def test_org_import_shows_the_bad_lines_in_vietnamese(nc, nats_server, tmp_path):
    async with web(nc, nats_server.url, tmp_path) as (app, client):
        assert (await login(client)).status_code == 303  # lan chairs u1: she administers it
        page = await client.get("/org")
        assert page.status_code == 200 and "Nhập đơn vị từ tệp CSV" in page.text
        token = csrf_of(page.text)
        bad = "code,name,kind,parent_code\nG1,Công đoàn cơ sở G1,grassroots_union,U1\nG2,,grassroots_union,U1\n" \
              "G3,Công đoàn cơ sở G3,grassroots_union,KHONG_CO\n"
        r = await client.post("/org/import", data={"csrf": token, "csv": bad, "effective_from": "2026-01-01"})
        assert r.status_code == 422 and "không đơn vị nào được nhập" in r.text
        assert "dòng 3: name" in r.text and "Thiếu tên đơn vị." in r.text
        assert "dòng 4: parent_code" in r.text and "KHONG_CO không có trong tệp và chưa được đăng ký" in r.text
        good = "code,name,kind,parent_code\nG1,Công đoàn cơ sở G1,grassroots_union,U1\n"
        r = await client.post("/org/import", files={"file": ("units.csv", good.encode("utf-8-sig"), "text/csv")},
                              data={"csrf": token, "effective_from": "2026-01-01"})
        assert r.status_code == 303
        page = await client.get("/org")
        assert "Đã nhập 1 đơn vị mới" in page.text and "Công đoàn cơ sở G1" in page.text


@pytest.mark.timeout(120)
async def test_notice_preferences(nc, nats_server, tmp_path):
    async with web(nc, nats_server.url, tmp_path) as (app, client):
        assert (await login(client)).status_code == 303
        page = await client.get("/notices/preferences")
        token = csrf_of(page.text)
        r = await client.post("/notices/preferences", data={"csrf": token, "email": "digest",
                                                             "muted": ["plan_issued", "nope"]})
        assert r.status_code == 303
        page = await client.get("/notices/preferences")
        assert "Đã lưu cách nhận thông báo." in page.text
        assert 'value="digest" checked' in page.text and 'value="plan_issued" checked' in page.text
        # A webhook to a private address over http is refused at its field, what was typed kept.
        r = await client.post("/notices/preferences", data={"csrf": token, "email": "auto",
                                                             "webhook_url": "http://127.0.0.1:9/hook"})
        assert r.status_code == 422 and 'class="invalid"' in r.text and "http://127.0.0.1:9/hook" in r.text


@pytest.mark.timeout(120)
async def test_a_plan_drafted_edited_and_issued_through_the_pages(nc, nats_server, tmp_path):
    import html as h

    async with web(nc, nats_server.url, tmp_path) as (app, client):
        assert (await login(client)).status_code == 303  # lan chairs u1
        page = await client.get("/plans/new")
        assert page.status_code == 200 and "Dự thảo kế hoạch" in page.text
        text = h.unescape(re.search(r'<textarea name="document" rows="24">(.*?)</textarea>', page.text, re.S).group(1))
        r = await client.post("/plans/new", data={"csrf": csrf_of(page.text), "document": "{không phải JSON"})
        assert r.status_code == 422 and "không đúng định dạng JSON" in r.text
        r = await client.post("/plans/new", data={"csrf": csrf_of(page.text), "document": text})
        assert r.status_code == 303
        plan_url = r.headers["location"]
        page = await client.get(plan_url)
        assert "Dự thảo" in page.text and "Ban hành kế hoạch" in page.text
        add = h.unescape(re.search(r'href="([^"]+/items/I\.1\?section=I)"', page.text).group(1))
        form = await client.get(add)
        party = h.unescape(re.search(r'name="party" value="([^"]+)"', form.text).group(1))
        r = await client.post(add.split("?")[0], data={"csrf": csrf_of(form.text), "section": "I", "content": "",
                                                       "action": "save"})
        assert r.status_code == 422 and "Cần ghi nội dung." in r.text
        r = await client.post(add.split("?")[0], data={
            "csrf": csrf_of(form.text), "section": "I", "content": "Tổ chức hội nghị quán triệt kế hoạch.",
            "party": party, "timing_text": "trước ngày 30/11 hằng năm", "output": "conference", "action": "save"})
        assert r.status_code == 303
        page = await client.get(plan_url)
        assert "Tổ chức hội nghị quán triệt kế hoạch." in page.text and "trước ngày 30/11 hằng năm" in page.text
        r = await client.post(plan_url + "/issue", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 303
        page = await client.get(plan_url)
        assert "Đã ban hành kế hoạch" in page.text and "Đã ban hành" in page.text


async def _person(nc: Any, person_id: str, name: str, roles: list[str], unit_id: str = "u1",
                  password: str | None = None, email: str | None = None) -> None:
    h, r = await call(nc, api("plans", "register_person"), {"person_id": person_id, "unit_id": unit_id,
                                                            "full_name": name, "roles": roles, "email": email})
    assert "Nats-Service-Error" not in h, r
    if password:
        loader = await ApiClient.for_service(nc, "loader", loader_secret())
        await raw_request(nc, "plans", "set_login", {"person_id": person_id, "username": person_id,
                                                     "password": password, "must_change_password": False},
                          token=loader.token)


def _visible(html_text: str) -> str:
    """The page's text without its technical details (<code>), for tests.texts' checker."""
    return re.sub(r"<code\b.*?</code>", " ", html_text, flags=re.S)


@pytest.mark.timeout(150)
async def test_org_login_administration(nc, nats_server, tmp_path, capfd):
    from tests.texts import problems

    async with web(nc, nats_server.url, tmp_path) as (app, client):
        await _person(nc, "minh", "Trần Văn Minh", ["member"], email="Tran.Minh@example.org")
        await _person(nc, "binh", "Lê Văn Bình", ["cadre"], password=PASSWORD)

        # A cadre who does not administer the unit: no login links, no page, and a forged POST refused.
        assert (await login(client, "binh")).status_code == 303
        page = await client.get("/org")
        assert page.status_code == 200 and "Trần Văn Minh" in page.text
        assert "Tài khoản đăng nhập" not in page.text and "/login?unit=" not in page.text
        r = await client.get("/org/people/minh/login?unit=u1")
        assert r.status_code == 403 and "Đồng chí không được quản trị tài khoản đăng nhập" in r.text
        r = await client.post("/org/people/minh/login?unit=u1", data={"csrf": csrf_of(page.text), "username": "minh"})
        assert r.status_code == 403 and "Đồng chí không được quản trị tổ chức, con người và tài khoản" in r.text, \
            re.findall(r"flash error[^>]*>([^<]*)", r.text)
        assert "Mật khẩu tạm thời:" not in r.text
        r = await client.post("/org/people/minh/login?unit=u1", data={"username": "minh"})  # no CSRF token
        assert r.status_code == 403 and "Biểu mẫu đã hết hạn" in r.text
        await client.post("/logout", data={"csrf": csrf_of(page.text)})

        # The chair of u1 administers it: minh has no login; she gives him one.
        assert (await login(client)).status_code == 303
        page = await client.get("/org")
        assert 'href="/org/people/minh/login?unit=u1"' in page.text
        page = await client.get("/org/people/minh/login?unit=u1")
        assert page.status_code == 200 and "Chưa có tài khoản đăng nhập." in page.text
        assert 'name="username" value="tran.minh"' in page.text  # from the e-mail
        assert problems(_visible(page.text), is_html=True) == []
        token = csrf_of(page.text)
        # A user name the service refuses, shown at its field; one taken by someone else too.
        r = await client.post("/org/people/minh/login?unit=u1", data={"csrf": token, "username": "tr ần"})
        assert r.status_code == 422 and 'class="invalid"' in r.text and "chữ không dấu" in r.text
        assert "Mật khẩu tạm thời:" not in r.text
        r = await client.post("/org/people/minh/login?unit=u1", data={"csrf": token, "username": "binh"})
        assert r.status_code == 409 and "Tên đăng nhập binh đã có người dùng." in r.text and 'class="invalid"' in r.text

        r = await client.post("/org/people/minh/login?unit=u1", data={"csrf": token, "username": "minh"})
        assert r.status_code == 200 and "no-store" in r.headers["cache-control"]
        temporary = re.search(r'<code id="temporary-password">([^<]+)</code>', r.text).group(1)
        assert len(temporary) >= 10 and temporary not in str(r.url) and "location" not in r.headers
        assert "Tên đăng nhập</dt><dd>minh" in r.text and "phải đổi khi đăng nhập lần tới" in r.text
        assert "Chưa đăng nhập lần nào" in r.text
        assert problems(_visible(r.text), is_html=True) == []
        # Shown once: the page, reloaded, has the login but not the password.
        page = await client.get("/org/people/minh/login?unit=u1")
        assert temporary not in page.text and "Tên đăng nhập</dt><dd>minh" in page.text

        # minh must change it at his first login, then logs in with his own.
        other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
        async with other:
            r = await login(other, "minh", temporary)
            assert r.status_code == 303 and r.headers["location"].startswith("/password?required=1")
            form = await other.get(r.headers["location"])
            r = await other.post("/password", data={"csrf": csrf_of(form.text), "username": "minh",
                                                    "current_password": temporary, "new_password": "Sen-hong-no-2026",
                                                    "new_password2": "Sen-hong-no-2026"})
            assert r.status_code in (200, 303), r.text[:2000]
            assert (await login(other, "minh", "Sen-hong-no-2026")).status_code == 303
        page = await client.get("/org/people/minh/login?unit=u1")
        assert "Do người dùng tự đặt" in page.text and "Chưa đăng nhập lần nào" not in page.text
        assert re.search(r"Lần đăng nhập gần nhất</dt><dd>\d\d/\d\d/\d{4} \d\d:\d\d</dd>", page.text)
    out, err = capfd.readouterr()
    assert temporary not in out and temporary not in err  # never logged, by the web app or the services


@pytest.mark.timeout(180)
async def test_awards_open_round_and_quotas(nc, nats_server, tmp_path):
    import html as h

    from tests.texts import problems

    async with web(nc, nats_server.url, tmp_path, services=("plans", "reports", "notify", "awards")) as (app, client):
        for uid, name in [("g1", "Công đoàn cơ sở Công ty May Nhơn Hòa"), ("g2", "Công đoàn cơ sở Trường THPT số 1")]:
            h_, r = await call(nc, api("plans", "register_unit"), {
                "unit_id": uid, "code": uid.upper(), "name": name, "kind": "grassroots_union", "parent_id": "u1",
                "effective_from": "2020-01-01"}, as_=LOADER)
            assert "Nats-Service-Error" not in h_, r
        await _person(nc, "binh", "Lê Văn Bình", ["cadre"], password=PASSWORD)

        async def awards_knows(person: str) -> bool:
            h_, r = await call(nc, api("awards", "list_rounds"), {}, as_=person)
            return "Nats-Service-Error" not in h_
        await wait_until(lambda: awards_knows("binh"), timeout=20, what="awards to project the directory")
        today = app.state.web.clock.today()
        opens, closes = today.isoformat(), (today + timedelta(days=30)).isoformat()

        # A cadre (not a leader) is not offered the form, and a forged POST is refused by awards.
        assert (await login(client, "binh")).status_code == 303
        page = await client.get("/awards")
        assert page.status_code == 200 and "Mở đợt khen thưởng" not in page.text
        binh_csrf = csrf_of(page.text)
        r = await client.post("/awards/rounds", data={"csrf": binh_csrf, "name": "Đợt giả", "opens_on": opens,
                                                      "closes_on": closes, "forms": ["giay_khen_ldld_tinh"]})
        assert r.status_code == 403 and "Đồng chí không được ban hành văn bản của đơn vị này" in r.text
        await client.post("/logout", data={"csrf": binh_csrf})

        # The chair of u1 opens a round with forms of the catalogue.
        assert (await login(client)).status_code == 303
        page = await client.get("/awards")
        assert "Mở đợt khen thưởng của Đơn vị u1" in page.text
        forms = re.findall(r'name="forms" value="([^"]+)"( checked)?> ([^<]+)</label>', page.text)
        assert forms and all(name.strip() for _, _, name in forms)
        checked = [code for code, on, _ in forms if on]
        assert checked  # the forms an upper-level union grants, chosen by default
        token = csrf_of(page.text)
        data = {"csrf": token, "attempt": "round-web-1", "name": "Khen thưởng Tháng Công nhân", "opens_on": opens,
                "closes_on": today.isoformat(), "forms": checked, "require_report_accepted": "1",
                "min_rating": "good", "collective_categories": "Tập thể lao động xuất sắc\n"}
        r = await client.post("/awards/rounds", data={**data, "closes_on": "", "forms": []})
        assert r.status_code == 422 and r.text.count('class="field-error"') >= 2
        assert "Cần chọn ít nhất một hình thức khen thưởng." in r.text and "Khen thưởng Tháng Công nhân" in r.text
        r = await client.post("/awards/rounds", data={**data, "opens_on": closes})  # closes before it opens
        assert r.status_code == 422 and "trước ngày bắt đầu" in h.unescape(r.text) and 'class="invalid"' in r.text
        assert problems(r.text.split("<main>")[1].split("</main>")[0], is_html=True) == []
        r = await client.post("/awards/rounds", data={**data, "closes_on": closes})
        assert r.status_code == 303 and r.headers["location"] == "/awards/rounds/round-web-1"
        page = await client.get("/awards/rounds/round-web-1")
        assert "Đã mở đợt khen thưởng “Khen thưởng Tháng Công nhân”" in h.unescape(page.text)
        assert f"nhận hồ sơ {today:%d/%m/%Y}" in page.text and "Lưu chỉ tiêu" in page.text
        assert 'name="q_g1"' in page.text and "Công đoàn cơ sở Công ty May Nhơn Hòa" in page.text
        body = page.text.split("<main>")[1].split("</main>")[0]
        assert problems(body, is_html=True) == [], problems(body, is_html=True)

        # Quotas: a bad number at its unit, then saved; a blank removes the quota again.
        token = csrf_of(page.text)
        r = await client.post("/awards/rounds/round-web-1/quotas", data={"csrf": token, "q_g1": "hai", "q_g2": ""})
        assert r.status_code == 422 and "Chỉ tiêu là số nguyên, không âm" in r.text and 'value="hai"' in r.text
        r = await client.post("/awards/rounds/round-web-1/quotas", data={"csrf": token, "q_g1": "2", "q_g2": "1"})
        assert r.status_code == 303
        got = await raw_request(nc, "awards", "get_round", {"round_id": "round-web-1"},
                                token=(await ApiClient.for_service(nc, "loader", loader_secret())).token)
        assert {q["unit_id"]: q["quota"] for q in got["quotas"]} == {"g1": 2, "g2": 1}
        page = await client.get("/awards/rounds/round-web-1")
        assert "Đã lưu chỉ tiêu của 2 đơn vị." in page.text and 'name="q_g1" inputmode="numeric" size="4" value="2"' in page.text
        r = await client.post("/awards/rounds/round-web-1/quotas", data={"csrf": token, "q_g1": "2", "q_g2": ""})
        assert r.status_code == 303
        page = await client.get("/awards/rounds/round-web-1")
        assert 'name="q_g2" inputmode="numeric" size="4" value=""' in page.text
        await client.post("/logout", data={"csrf": token})

        # The cadre sees the quotas by unit name, without the form; a forged POST is refused by awards.
        assert (await login(client, "binh")).status_code == 303
        page = await client.get("/awards/rounds/round-web-1")
        assert page.status_code == 200 and "Lưu chỉ tiêu" not in page.text and 'name="q_g1"' not in page.text
        assert "Công đoàn cơ sở Công ty May Nhơn Hòa" in page.text
        r = await client.post("/awards/rounds/round-web-1/quotas", data={"csrf": csrf_of(page.text), "q_g1": "9"})
        assert r.status_code == 403 and "Đồng chí không được xét, quyết định khen thưởng của đơn vị này" in r.text


@pytest.mark.timeout(180)
async def test_delivery_log(nc, nats_server, tmp_path, monkeypatch):
    """E-mails really sent (an SMTP catcher) and really refused (a rejected address) show in the
    person's log with their dates; another person's log does not show them."""
    from services.notify.mailcatcher import CatcherServer, MailStore
    from tests.integration.test_notify import FAST
    from tests.texts import problems

    store = MailStore(reject=["sai.dia.chi@example.org"])
    smtp = CatcherServer(store, port=0)
    await smtp.start()
    for k, v in FAST.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("CONGDOAN_NOTIFY_SMTP_URL", smtp.url)
    try:
        async with web(nc, nats_server.url, tmp_path, services=("plans", "reports", "notify", "awards")) as (app, client):
            await _person(nc, "hung", "Nguyễn Mạnh Hùng", ["chairperson"], unit_id="prov")
            await _person(nc, "binh", "Lê Văn Bình", ["cadre"], password=PASSWORD)

            async def known(service: str, endpoint: str, person: str) -> bool:
                h_, _ = await call(nc, api(service, endpoint), {}, as_=person)
                return "Nats-Service-Error" not in h_
            await wait_until(lambda: known("awards", "list_rounds", "hung"), timeout=20, what="awards to know hung")
            await wait_until(lambda: known("notify", "get_preferences", "binh"), timeout=20, what="notify to know binh")

            async def lan_mail(address: str) -> None:
                h_, r = await call(nc, api("notify", "set_preferences"), {"email": "immediate", "email_address": address},
                                   as_="lan")
                assert "Nats-Service-Error" not in h_, r

            today = app.state.web.clock.today()

            async def a_round(n: int) -> None:  # the province opens a round: lan, chairing u1 below it, is told
                h_, r = await call(nc, api("awards", "open_round"), {
                    "round_id": f"round-{n}", "name": f"Đợt khen thưởng số {n}", "issuer_unit_id": "prov",
                    "opens_on": today.isoformat(), "closes_on": (today + timedelta(days=20)).isoformat()}, as_="hung")
                assert "Nats-Service-Error" not in h_, r

            async def log_of(status: str | None = None) -> list[dict[str, Any]]:
                h_, r = await call(nc, api("notify", "delivery_log"), {"status": status} if status else {}, as_="lan")
                assert "Nats-Service-Error" not in h_, r
                return list(r["items"])

            await lan_mail("lan.nguyen@example.org")
            await a_round(1)
            await wait_until(lambda: _has(log_of("sent"), 1), timeout=30, what="the first e-mail sent")
            await lan_mail("sai.dia.chi@example.org")
            await a_round(2)
            await wait_until(lambda: _has(log_of("failed"), 1), timeout=30, what="the second e-mail refused")
            assert len(store.messages) == 1

            assert (await login(client)).status_code == 303
            page = await client.get("/notices")
            assert 'href="/notices/deliveries"' in page.text
            page = await client.get("/notices/deliveries")
            assert page.status_code == 200
            assert 'href="/notices/deliveries?status=failed"' in page.text and 'href="/notices/deliveries"' in page.text
            rows = re.findall(r'<tr class="delivery (\w+)">(.*?)</tr>', page.text, re.S)
            assert [st for st, _ in rows] == ["failed", "sent"]  # newest first
            failed, sent = rows[0][1], rows[1][1]
            assert "sai.dia.chi@example.org" in failed and "Không gửi được" in failed and "Chi tiết kỹ thuật" in failed
            assert "lan.nguyen@example.org" in sent and "Đã gửi" in sent and "Mở đợt khen thưởng" in sent
            stamp = r"\d\d/\d\d/\d{4} \d\d:\d\d"
            assert re.search(rf"<td>{stamp}</td>", sent) and re.search(rf"lúc {stamp}", sent)
            body = _visible(page.text.split("<main>")[1].split("</main>")[0])
            assert problems(body, is_html=True) == [], problems(body, is_html=True)
            # By status, and by channel.
            page = await client.get("/notices/deliveries?status=failed")
            assert re.findall(r'<tr class="delivery (\w+)">', page.text) == ["failed"]
            page = await client.get("/notices/deliveries?status=pending")
            assert '<tr class="delivery' not in page.text and "Chưa có thư điện tử hay webhook nào ở mục này." in page.text
            page = await client.get("/notices/deliveries?channel=webhook")
            assert '<tr class="delivery' not in page.text
            await client.post("/logout", data={"csrf": csrf_of(page.text)})

            # Each person sees their own log only.
            assert (await login(client, "binh")).status_code == 303
            page = await client.get("/notices/deliveries")
            assert page.status_code == 200 and "lan.nguyen@example.org" not in page.text
            assert "Chưa có thư điện tử hay webhook nào." in page.text
    finally:
        await smtp.stop()


async def _has(items: Any, n: int) -> bool:
    return len(await items) >= n


@pytest.mark.timeout(120)
async def test_a_page_request_starts_the_trace_of_the_requests_it_makes(nc, nats_server, tmp_path, spans):
    """With tracing on, a page is a server span named by its route, and the requests the page
    makes to the services are its children, down to the services' own server spans."""
    async with web(nc, nats_server.url, tmp_path) as (_, client):
        assert (await login(client)).status_code == 303
        spans.clear()
        assert (await client.get("/reports")).status_code == 200
        assert (await client.get("/static/app.css")).status_code == 200
    found = spans.get_finished_spans()
    page = [s for s in found if s.name == "GET /reports"]
    assert len(page) == 1, [s.name for s in found]
    root = page[0]
    assert root.parent is None and root.attributes["http.response.status_code"] == 200
    calls = [s for s in found if s.parent is not None and s.parent.span_id == root.context.span_id]
    assert calls and all(s.name.startswith("congdoan-") for s in calls), [s.name for s in calls]
    served = [s for s in found if s.parent is not None and s.parent.span_id in {c.context.span_id for c in calls}]
    assert served and {s.context.trace_id for s in served} == {root.context.trace_id}
    assert not [s for s in found if "static" in s.name]  # static files are not traced
