"""How things read for a Vietnamese cadre: dates dd/mm/yyyy in Asia/Ho_Chi_Minh, labels of the
services' English codes. Pure functions, used as Jinja2 filters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

UNIT_KINDS = {
    "provincial_federation": "LĐLĐ tỉnh",
    "department": "Ban, văn phòng",
    "affiliated_unit": "Đơn vị trực thuộc",
    "upper_level_union": "Công đoàn cấp trên cơ sở",
    "grassroots_union": "Công đoàn cơ sở",
    "national_federation": "Tổng LĐLĐ Việt Nam",
    "external_body": "Cơ quan ngoài hệ thống",
}
ROLES = {
    "chairperson": "Chủ tịch",
    "executive_member": "Ủy viên BCH",
    "head_of_unit": "Người đứng đầu",
    "cadre": "Cán bộ",
    "member": "Đoàn viên",
    "administrator": "Quản trị viên",
}
TASK_STATUS = {"open": "Chưa thực hiện", "in_progress": "Đang thực hiện", "done": "Đã hoàn thành"}
TASK_CATEGORY = {
    "done_on_time": "Hoàn thành đúng hạn",
    "done_late": "Hoàn thành trễ hạn",
    "in_progress": "Đang thực hiện",
    "overdue": "Quá hạn",
    "open": "Chưa đến hạn",
}
REPORT_STATUS = {
    None: "Chưa lập",
    "missing": "Chưa lập",
    "draft": "Bản nháp",
    "submitted": "Đã gửi, chờ duyệt",
    "accepted": "Đã được tiếp nhận",
    "returned": "Bị trả lại, cần sửa",
}
OWN_STATUS = {
    "on_time": "Đúng hạn", "late": "Trễ hạn", "returned": "Bị trả lại", "pending": "Chờ duyệt",
    "missing": "Chưa gửi", None: "—",
}
MISSING_REASON = {"not_submitted": "Chưa gửi", "returned": "Bị trả lại, chưa gửi lại", "pending": "Chờ duyệt"}
PLAN_STATUS = {"draft": "Dự thảo", "issued": "Đã ban hành", "closed": "Đã kết thúc"}
OUTPUT = {
    "plan": "Kế hoạch", "report": "Báo cáo", "conference": "Hội nghị", "regulation": "Quy chế, quy định",
    "guidance": "Hướng dẫn", "posts": "Tin, bài", "award_round": "Khen thưởng", "individual_plan": "Kế hoạch cá nhân",
    "activity": "Hoạt động thường xuyên",
}
RATING = {
    "excellent": "Hoàn thành xuất sắc nhiệm vụ",
    "good": "Hoàn thành tốt nhiệm vụ",
    "done": "Hoàn thành nhiệm vụ",
    "not_done": "Không hoàn thành nhiệm vụ",
}
EMAIL_MODE = {
    "auto": "Tự động (việc cần làm gửi ngay, việc theo dõi gộp vào thư hằng ngày)",
    "immediate": "Gửi ngay từng thông báo",
    "digest": "Gộp vào một thư mỗi ngày",
    "off": "Không gửi thư",
}
NOTIFICATION_KIND = {
    "plan_issued": "Kế hoạch được ban hành",
    "tasks_assigned": "Được giao nhiệm vụ",
    "deadline_approaching": "Sắp đến hạn nhiệm vụ",
    "deadline_missed": "Quá hạn nhiệm vụ",
    "implementation_plan_registered": "Đơn vị đăng ký kế hoạch thực hiện",
    "report_submitted": "Có báo cáo gửi đến",
    "report_returned": "Báo cáo bị trả lại",
    "report_accepted": "Báo cáo được tiếp nhận",
    "report_deadline_approaching": "Sắp đến hạn báo cáo",
    "report_overdue": "Quá hạn báo cáo",
    "award_round_opened": "Mở đợt khen thưởng",
    "nomination_submitted": "Có hồ sơ đề nghị khen thưởng",
    "nomination_decided": "Kết quả xét khen thưởng",
    "award_granted": "Được khen thưởng",
    "nomination_forwarded": "Hồ sơ khen thưởng chờ xét",
    "nomination_returned": "Hồ sơ khen thưởng bị trả lại",
    "nomination_withdrawn": "Hồ sơ khen thưởng được rút",
    "decision_issued": "Quyết định khen thưởng",
    "quotas_changed": "Chỉ tiêu đề nghị khen thưởng",
}
DELIVERY_STATUS = {"sent": "Đã gửi", "pending": "Đang chờ gửi", "failed": "Không gửi được",
                   "queued": "Chờ gửi trong thư tổng hợp hằng ngày", "digested": "Đã gửi trong thư tổng hợp"}
CHANNEL = {"email": "Thư điện tử", "webhook": "Webhook", "inbox": "Hộp thông báo"}
ROUND_STATUS = {"upcoming": "Chưa đến thời gian nhận hồ sơ", "open": "Đang nhận hồ sơ",
                "closed": "Hết hạn nhận hồ sơ, đang xét"}


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(TZ).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    if "T" in text:
        return _as_datetime(text).date()  # type: ignore[union-attr]
    return date.fromisoformat(text[:10])


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return dt.astimezone(TZ) if dt.tzinfo else dt.replace(tzinfo=TZ)


def dmy(value: Any) -> str:
    """dd/mm/yyyy; '' for nothing."""
    d = _as_date(value)
    return f"{d.day:02d}/{d.month:02d}/{d.year}" if d else ""


def dmy_hm(value: Any) -> str:
    """hh:mm dd/mm/yyyy, local time."""
    dt = _as_datetime(value)
    return f"{dt.hour:02d}:{dt.minute:02d} {dt.day:02d}/{dt.month:02d}/{dt.year}" if dt else ""


def dmy_time(value: Any) -> str:
    """dd/mm/yyyy HH:MM, local time (logs: the date first, as a cadre reads a register)."""
    dt = _as_datetime(value)
    return f"{dt.day:02d}/{dt.month:02d}/{dt.year} {dt.hour:02d}:{dt.minute:02d}" if dt else ""


def period(value: str | None) -> str:
    """'2026' → 'năm 2026', '2026-Q4' → 'quý IV/2026', '2026-05' → 'tháng 5/2026'."""
    if not value:
        return ""
    if len(value) == 4:
        return f"năm {value}"
    year, rest = value[:4], value[5:]
    if rest.startswith("Q"):
        return f"quý {['I', 'II', 'III', 'IV'][int(rest[1]) - 1]}/{year}"
    return f"tháng {int(rest)}/{year}"


def titled(name: str | None, value: str | None) -> str:
    """A requirement's name and its period, the period left out when the name already ends with it
    ("… năm 2026 · năm 2026" reads as a mistake)."""
    name, label = (name or "").strip(), period(value)
    if not label or name.endswith(label):
        return name
    return f"{name} · {label}" if name else label


def number(value: Any, decimals: int = 0) -> str:
    """1234567 → '1.234.567'; 12.5 → '12,5' (Vietnamese separators)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and not value.is_integer() or decimals:
        text = f"{float(value):,.{decimals or 1}f}"
    else:
        text = f"{int(value):,}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def label(value: Any, table: dict[Any, str]) -> str:
    return table.get(value, "" if value is None else str(value))


def roles(values: list[str] | None) -> str:
    return ", ".join(ROLES.get(r, r) for r in values or [])


PARTY_DEPARTMENTS = {"BAN_TGNC": "Ban Tuyên giáo - Nữ công", "BAN_TCKT": "Ban Tổ chức - Kiểm tra",
                     "VAN_PHONG": "Văn phòng", "BAN_CSPL": "Ban Chính sách - Pháp luật", "UBKT": "Ủy ban Kiểm tra"}


def party(p: dict[str, Any]) -> str:
    """Who an item falls to, in words."""
    kind = p.get("kind")
    if p.get("name"):
        return str(p["name"])
    if kind == "issuer":
        return "Đơn vị ban hành"
    if kind == "department":
        return PARTY_DEPARTMENTS.get(p.get("code") or "", p.get("code") or "Ban chuyên đề")
    if kind == "units_of_kind":
        return ", ".join(UNIT_KINDS.get(k, k) for k in p.get("unit_kinds") or [])
    if kind == "people_of_role":
        return ", ".join(ROLES.get(r, r) for r in p.get("roles") or [])
    if kind == "standing_committee":
        return "Ban Thường vụ"
    if kind == "party_cell":
        return "Chi bộ"
    if kind == "unit":
        return str(p.get("unit_id") or "")
    return str(kind or "")


FILTERS = {
    "dmy": dmy, "dmy_hm": dmy_hm, "dmy_time": dmy_time, "party": party, "period": period, "titled": titled,
    "number": number, "roles": roles,
    "unit_kind": lambda v: label(v, UNIT_KINDS),
    "task_status": lambda v: label(v, TASK_STATUS),
    "task_category": lambda v: label(v, TASK_CATEGORY),
    "report_status": lambda v: label(v, REPORT_STATUS),
    "own_status": lambda v: label(v, OWN_STATUS),
    "missing_reason": lambda v: label(v, MISSING_REASON),
    "plan_status": lambda v: label(v, PLAN_STATUS),
    "output": lambda v: label(v, OUTPUT),
    "rating": lambda v: label(v, RATING),
    "notification_kind": lambda v: label(v, NOTIFICATION_KIND),
    "round_status": lambda v: label(v, ROUND_STATUS),
    "delivery_status": lambda v: label(v, DELIVERY_STATUS),
    "channel": lambda v: label(v, CHANNEL),
}
