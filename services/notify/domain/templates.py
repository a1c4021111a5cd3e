"""Vietnamese texts of notifications (dates as dd/mm/yyyy, Asia/Ho_Chi_Minh)."""

from __future__ import annotations

from datetime import date, datetime


def vn_date(d: date | datetime) -> str:
    return d.strftime("%d/%m/%Y")


def report_submitted(unit_name: str, period: str, at: datetime, on_time: bool, revision: int) -> tuple[str, str]:
    verb = "gửi lại" if revision > 1 else "gửi"
    title = f"{unit_name} đã {verb} báo cáo kỳ {period}"
    body = (f"{unit_name} đã {verb} báo cáo kết quả thực hiện kỳ {period} lúc {at.strftime('%H:%M')} ngày {vn_date(at)}"
            + ("." if on_time else " (trễ hạn).") + " Đề nghị xem xét, tiếp nhận.")
    return title, body
