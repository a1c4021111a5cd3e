"""The Vietnamese texts of notifications, from the jinja2 templates beside this module (one
`<kind>.j2` per kind, with a `title` and a `body` block; `email.*.j2` and `digest.*.j2` lay out
e-mails). Dates read dd/mm/yyyy in Asia/Ho_Chi_Minh; output is NFC."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TEMPLATES = Path(__file__).resolve().parent / "templates"
TITLE_MAX = 500

KIND_LABELS = {
    "plan_issued": "Kế hoạch mới",
    "tasks_assigned": "Nhiệm vụ được giao",
    "deadline_approaching": "Nhiệm vụ sắp đến hạn",
    "deadline_missed": "Nhiệm vụ quá hạn",
    "implementation_plan_registered": "Kế hoạch thực hiện của đơn vị",
    "report_submitted": "Báo cáo đã gửi",
    "report_returned": "Báo cáo bị trả lại",
    "report_accepted": "Báo cáo được tiếp nhận",
    "report_reopened": "Báo cáo được mở lại để sửa",
    "report_deadline_approaching": "Báo cáo sắp đến hạn",
    "report_overdue": "Báo cáo quá hạn",
    "award_round_opened": "Đợt khen thưởng",
    "nomination_submitted": "Đề nghị khen thưởng",
    "nomination_decided": "Kết quả xét khen thưởng",
    "award_granted": "Khen thưởng",
    "nomination_forwarded": "Hồ sơ khen thưởng chờ xét",
    "nomination_returned": "Hồ sơ khen thưởng bị trả lại",
    "nomination_withdrawn": "Hồ sơ khen thưởng được rút",
    "decision_issued": "Quyết định khen thưởng",
    "quotas_changed": "Chỉ tiêu đề nghị khen thưởng",
}
RESULTS = {"approved": "được chấp thuận", "rejected": "không được chấp thuận",
           "escalated": "đề nghị cấp trên khen thưởng"}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


@lru_cache(maxsize=4096)
def vn_date(value: date | datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(TZ) if value.tzinfo else value
    return value.strftime("%d/%m/%Y")


def vn_datetime(value: datetime | str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(TZ) if value.tzinfo else value
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


@lru_cache(maxsize=1024)
def vn_period(period: str | None) -> str:
    """'2026' → 'năm 2026', '2026-Q4' → 'quý IV/2026', '2026-05' → 'tháng 5/2026'."""
    if not period:
        return ""
    if m := re.fullmatch(r"(\d{4})", period):
        return f"năm {m.group(1)}"
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", period):
        return f"quý {ROMAN[int(m.group(2))]}/{m.group(1)}"
    if m := re.fullmatch(r"(\d{4})-(\d{2})", period):
        return f"tháng {int(m.group(2))}/{m.group(1)}"
    return f"kỳ {period}"


def report_named(name: str | None, period: str | None, fallback: str = "báo cáo") -> str:
    """'“Báo cáo … năm 2026”' — the period added only when the name does not say it already
    ('“Báo cáo năm” năm 2026', but never '“Báo cáo quý IV/2026” quý IV/2026')."""
    label = vn_period(period)
    if not name:
        return f"{fallback} {label}".strip()
    if not label or label.casefold() in name.casefold():
        return f"“{name}”"
    return f"“{name}” {label}"


def vn_number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


@lru_cache(maxsize=4096)
def short(text: str | None, limit: int = 120) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _env(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=autoescape,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             auto_reload=False)  # templates ship with the code: no stat() per render
    env.filters.update(vn_date=vn_date, vn_datetime=vn_datetime, vn_period=vn_period, vn_number=vn_number,
                       short=short, report_named=report_named, vn_kind=lambda k: KIND_LABELS.get(k, k),
                       vn_result=lambda r: RESULTS.get(r, r))
    return env


@lru_cache(maxsize=2)
def env(autoescape: bool = False) -> jinja2.Environment:
    return _env(autoescape)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _clean_body(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:  # at most one blank line in a row
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


@lru_cache(maxsize=64)
def _template(name: str, autoescape: bool = False) -> jinja2.Template:
    return env(autoescape).get_template(name)


def render_notice(kind: str, context: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of one notification."""
    template = _template(f"{kind}.j2")
    ctx = template.new_context(context, shared=True)  # the context is ours alone: no copy
    title = " ".join("".join(template.blocks["title"](ctx)).split())
    body = _clean_body("".join(template.blocks["body"](ctx)))
    return _nfc(short(title, TITLE_MAX)), _nfc(body)


def render_email(*, recipient_name: str, title: str, body: str, url: str | None) -> tuple[str, str]:
    """(text, html) of one notification's e-mail."""
    ctx = dict(recipient_name=recipient_name, title=title, body=body, url=url)
    text = _template("email.txt.j2").render(ctx)
    html = _template("email.html.j2", True).render(ctx)
    return _nfc(_clean_body(text) + "\n"), _nfc(html)


def render_digest(*, recipient_name: str, subject: str, total: int, by_kind: list[tuple[str, int]],
                  days: list[tuple[date, list[dict[str, Any]]]], omitted: int, inbox_url: str | None) -> tuple[str, str]:
    ctx = dict(recipient_name=recipient_name, subject=subject, total=total, by_kind=by_kind, days=days,
               omitted=omitted, inbox_url=inbox_url)
    text = _template("digest.txt.j2").render(ctx)
    html = _template("digest.html.j2", True).render(ctx)
    return _nfc(_clean_body(text) + "\n"), _nfc(html)


def forwarded_note(unit_names: list[str]) -> str:
    """The line a notice carries when it went up a level: its unit has nobody to tell."""
    names = ", ".join(dict.fromkeys(unit_names))
    return _nfc(f"Thông báo này dành cho {names}; đơn vị chưa có người nhận thông báo nên được chuyển đến đồng chí. "
                "Đề nghị thông tin cho đơn vị và cập nhật người liên hệ của đơn vị trong danh bạ.")


def digest_subject(total: int, first: date, last: date) -> str:
    when = f"ngày {vn_date(first)}" if first == last else f"từ {vn_date(first)} đến {vn_date(last)}"
    return f"Tổng hợp {vn_number(total)} thông báo {when}"
