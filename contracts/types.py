"""Field types shared by events and requests."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema
from pydantic import BaseModel as _BaseModel
from pydantic_core import PydanticCustomError


def nfc(value: str) -> str:
    """Vietnamese text is data: one canonical form (NFC) so that equal names compare equal."""
    return unicodedata.normalize("NFC", value).strip()


# Free text (names, titles, notes): NFC-normalised, bounded.
Text = Annotated[str, AfterValidator(nfc), StringConstraints(min_length=1, max_length=500)]
LongText = Annotated[str, AfterValidator(nfc), StringConstraints(max_length=20_000)]
# Identifiers chosen by clients or minted by services: ASCII, no spaces, bounded.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,99}$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Code = Annotated[str, AfterValidator(nfc), StringConstraints(min_length=1, max_length=64)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
_VN_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def vn_date(value: Any) -> Any:
    """A date as people write it, dd/mm/yyyy (30/11/2026, 1/5/2026), or as programs do (ISO
    2026-11-30, left to pydantic). Replies always carry ISO dates."""
    if isinstance(value, str) and (m := _VN_DATE.match(value)):
        day, month, year = (int(g) for g in m.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise PydanticCustomError("date_parsing", "no such day: {value}", {"value": value.strip()}) from None
    return value


# A date in a request: ISO (2026-11-30) or dd/mm/yyyy (30/11/2026).
Date = Annotated[date, BeforeValidator(vn_date), WithJsonSchema({
    "anyOf": [{"type": "string", "format": "date"},
              {"type": "string", "pattern": r"^\d{1,2}/\d{1,2}/\d{4}$"}],
    "description": "yyyy-mm-dd or dd/mm/yyyy"}, mode="validation")]
# A reporting period, e.g. "2026" (a year) or "2026-Q4" or "2026-12".
Period = Annotated[str, StringConstraints(pattern=r"^\d{4}(-(Q[1-4]|0[1-9]|1[0-2]))?$")]


class Model(_BaseModel):
    """Base of every contract model: unknown fields are refused, values are not coerced loosely."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, frozen=False)


class UnitKind(StrEnum):
    """Kinds of union units (see DOMAIN.md)."""

    PROVINCIAL_FEDERATION = "provincial_federation"  # LĐLĐ tỉnh
    DEPARTMENT = "department"  # Ban TG-NC, Ban Tổ chức - Kiểm tra, Văn phòng…
    AFFILIATED_UNIT = "affiliated_unit"  # đơn vị sự nghiệp trực thuộc
    UPPER_LEVEL_UNION = "upper_level_union"  # công đoàn cấp trên cơ sở
    GRASSROOTS_UNION = "grassroots_union"  # công đoàn cơ sở (CĐCS)
    NATIONAL_FEDERATION = "national_federation"  # Tổng LĐLĐ Việt Nam
    EXTERNAL_BODY = "external_body"  # Ban Tuyên giáo Tỉnh ủy… (recipients only)


class Role(StrEnum):
    CHAIRPERSON = "chairperson"  # Chủ tịch
    EXECUTIVE_MEMBER = "executive_member"  # Ủy viên BCH
    HEAD_OF_UNIT = "head_of_unit"  # người đứng đầu
    CADRE = "cadre"  # cán bộ
    MEMBER = "member"  # đoàn viên
    ADMINISTRATOR = "administrator"  # quản trị viên: units, people and logins of its unit and below


PositiveCount = Annotated[int, Field(ge=0, le=10_000_000)]
# A version or revision number a caller names: positive and within every backend's INTEGER column
# (PostgreSQL's is 32 bits) — a larger one is refused (422), not a database error (500).
MAX_INT32 = 2**31 - 1
Version = Annotated[int, Field(ge=1, le=MAX_INT32)]


class ExportRef(Model):
    """A file a service made (a consolidated report, its tables), kept by that service: fetch it
    with the service's download endpoint (reports: `get_export`), whatever host the client is on."""

    export_id: Id
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,16}$")] = Field(description="docx, xlsx")
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(description="file name to save as")
    media_type: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    size: int = Field(ge=0, description="bytes")
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Output(StrEnum):
    """What a plan item is expected to produce."""

    PLAN = "plan"  # an implementation plan of the unit (kế hoạch)
    REPORT = "report"  # a results report (báo cáo)
    CONFERENCE = "conference"  # hội nghị
    REGULATION = "regulation"  # quy chế, quy định
    GUIDANCE = "guidance"  # hướng dẫn
    POSTS = "posts"  # tin, bài on the website / fanpage
    AWARD_ROUND = "award_round"  # đợt khen thưởng
    INDIVIDUAL_PLAN = "individual_plan"  # kế hoạch cá nhân
    ACTIVITY = "activity"  # ongoing activity, reported on


class TimingKind(StrEnum):
    ONGOING = "ongoing"  # thường xuyên: no due date
    ONCE_BY_DATE = "once_by_date"
    ONCE_BY_MONTH = "once_by_month"  # "tháng 12/2021": by the month's last day
    ONCE_BY_QUARTER = "once_by_quarter"  # "quý IV/2021": by the quarter's last day
    YEARLY_BY_DAY = "yearly_by_day"  # "trước ngày 30/11 hằng năm"
    YEARLY_BY_MONTH = "yearly_by_month"  # "vào tháng 12 hằng năm"
    YEARLY_WINDOW = "yearly_window"  # "Tháng Công nhân" (1/5–31/5, around 19/5)


class Timing(Model):
    """A timing of the seed's vocabulary, as data. Fields used depend on `kind`."""

    kind: TimingKind
    text: str | None = Field(default=None, max_length=300, description="the words of the plan, e.g. 'trước ngày 30/11 hằng năm'")
    year: int | None = Field(default=None, ge=2000, le=2100)
    month: int | None = Field(default=None, ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)
    quarter: int | None = Field(default=None, ge=1, le=4)
    end_month: int | None = Field(default=None, ge=1, le=12)
    end_day: int | None = Field(default=None, ge=1, le=31)


class PartyKind(StrEnum):
    UNIT = "unit"  # a named unit
    DEPARTMENT = "department"  # a department of the issuer, by code (BAN_TGNC…)
    UNITS_OF_KIND = "units_of_kind"  # every unit of these kinds under the issuer
    PEOPLE_OF_ROLE = "people_of_role"  # every person with one of these roles


class ResponsibleParty(Model):
    kind: PartyKind
    unit_id: Id | None = None
    code: Code | None = None
    unit_kinds: list[UnitKind] = Field(default_factory=list, max_length=10)
    roles: list[Role] = Field(default_factory=list, max_length=10)


class Rating(StrEnum):
    """Year-end self-assessment of an individual plan (xếp loại)."""

    EXCELLENT = "excellent"  # Hoàn thành xuất sắc nhiệm vụ
    GOOD = "good"  # Hoàn thành tốt nhiệm vụ
    DONE = "done"  # Hoàn thành nhiệm vụ
    NOT_DONE = "not_done"  # Không hoàn thành nhiệm vụ


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Channel(StrEnum):
    INBOX = "inbox"
    EMAIL = "email"
    WEBHOOK = "webhook"


class NomineeKind(StrEnum):
    COLLECTIVE = "collective"  # tập thể (a unit)
    INDIVIDUAL = "individual"  # cá nhân (a person)
