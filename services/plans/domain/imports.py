"""Bulk import of a hierarchy from CSV: every row checked, bad rows reported by line, nothing
half-imported. Plain Python, no I/O.

Columns (a header row names them, in any order): `code`, `name`, `kind` (required), `parent_code`
or `parent_id` (empty for a root), `unit_id` (minted from the code when absent), `effective_from`
(ISO 2026-01-01 or 01/01/2026; the import's date when absent). Parents may come later in the file
than their children; units are registered parents first. A row identical to a unit already
registered is left alone, so a re-import is harmless.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from contracts.types import UnitKind

REQUIRED = ("code", "name", "kind")
OPTIONAL = ("parent_code", "parent_id", "unit_id", "effective_from")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,99}$")
KINDS = {k.value for k in UnitKind}
MAX_ERRORS = 200


@dataclass(frozen=True)
class Existing:
    unit_id: str
    code: str
    name: str
    kind: str
    parent_id: str | None
    registered_on: date
    closed: bool


@dataclass(frozen=True)
class NewUnit:
    line: int
    unit_id: str
    code: str
    name: str
    kind: str
    parent_id: str | None
    effective_from: date


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


@dataclass
class ImportResult:
    new: list[NewUnit]
    unchanged: int
    errors: list[RowError]
    # The units the file places units under (outside the file), None for a root: whoever imports
    # must administer each of them — even when nothing changes, the file is about them.
    parents: set[str | None] = field(default_factory=set)


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s).strip()


def mint_unit_id(code: str) -> str:
    """A stable id for a code, so that importing the same file twice names the same units."""
    return "u-" + hashlib.sha1(_nfc(code).encode()).hexdigest()[:16]


def _date(text: str) -> date:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError(f"“{text}” không phải một ngày (ghi 01/01/2026 hoặc 2026-01-01).")


def parse_units_csv(text: str, default_from: date, existing_by_code: dict[str, Existing],
                    existing_by_id: dict[str, Existing],
                    parent_rule: Callable[[str, str | None], str | None]) -> ImportResult:
    """Check every row (messages in Vietnamese). `parent_rule(kind, parent_kind)` returns an error
    message or None."""
    errors: list[RowError] = []

    def err(line: int, field: str, message: str) -> None:
        if len(errors) < MAX_ERRORS:
            errors.append(RowError(line, field, message))

    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return ImportResult([], 0, [RowError(1, "", "Tệp trống.")])
    except csv.Error:
        return ImportResult([], 0, [RowError(1, "", "Tệp không đúng định dạng CSV.")])
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if missing or unknown or len(set(header)) != len(header):
        msg = "; ".join(filter(None, [f"thiếu cột {', '.join(missing)}" if missing else "",
                                      f"có cột không dùng: {', '.join(unknown)}" if unknown else "",
                                      "có cột bị lặp" if len(set(header)) != len(header) else ""]))
        return ImportResult([], 0, [RowError(1, "header", f"Dòng tiêu đề: {msg} (các cột: "
                                                          f"{', '.join(REQUIRED + OPTIONAL)}; bắt buộc: "
                                                          f"{', '.join(REQUIRED)}).")])

    rows: list[tuple[int, dict[str, str]]] = []
    try:
        start = reader.line_num + 1
        for values in reader:
            line = start
            start = reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                err(line, "", f"Dòng có {len(values)} giá trị trong khi tệp có {len(header)} cột.")
                continue
            rows.append((line, {h: _nfc(v) for h, v in zip(header, values)}))
    except csv.Error:
        err(reader.line_num, "", "Tệp không đúng định dạng CSV từ dòng này.")

    by_code: dict[str, NewUnit] = {}
    by_id: dict[str, NewUnit] = {}
    parent_ref: dict[str, tuple[str, str]] = {}  # unit_id -> (column, reference)
    unchanged_rows: list[tuple[int, dict[str, str], Existing]] = []
    for line, r in rows:
        code, name, kind = r["code"], r["name"], r["kind"]
        bad = False
        if not code or len(code) > 64:
            err(line, "code", "Cần ký hiệu đơn vị dài từ 1 đến 64 ký tự.")
            bad = True
        if not name or len(name) > 500:
            err(line, "name", "Cần tên đơn vị dài từ 1 đến 500 ký tự.")
            bad = True
        if kind not in KINDS:
            err(line, "kind", f"Không có loại đơn vị “{kind}” (một trong: {', '.join(sorted(KINDS))}).")
            bad = True
        unit_id = r.get("unit_id") or (mint_unit_id(code) if code else "")
        if unit_id and not ID_RE.match(unit_id):
            err(line, "unit_id", f"Mã đơn vị “{unit_id}” không hợp lệ (chỉ gồm chữ cái không dấu, chữ số và _.:-/, "
                                 f"tối đa 100 ký tự).")
            bad = True
        try:
            eff = _date(r["effective_from"]) if r.get("effective_from") else default_from
        except ValueError as exc:
            err(line, "effective_from", str(exc))
            bad = True
            eff = default_from
        if r.get("parent_code") and r.get("parent_id"):
            err(line, "parent_code", "Chỉ ghi một trong hai cột parent_code hoặc parent_id.")
            bad = True
        if bad:
            continue
        if code in by_code:
            err(line, "code", f"Ký hiệu {code} đã có ở dòng {by_code[code].line}.")
            continue
        if unit_id in by_id:
            err(line, "unit_id", f"Mã đơn vị {unit_id} đã có ở dòng {by_id[unit_id].line}.")
            continue
        ex = existing_by_code.get(code)
        if ex is not None and ex.unit_id != unit_id:
            err(line, "code", f"Ký hiệu {code} đã thuộc về đơn vị {ex.unit_id}.")
            continue
        ex_id = existing_by_id.get(unit_id)
        if ex_id is not None and ex_id.code != code:
            err(line, "unit_id", f"Đơn vị {unit_id} đã được đăng ký với ký hiệu {ex_id.code}.")
            continue
        reference = ("parent_code", r["parent_code"]) if r.get("parent_code") else (
            ("parent_id", r["parent_id"]) if r.get("parent_id") else ("", ""))
        if ex_id is not None:
            unchanged_rows.append((line, r, ex_id))
            by_code[code] = by_id[unit_id] = NewUnit(line, unit_id, code, name, kind, ex_id.parent_id, ex_id.registered_on)
            continue
        nu = NewUnit(line, unit_id, code, name, kind, None, eff)
        by_code[code] = by_id[unit_id] = nu
        parent_ref[unit_id] = reference

    # Parents: in the file or already registered.
    resolved: dict[str, NewUnit] = {}
    for unit_id, (col, ref) in parent_ref.items():
        nu = by_id[unit_id]
        parent_id: str | None = None
        parent_kind: str | None = None
        if col:
            in_file = by_code.get(ref) if col == "parent_code" else by_id.get(ref)
            ex = (existing_by_code.get(ref) if col == "parent_code" else existing_by_id.get(ref))
            if in_file is not None:
                parent_id, parent_kind = in_file.unit_id, in_file.kind
                if in_file.effective_from > nu.effective_from:
                    err(nu.line, "effective_from", f"Đơn vị cấp trên {ref} bắt đầu từ ngày "
                                                   f"{in_file.effective_from:%d/%m/%Y}, sau ngày của đơn vị này "
                                                   f"({nu.effective_from:%d/%m/%Y}).")
                    continue
            elif ex is not None:
                if ex.closed:
                    err(nu.line, col, f"Đơn vị cấp trên {ref} đã ngừng hoạt động.")
                    continue
                if ex.registered_on > nu.effective_from:
                    err(nu.line, "effective_from", f"Đơn vị cấp trên {ref} chỉ được đăng ký từ ngày "
                                                   f"{ex.registered_on:%d/%m/%Y}.")
                    continue
                parent_id, parent_kind = ex.unit_id, ex.kind
            else:
                err(nu.line, col, f"Đơn vị cấp trên {ref} không có trong tệp và chưa được đăng ký.")
                continue
            if parent_id == unit_id:
                err(nu.line, col, "Đơn vị không thể trực thuộc chính nó.")
                continue
        problem = parent_rule(nu.kind, parent_kind)
        if problem:
            err(nu.line, col or "parent_code", problem)
            continue
        resolved[unit_id] = NewUnit(nu.line, unit_id, nu.code, nu.name, nu.kind, parent_id, nu.effective_from)
    for line, r, ex in unchanged_rows:
        if (r["name"], r["kind"]) != (ex.name, ex.kind):
            err(line, "name", f"Đơn vị {ex.unit_id} ({ex.code}) đã được đăng ký với thông tin khác; "
                              f"hãy sửa trong danh mục đơn vị, không sửa bằng cách nhập tệp.")

    # Parents first; a cycle inside the file leaves its units unplaced.
    ordered: list[NewUnit] = []
    placed: set[str] = set()
    pending = dict(resolved)
    while pending:
        ready = [u for u in pending.values() if u.parent_id is None or u.parent_id not in pending]
        if not ready:
            for u in sorted(pending.values(), key=lambda u: u.line):
                err(u.line, "parent_code", "Các đơn vị cấp trên ghi trong tệp tạo thành vòng lặp.")
            break
        for u in sorted(ready, key=lambda u: u.line):
            ordered.append(u)
            placed.add(u.unit_id)
            del pending[u.unit_id]
    errors.sort(key=lambda e: (e.line, e.field))
    file_ids = {u.unit_id for u in ordered}
    parents = {u.parent_id for u in ordered if u.parent_id not in file_ids}
    parents |= {ex.parent_id for _, _, ex in unchanged_rows}
    return ImportResult(ordered if not errors else [], len(unchanged_rows), errors, parents)


__all__ = ["Existing", "NewUnit", "RowError", "ImportResult", "parse_units_csv", "mint_unit_id", "MAX_ERRORS"]
