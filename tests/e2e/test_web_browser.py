"""The web front-end in a real browser (Debian's chromium, driven by Playwright) against the real
stack started the way `make run` starts it (nats-server, the four services, the web process):
the year's main path. A grassroots chair logs in, sees the report to send, fills it, is shown
the service's field errors at the fields, fixes them and submits; the receiving upper-level
union, told live, returns it with a comment; the chair, told live, resubmits; it is accepted;
Ban TG-NC of the province sees completeness, consolidates and downloads the DOCX. Screenshots of
the main pages are saved (CONGDOAN_SCREENSHOTS_DIR, else the test's folder).

Skipped, saying why, where no chromium is installed (CI installs it: .ci/run)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
import pytest_asyncio

from contracts.naming import SERVICES
from runtime.client import ApiClient
from runtime.launcher import Stack, free_port
from services.plans.seed.demo import CHAIR_ID, UPPER, demo_hierarchy
from tests.conftest import pin_clock

CHROMIUM = os.environ.get("CONGDOAN_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "Mat-khau-demo-2026"
GRASSROOTS = 12
REQ = "kh-01-kl-tw-ldld-bd:II.3.a:2026"

try:
    from playwright.async_api import async_playwright, expect
except ImportError:  # pragma: no cover - the test extra installs it
    async_playwright = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(async_playwright is None, reason="playwright is not installed (pip install -e '.[test]')"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"no chromium at {CHROMIUM}: apt-get install chromium chromium-driver (CI does)"),
]


@pytest_asyncio.fixture
async def web_stack(tmp_path: Path) -> AsyncIterator[tuple[Stack, dict[str, str]]]:
    """The stack of `make run` on free ports (its own secrets, SQLite), the clock pinned, the demo
    hierarchy loaded (GRASSROOTS grassroots unions) with its logins, and one more login: the chair
    of the upper-level union that receives the first grassroots union's report."""
    ports = {n: free_port() for n in SERVICES}
    ports["web"] = free_port()
    mail_port = free_port()  # the mail catcher of `make run`, so the delivery log has e-mails in it
    s = Stack(data_dir=tmp_path / "var", nats_port=free_port(), http_ports=ports, log_dir=tmp_path / "logs",
              frontends=("web",), env={"CONGDOAN_LOG_LEVEL": "INFO", "CONGDOAN_WEB_SSE_KEEPALIVE_S": "5",
                                       "CONGDOAN_NOTIFY_SMTP_URL": f"smtp://127.0.0.1:{mail_port}"},
              extras={"mailcatcher": [sys.executable, "-m", "services.notify.mailcatcher", "--port", str(mail_port),
                                      "--dir", str(tmp_path / "mail")]})
    s.start_nats()
    operator = await nats.connect(s.nats_url, **s.connect_options("operator"))  # the one user that writes the clock
    try:
        await pin_clock(operator)  # 15/10/2026: the seed plan's 30/11 report is ahead
    finally:
        await operator.close()
    nc = await nats.connect(s.nats_url, **s.connect_options("client"))
    try:
        await asyncio.to_thread(s.start_services, 60)
        from services.plans.cli import load_demo

        loader = await ApiClient.for_service(nc, "loader", Path(s.identities["loader_secret"]).read_text().strip())
        await load_demo(grassroots=GRASSROOTS, api=loader, password=PASSWORD, log=lambda *_: None)
        units, _ = demo_hierarchy(GRASSROOTS)
        chair_unit = next(u for u in units if u.kind == "grassroots_union")
        upper = next(u for u in units if u.code == chair_unit.parent_code)
        assert upper.code in {c for c, _ in UPPER}
        reviewer = f"p-{upper.unit_id}-1"
        await loader.request("plans", "set_login", {"person_id": reviewer, "username": reviewer, "password": PASSWORD,
                                                    "must_change_password": False})
    finally:
        await nc.close()
    people = {"chair": f"p-{chair_unit.unit_id}-1", "unit": chair_unit.unit_id, "unit_name": chair_unit.name,
              "reviewer": reviewer,
              "tgnc": "p-ldld-bd-ban-tgnc-1", "url": f"http://127.0.0.1:{ports['web']}"}
    try:
        yield s, people
    finally:
        codes = s.stop()
        assert all(c == 0 for c in codes.values()), f"unclean exit codes {codes}; logs in {tmp_path / 'logs'}"


@pytest.mark.timeout(240)
async def test_year_main_path_in_a_browser(web_stack, tmp_path):
    stack, who = web_stack
    url = who["url"]
    shots = Path(os.environ.get("CONGDOAN_SCREENSHOTS_DIR") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            await _scenario(browser, url, who, shots)
            await _administration(browser, url, who, shots)
        finally:
            await browser.close()


async def _login(browser: Any, url: str, username: str, **kw: Any) -> Any:
    context = await browser.new_context(locale="vi-VN", viewport=kw.pop("viewport", {"width": 1200, "height": 900}),
                                        accept_downloads=True, **kw)
    context.set_default_timeout(20_000)
    page = await context.new_page()
    await page.goto(url + "/")
    await expect(page.locator("h1")).to_have_text("Đăng nhập")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_have_text("Việc cần làm")
    return page


async def _toast(page: Any, text: str) -> Any:
    """A notice that arrived live (no reload): the toast, with its link."""
    toast = page.locator(".toast").filter(has_text=text).last
    await expect(toast).to_be_visible(timeout=20_000)
    return toast


async def _scenario(browser: Any, url: str, who: dict[str, str], shots: Path) -> None:
    # The chair logs in and sees the report the unit must send.
    chair = await _login(browser, url, who["chair"])
    duty = chair.locator("section", has_text="Báo cáo đơn vị cần gửi").locator("li").first
    await expect(duty).to_contain_text("hạn 30/11/2026")
    await expect(duty).to_contain_text("Chưa lập")
    await chair.screenshot(path=shots / "01-viec-can-lam.png")

    # The receiving upper-level union's chair has the notices open (a live stream).
    reviewer = await _login(browser, url, who["reviewer"])
    await reviewer.goto(url + "/notices")

    # The form, drawn from the form definition; two mistakes: a rule (more cadres with a plan
    # than cadres) and a compulsory text left empty. The service's errors show at the fields.
    await duty.locator("a").first.click()
    await expect(chair.locator("h1")).to_contain_text("Báo cáo kết quả thực hiện Kết luận số 01-KL/TW")
    figures = {"study_sessions": "12", "participants": "1.250", "cadres_total": "9", "cadres_with_plans": "11",
               "members_total": "320", "members_with_plans": "280", "exemplary_models": "2",
               "commended_collectives": "1", "commended_individuals": "4", "news_posts": "15"}
    for key, value in figures.items():
        await chair.fill(f"[name=v_{key}]", value)
    await chair.fill("[name=v_results]", "Tổ chức học tập chuyên đề năm 2026 cho toàn thể đoàn viên.")
    await chair.fill("[name=v_next_year_tasks]", "Tiếp tục học tập và làm theo; nhân rộng điển hình.")
    await chair.click("button[value=submit]")
    await expect(chair.locator("[role=alert]").first).to_contain_text("Báo cáo chưa hợp lệ")
    await expect(chair.locator("#f-cadres_with_plans")).to_have_class("invalid")
    await expect(chair.locator("#f-cadres_with_plans .field-error")).to_contain_text("phải")
    await expect(chair.locator("#f-limitations .field-error")).to_contain_text("Thiếu trường bắt buộc")
    await expect(chair.locator("[name=v_participants]")).to_have_value("1250")  # what was typed is kept
    await chair.screenshot(path=shots / "02-bao-cao-loi.png", full_page=True)

    await chair.fill("[name=v_cadres_with_plans]", "8")
    await chair.fill("[name=v_limitations]", "Một số đoàn viên ở xa chưa tham gia đầy đủ.")
    await chair.click("button[value=submit]")
    await expect(chair.locator(".flash.ok")).to_contain_text("Đã gửi báo cáo (lần 1, đúng hạn)")
    await expect(chair.locator(".status").first).to_have_text("Đã gửi, chờ duyệt")

    # The reviewer is told without reloading, opens the report and returns it with a comment.
    toast = await _toast(reviewer, "Có báo cáo gửi đến")
    await expect(reviewer.locator("#notice-list li.live").first).to_contain_text("đã gửi báo cáo")
    await expect(reviewer.locator("#unread-count")).not_to_have_text("0")
    await reviewer.screenshot(path=shots / "03-thong-bao-truc-tiep.png")
    await toast.locator("a").click()
    await expect(reviewer.locator(".status").first).to_have_text("Đã gửi, chờ duyệt")
    await reviewer.fill("form[action$='/return'] textarea[name=comment]", "Đề nghị bổ sung số đoàn viên ở xa.")
    await reviewer.click("form[action$='/return'] button")
    await expect(reviewer.locator(".flash.ok")).to_contain_text("Đã trả lại báo cáo")

    # The chair is told live, sees the comment, resubmits (the figures are kept).
    toast = await _toast(chair, "Báo cáo bị trả lại")
    await toast.locator("a").click()
    await expect(chair.locator(".flash.error").first).to_contain_text("Đề nghị bổ sung số đoàn viên ở xa.")
    await chair.locator("a.button", has_text="Sửa và gửi lại").click()
    await expect(chair.locator("[name=v_cadres_with_plans]")).to_have_value("8")
    await chair.fill("[name=v_limitations]", "Một số đoàn viên ở xa chưa tham gia; đã bổ sung 20 đoàn viên.")
    await chair.click("button[value=submit]")
    await expect(chair.locator(".flash.ok")).to_contain_text("Đã gửi báo cáo (lần 2, đúng hạn)")

    # The reviewer (still on the report's page), told again, accepts; the chair is told.
    toast = await _toast(reviewer, "Có báo cáo gửi đến")
    await toast.locator("a").click()
    await reviewer.click("form[action$='/accept'] button")
    await expect(reviewer.locator(".flash.ok")).to_contain_text("Đã tiếp nhận báo cáo")
    await _toast(chair, "Báo cáo được tiếp nhận")
    await reviewer.goto(url + "/reports")
    await reviewer.locator("a", has_text="Báo cáo nhận được").first.click()
    await expect(reviewer.locator("li", has_text=who["unit_name"]).locator(".status")).to_have_text("Đã được tiếp nhận")

    # Ban TG-NC of the province: completeness per upper-level union, consolidation, the DOCX.
    tgnc = await _login(browser, url, who["tgnc"])
    await tgnc.goto(url + "/reports")
    await tgnc.locator("a", has_text="Tình hình gửi báo cáo").first.click()
    await expect(tgnc.locator("h1")).to_have_text("Tình hình gửi báo cáo")
    await expect(tgnc.locator(".figure").first).to_contain_text("Phải báo cáo")
    await expect(tgnc.locator("table").first).to_contain_text("Liên đoàn Lao động")
    await tgnc.screenshot(path=shots / "04-tinh-hinh-bao-cao.png", full_page=True)
    await tgnc.fill("[name=number]", "21/BC-LĐLĐ")
    await tgnc.click("form[action$='/consolidate'] button")
    await expect(tgnc.locator("h1")).to_have_text("Đã tổng hợp báo cáo")
    await tgnc.screenshot(path=shots / "05-tong-hop.png")
    async with tgnc.expect_download() as info:
        await tgnc.locator("a", has_text="DOCX").click()
    download = await info.value
    saved = shots / "bao-cao-tong-hop.docx"
    await download.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK" and download.suggested_filename.endswith(".docx")

    # On a phone.
    phone = await _login(browser, url, who["chair"], viewport={"width": 390, "height": 844}, is_mobile=True,
                         has_touch=True)
    await phone.goto(url + "/reports")
    await expect(phone.locator(".status").first).to_have_text("Đã được tiếp nhận")
    await phone.screenshot(path=shots / "06-dien-thoai.png", full_page=True)
    if os.environ.get("CONGDOAN_SCREENSHOTS_DIR") is None:
        shutil.rmtree(shots / "unused", ignore_errors=True)


async def _administration(browser: Any, url: str, who: dict[str, str], shots: Path) -> None:
    """The administration pages: a chair resets a member's login (the temporary password shown
    once), the member logs in with it and must choose a new one; the province's chair opens an
    awards round and sets a quota; the chair reads the log of e-mails sent to them."""
    chair = await _login(browser, url, who["chair"])
    await chair.goto(url + "/org")
    member = chair.locator("li.row", has_text="Đoàn viên").first
    await member.locator("a", has_text="Tài khoản đăng nhập").click()
    await expect(chair.locator("h1")).to_have_text("Tài khoản đăng nhập")
    await expect(chair.locator("dl.facts")).to_contain_text("Do người dùng tự đặt")  # the demo gave one
    username = await chair.locator("input[name=username]").input_value()
    chair.once("dialog", lambda d: asyncio.ensure_future(d.accept()))  # the "are you sure" confirm
    await chair.click("form[action*='/login'] button")
    temporary = (await chair.locator("#temporary-password").text_content() or "").strip()
    assert len(temporary) >= 12, temporary
    await expect(chair.locator("dl.facts")).to_contain_text("Mật khẩu tạm thời, phải đổi khi đăng nhập lần tới")
    await chair.screenshot(path=shots / "08-cap-tai-khoan.png", full_page=True)

    context = await browser.new_context(locale="vi-VN", viewport={"width": 1200, "height": 900})
    context.set_default_timeout(20_000)
    newcomer = await context.new_page()
    await newcomer.goto(url + "/")
    await newcomer.fill("input[name=username]", username)
    await newcomer.fill("input[name=password]", temporary)
    await newcomer.click("button[type=submit]")
    await expect(newcomer.locator("h1")).to_have_text("Đổi mật khẩu")
    await context.close()

    # The province's chair opens a round (the clock is pinned at 15/10/2026) and sets a quota.
    leader = await _login(browser, url, CHAIR_ID)
    await leader.goto(url + "/awards")
    await leader.locator("summary", has_text="Mở đợt").click()
    await leader.fill("input[name=name]", "Khen thưởng Tháng Công nhân năm 2027")
    await leader.fill("input[name=opens_on]", "2026-10-20")
    await leader.fill("input[name=closes_on]", "2027-04-30")
    await leader.locator("input[name=forms]").first.check()
    await leader.click("form[action='/awards/rounds'] button")
    await expect(leader.locator(".flash.ok")).to_contain_text("Đã mở đợt khen thưởng")
    await expect(leader.locator(".flash.ok")).to_contain_text("từ 20/10/2026 đến 30/04/2027")
    quota = leader.locator("#quotas input[name^=q_]").first
    await quota.fill("3")
    await leader.click("#quotas button")
    await expect(leader.locator("#quotas input[name^=q_]").first).to_have_value("3")
    await leader.screenshot(path=shots / "09-dot-khen-thuong.png", full_page=True)

    # The chair's log of e-mails: the notices of the year's path above went out by e-mail.
    await chair.goto(url + "/notices/deliveries")
    await expect(chair.locator("h1")).to_have_text("Nhật ký gửi thông báo")
    await expect(chair.locator("tr.delivery").first).to_be_visible()
    await chair.screenshot(path=shots / "10-nhat-ky-gui.png", full_page=True)
