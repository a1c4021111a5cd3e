"""Individual plans (kế hoạch cá nhân): a person's commitments for a year, the year-end
self-assessment with a rating, the supplement for next year; who must keep one; and the results
table used in the annual evaluation of cadres. Plain Python, no I/O.

Who must keep one (seed II.1.e): executive committee members (Ủy viên BCH) and heads of units
(người đứng đầu). Everyone else is guided to write one (II.1.f) and may, but is not counted as
missing.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts.api.common import ErrorCode
from runtime import errors

REQUIRED_ROLES = frozenset({"executive_member", "head_of_unit"})

RATING_LABELS = {
    "excellent": "Hoàn thành xuất sắc nhiệm vụ",
    "good": "Hoàn thành tốt nhiệm vụ",
    "done": "Hoàn thành nhiệm vụ",
    "not_done": "Không hoàn thành nhiệm vụ",
}
ROLE_LABELS = {
    "chairperson": "Chủ tịch",
    "executive_member": "Ủy viên BCH",
    "head_of_unit": "Người đứng đầu",
    "cadre": "Cán bộ",
    "member": "Đoàn viên",
}
STATUS_LABELS = {"missing": "Chưa xây dựng", "submitted": "Đã xây dựng, chưa tự đánh giá",
                 "assessed": "Đã tự đánh giá"}


class IndividualPlanError(errors.DomainError):
    """An individual plan refuses: 422, or 409 (`conflict`) when its state forbids it."""

    def __init__(self, message: str, field: str = "", conflict: bool = False) -> None:
        super().__init__(message, field)
        self.conflict = conflict
        self.code = ErrorCode.CONFLICT if conflict else ErrorCode.VALIDATION


def must_keep_one(roles: list[str] | tuple[str, ...] | set[str]) -> bool:
    return bool(REQUIRED_ROLES & set(roles))


def individual_plan_id(person_id: str, year: int) -> str:
    ident = f"ip-{year}-{person_id}"
    if len(ident) <= 100:
        return ident
    return f"ip-{year}-" + hashlib.sha1(person_id.encode()).hexdigest()[:24]


def check_submit(status: str | None, year: int, today: date) -> None:
    if status == "assessed":
        raise IndividualPlanError(f"Kế hoạch cá nhân năm {year} đã tự đánh giá; hãy bổ sung vào kế hoạch năm sau.",
                                  "year", conflict=True)
    if year > today.year + 1:
        raise IndividualPlanError(f"Chưa thể xây dựng kế hoạch cá nhân năm {year} trong năm {today.year}.", "year")


def check_assess(status: str | None, year: int, today: date) -> None:
    if status is None:
        raise IndividualPlanError(f"Chưa có kế hoạch cá nhân năm {year} để tự đánh giá.", "year", conflict=True)
    if status == "assessed":
        raise IndividualPlanError(f"Kế hoạch cá nhân năm {year} đã tự đánh giá.", "year", conflict=True)
    if year > today.year:
        raise IndividualPlanError(f"Chưa thể tự đánh giá kế hoạch cá nhân năm {year} trước khi năm {year} bắt đầu.",
                                  "year")


@dataclass(frozen=True)
class ExportRow:
    full_name: str
    unit_name: str
    roles: list[str]
    required: bool
    status: str
    commitments: int
    submitted_on: date | None
    rating: str | None
    assessed_on: date | None
    results: str | None
    supplement: int


HEADERS = ["STT", "Họ và tên", "Đơn vị", "Chức danh", "Thuộc diện bắt buộc", "Năm", "Tình trạng",
           "Số nội dung cam kết", "Ngày xây dựng kế hoạch", "Ngày tự đánh giá", "Tự xếp loại",
           "Kết quả thực hiện", "Số nội dung bổ sung năm sau"]


def _d(d: date | None) -> str:
    return f"{d:%d/%m/%Y}" if d else ""


def table(rows: list[ExportRow], year: int) -> list[list[Any]]:
    """The results table, Vietnamese headers, dates dd/mm/yyyy, one row per person."""
    out: list[list[Any]] = [list(HEADERS)]
    for n, r in enumerate(rows, start=1):
        out.append([n, r.full_name, r.unit_name, ", ".join(ROLE_LABELS.get(x, x) for x in r.roles),
                    "Có" if r.required else "Không", year, STATUS_LABELS[r.status], r.commitments, _d(r.submitted_on),
                    _d(r.assessed_on), RATING_LABELS.get(r.rating or "", ""), r.results or "", r.supplement])
    return out


def to_csv(rows: list[list[Any]]) -> bytes:
    """UTF-8 with a BOM, so that Excel opens the Vietnamese text correctly."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


__all__ = ["REQUIRED_ROLES", "RATING_LABELS", "ROLE_LABELS", "STATUS_LABELS", "IndividualPlanError",
           "must_keep_one", "individual_plan_id", "check_submit", "check_assess", "ExportRow", "HEADERS", "table",
           "to_csv"]
