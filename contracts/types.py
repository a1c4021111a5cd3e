"""Field types shared by events and requests."""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints
from pydantic import BaseModel as _BaseModel


def nfc(value: str) -> str:
    """Vietnamese text is data: one canonical form (NFC) so that equal names compare equal."""
    return unicodedata.normalize("NFC", value).strip()


# Free text (names, titles, notes): NFC-normalised, bounded.
Text = Annotated[str, AfterValidator(nfc), StringConstraints(min_length=1, max_length=500)]
LongText = Annotated[str, AfterValidator(nfc), StringConstraints(max_length=20_000)]
# Identifiers chosen by clients or minted by services: ASCII, no spaces, bounded.
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,99}$")]
Code = Annotated[str, AfterValidator(nfc), StringConstraints(min_length=1, max_length=64)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
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


PositiveCount = Annotated[int, Field(ge=0, le=10_000_000)]
