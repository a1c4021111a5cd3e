"""Plans as documents, their lifecycle, and their cascade into task occurrences. Plain Python, no I/O.

A plan document (the JSON of contracts.api.plans.PlanDocument) has sections of items; each item has
content, responsible parties, an expected output and a timing (timing.py). Issuing a plan assigns
every item to the units its parties resolve to, on the hierarchy as of the issue date, as one task
occurrence per (unit, item, period).

Decisions where the issue is silent:
- Horizon: a plan runs until it is closed, or through `until_year` when the document sets one.
  Occurrences are materialised for the years from the issue year through *next* year (a unit sees
  this year's and next year's tasks); on 1 January a roll (a scheduler reminder) adds the year
  after, resolving the parties on the hierarchy of that day, so units registered since get tasks.
- The tree changes while a plan runs: a unit that joins the issuer's tree (registered, imported,
  moved or merged in) gets the plan's occurrences from the day it joins; a unit that leaves it
  (closed, merged away, moved out) has its occurrences still ahead withdrawn. What is past stays.
- People of a role are resolved on the directory as it is (people carry no history).
- Nothing is created in the past: an occurrence whose due date is before the issue date (or, with
  no due date, whose year ended before the issue year) is skipped — "quý IV/2021" on a plan issued
  in 2026 asks nothing.
- "people_of_role" resolves to the units of those people (the unit answers for its people's
  individual plans); "standing_committee", "external" and "party_cell" are not union units and
  get no tasks (they appear in reports_to and the distribution list).
- A department party is the issuer's child of kind department whose code is the party's code
  (or ends with "_<code>"/"-<code>"/"/<code>", so several provinces can each have a BAN_TGNC).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from runtime import errors
from services.plans.domain.hierarchy import Hierarchy, HierarchyError
from services.plans.domain.timing import (
    VN_TZ,
    OnceByDate,
    OnceByMonthEnd,
    OnceByQuarterEnd,
    Ongoing,
    Timing,
    TimingError,
    Yearly,
    YearlyByDay,
    YearlyByMonthEnd,
    YearlyWindow,
    deadline_instant,
    from_dict,
    parse_timing,
)

DRAFT, ISSUED, CLOSED = "draft", "issued", "closed"
# A plan's status as a person reads it, after "Kế hoạch … ".
STATUS_LABELS = {DRAFT: "còn là dự thảo", ISSUED: "đã ban hành", CLOSED: "đã kết thúc"}
TASK_PARTY_KINDS = {"issuer", "unit", "department", "units_of_kind", "people_of_role"}
OTHER_PARTY_KINDS = {"standing_committee", "external", "party_cell"}
APPROACHING_AT = time(8, 0)  # reminders go out at 08:00 local time on the day


class PlanError(errors.Invalid):
    """A plan document or a plan operation broke a rule (422 unless the use case says otherwise).
    `field` names the offending field; the message is Vietnamese."""


# --- the document ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Party:
    kind: str
    unit_id: str | None = None
    code: str | None = None
    unit_kinds: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    under: str = "issuer"
    name: str | None = None


@dataclass(frozen=True)
class Item:
    item_id: str
    section: str
    content: str
    output: str
    timing: Timing
    timing_text: str | None
    responsible: tuple[Party, ...]


@dataclass(frozen=True)
class PlanDoc:
    number: str
    title: str
    issuer_unit_id: str
    parent_plan_id: str | None
    issued_on: date | None
    first_year: int | None
    until_year: int | None
    items: tuple[Item, ...]
    basis: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()

    def item(self, item_id: str) -> Item:
        for i in self.items:
            if i.item_id == item_id:
                return i
        raise KeyError(item_id)


def _party(p: dict[str, Any], where: str) -> Party:
    kind = p["kind"]
    under = p.get("under") or "issuer"
    if kind == "unit" and not p.get("unit_id"):
        raise PlanError("Cần ghi mã đơn vị thực hiện (unit_id).", f"{where}.unit_id")
    if kind == "department" and not p.get("code"):
        raise PlanError("Cần ghi mã ban thực hiện (code, ví dụ BAN_TGNC).", f"{where}.code")
    if kind == "units_of_kind" and not p.get("unit_kinds"):
        raise PlanError("Cần ghi loại đơn vị thực hiện (unit_kinds).", f"{where}.unit_kinds")
    if kind == "people_of_role" and not p.get("roles"):
        raise PlanError("Cần ghi chức danh của những người thực hiện (roles).", f"{where}.roles")
    return Party(kind=kind, unit_id=p.get("unit_id"), code=p.get("code"),
                 unit_kinds=tuple(p.get("unit_kinds") or ()), roles=tuple(p.get("roles") or ()), under=under,
                 name=p.get("name"))


def item_timing(spec: dict[str, Any] | None, text: str | None, where: str) -> Timing:
    """The item's timing: the structured one when given, else what its words say, else ongoing."""
    try:
        if spec:
            return from_dict({k: v for k, v in spec.items() if v is not None})
        if text:
            return parse_timing(text)
    except TimingError as exc:
        reason = str(exc)
        raise PlanError(f"Thời hạn thực hiện không hợp lệ: {reason[:1].lower()}{reason[1:]}",
                        f"{where}.timing" if spec else f"{where}.timing_text") from None
    return Ongoing()


def parse_document(doc: dict[str, Any]) -> PlanDoc:
    """Check a document (the JSON form of PlanDocument) and read it. Raises PlanError."""
    items: list[Item] = []
    seen: set[str] = set()
    for si, section in enumerate(doc.get("sections") or []):
        for ii, it in enumerate(section.get("items") or []):
            where = f"document.sections.{si}.items.{ii}"
            if it["item_id"] in seen:
                raise PlanError(f"Mã nội dung {it['item_id']} bị trùng trong kế hoạch.", f"{where}.item_id")
            seen.add(it["item_id"])
            responsible = tuple(_party(p, f"{where}.responsible.{pi}") for pi, p in enumerate(it["responsible"]))
            if not any(p.kind in TASK_PARTY_KINDS for p in responsible):
                raise PlanError("Nội dung cần ít nhất một đơn vị thực hiện là đơn vị công đoàn "
                                "hoặc những người giữ một chức danh.", f"{where}.responsible")
            for ri, p in enumerate(it.get("reports_to") or []):
                _party(p, f"{where}.reports_to.{ri}")
            items.append(Item(item_id=it["item_id"], section=section["code"], content=it["content"],
                              output=str(it["output"]), timing=item_timing(it.get("timing"), it.get("timing_text"), where),
                              timing_text=it.get("timing_text"), responsible=responsible))
    for si, section in enumerate(doc.get("sections") or []):
        for ii, it in enumerate(section.get("items") or []):
            for ref in it.get("see_also") or []:
                if ref not in seen:
                    raise PlanError(f"Mục “xem thêm” ghi {ref}, không phải nội dung nào của kế hoạch này.",
                                    f"document.sections.{si}.items.{ii}.see_also")
    first, until = doc.get("first_year"), doc.get("until_year")
    if first is not None and until is not None and until < first:
        raise PlanError(f"Năm kết thúc {until} trước năm bắt đầu {first}.", "document.until_year")
    issued_on = doc.get("issued_on")
    return PlanDoc(number=doc["number"], title=doc["title"], issuer_unit_id=doc["issuer_unit_id"],
                   parent_plan_id=doc.get("parent_plan_id"),
                   issued_on=date.fromisoformat(issued_on) if isinstance(issued_on, str) else issued_on,
                   first_year=first, until_year=until, items=tuple(items),
                   basis=tuple(basis_line(b) for b in doc.get("basis") or []),
                   recipients=tuple(r["label"] for r in doc.get("recipients") or []))


_BASIS_KIND = {"ket_luan": "Kết luận", "chi_thi": "Chỉ thị", "cong_van": "Công văn", "ke_hoach": "Kế hoạch",
               "quy_dinh": "Quy định", "nghi_quyet": "Nghị quyết", "huong_dan": "Hướng dẫn"}


def basis_line(b: dict[str, Any]) -> str:
    """A basis document as one line of Vietnamese: "Kết luận số 01-KL/TW ngày 15/05/2021 của Bộ Chính trị …"."""
    parts = [f"{_BASIS_KIND.get(b.get('kind') or '', 'Văn bản')} số {b['number']}"]
    if b.get("issued_on"):
        d = b["issued_on"] if isinstance(b["issued_on"], date) else date.fromisoformat(b["issued_on"])
        parts.append(f"ngày {d:%d/%m/%Y}")
    if b.get("issuer"):
        parts.append(f"của {b['issuer']}")
    if b.get("title"):
        parts.append(b["title"])
    line = " ".join(parts)
    return line if len(line) <= 500 else line[:499] + "…"


# --- horizon ------------------------------------------------------------------------------------

def first_year_of(doc: PlanDoc, issued_on: date) -> int:
    """Nothing is asked for a year before the plan was issued."""
    return max(doc.first_year or issued_on.year, issued_on.year)


def horizon_end(doc: PlanDoc, issued_on: date, today: date) -> int:
    """The last year whose occurrences exist now: through next year, within until_year."""
    end = max(first_year_of(doc, issued_on), today.year) + 1
    return min(end, doc.until_year) if doc.until_year else end


# --- resolution and cascade ------------------------------------------------------------------

@dataclass
class Org:
    """What the cascade needs of the directory, on one date."""

    hierarchy: Hierarchy
    kinds: dict[str, str]
    codes: dict[str, str]
    role_units: dict[str, set[str]] = field(default_factory=dict)  # role -> units with an active person of it


def _code_matches(code: str, wanted: str) -> bool:
    return code == wanted or any(code.endswith(sep + wanted) for sep in ("_", "-", "/", ":"))


def resolve(item: Item, issuer: str, org: Org, on: date) -> list[str]:
    """The units an item falls to on `on`, sorted. Raises PlanError for parties that name nothing."""
    h = org.hierarchy
    out: set[str] = set()
    for p in item.responsible:
        under = issuer if p.under in ("issuer", None) else p.under
        if p.kind in ("units_of_kind", "people_of_role", "department") and not h.is_active(under, on):
            raise PlanError(f"Nội dung {item.item_id}: đơn vị {under} không hoạt động vào ngày {on:%d/%m/%Y}.")
        if p.kind == "issuer":
            out.add(issuer)
        elif p.kind == "unit":
            if not h.is_registered(p.unit_id) or not h.is_active(p.unit_id, on):  # type: ignore[arg-type]
                raise PlanError(f"Nội dung {item.item_id}: đơn vị {p.unit_id} không hoạt động vào ngày {on:%d/%m/%Y}.")
            out.add(p.unit_id)  # type: ignore[arg-type]
        elif p.kind == "department":
            found = [c for c in h.children(under, on)
                     if org.kinds.get(c) == "department" and _code_matches(org.codes.get(c, ""), p.code or "")]
            if not found:
                raise PlanError(f"Nội dung {item.item_id}: không có ban {p.code} trực thuộc {under} "
                                f"vào ngày {on:%d/%m/%Y}.")
            out.update(found)
        elif p.kind == "units_of_kind":
            kinds = set(p.unit_kinds)
            out.update(u for u in h.subtree(under, on, include_self=False) if org.kinds.get(u) in kinds)
        elif p.kind == "people_of_role":
            with_role = set().union(*(org.role_units.get(r, set()) for r in p.roles)) if p.roles else set()
            out.update(u for u in h.subtree(under, on) if u in with_role)
    return sorted(out)


def role_holders(item: Item, issuer: str, org: Org, on: date) -> dict[str, set[str]]:
    """For the item's people_of_role parties: each unit the item falls to through one, with the
    roles of that party its people hold (the same units `resolve` gives them to)."""
    h = org.hierarchy
    out: dict[str, set[str]] = {}
    for p in item.responsible:
        if p.kind != "people_of_role" or not p.roles:
            continue
        under = issuer if p.under in ("issuer", None) else p.under
        if not h.is_active(under, on):
            continue
        inside = set(h.subtree(under, on))
        for r in p.roles:
            for u in org.role_units.get(r, set()) & inside:
                out.setdefault(u, set()).add(r)
    return out


class Planned(NamedTuple):
    """One task occurrence to exist: (unit, item, period) with its dates (a named tuple: a plan
    issue makes tens of thousands, a frozen dataclass costs several times as much to build)."""

    unit_id: str
    item_id: str
    period: str
    start: date | None
    due: date | None


def occurrence_id(plan_id: str, unit_id: str, item_id: str, period: str) -> str:
    digest = hashlib.sha1(f"{plan_id}\x1f{unit_id}\x1f{item_id}\x1f{period}".encode()).hexdigest()
    return f"o-{digest[:24]}"


def _period_year(period: str) -> int:
    return int(period[:4])


def wanted(item: Item, from_year: int, to_year: int, not_before: date) -> list[tuple[str, date | None, date | None]]:
    """(period, start, due) of an item's occurrences in [from_year, to_year], none in the past."""
    if from_year > to_year:
        return []
    out = []
    for o in item.timing.occurrences(from_year, to_year):
        if o.due is not None and o.due < not_before:
            continue
        if o.due is None and _period_year(o.period) < not_before.year:
            continue
        out.append((o.period, o.start, o.due))
    return out


def cascade(doc: PlanDoc, org: Org, on: date, from_year: int, to_year: int, not_before: date,
            strict: bool = True, skipped: list[str] | None = None) -> list[Planned]:
    """Every occurrence the plan asks of the units on `on`, for the years given. Not strict (the
    yearly roll): an item whose parties name nothing any more is skipped (and listed in `skipped`)
    rather than failing the whole plan."""
    out: list[Planned] = []
    for item in doc.items:
        periods = wanted(item, from_year, to_year, not_before)
        if not periods:
            continue
        try:
            units = resolve(item, doc.issuer_unit_id, org, on)
        except PlanError as exc:
            if strict:
                raise
            if skipped is not None:
                skipped.append(f"{item.item_id}: {exc}")
            continue
        item_id = item.item_id
        for unit in units:
            out += [Planned(unit, item_id, p, s, d) for p, s, d in periods]
    return out


def check_resolvable(doc: PlanDoc, org: Org, on: date) -> None:
    """Fail early (at issue) on parties that name nothing."""
    for item in doc.items:
        resolve(item, doc.issuer_unit_id, org, on)


# --- reminders -----------------------------------------------------------------------------------

def reminder_key(plan_id: str, occ_id: str, revision: int, offset: int | str) -> str:
    return f"dl:{plan_id}:{occ_id}:r{revision}:{offset}"


def reminders_for(due: date, offsets: Iterable[int], after: datetime) -> list[tuple[int | str, datetime]]:
    """(offset, when) of an occurrence's reminders still ahead of `after`: "approaching" at 08:00
    local on due − N days for each offset N, and "missed" when the due date's last local day ends."""
    out: list[tuple[int | str, datetime]] = []
    for n in sorted(set(offsets), reverse=True):
        at = datetime.combine(due - timedelta(days=n), APPROACHING_AT, tzinfo=VN_TZ)
        if at > after:
            out.append((n, at))
    missed = deadline_instant(due)
    if missed > after:
        out.append(("missed", missed))
    return out


def parse_offsets(text: str | None, default: tuple[int, ...] = (30, 7, 1)) -> tuple[int, ...]:
    """CONGDOAN_PLANS_DEADLINE_OFFSETS_DAYS="30,7,1" → (30, 7, 1). Bad values are refused loudly."""
    if text is None or not text.strip():
        return default
    try:
        values = tuple(sorted({int(x) for x in text.split(",") if x.strip()}, reverse=True))
    except ValueError:
        raise ValueError(f"CONGDOAN_PLANS_DEADLINE_OFFSETS_DAYS must be whole days separated by commas, got {text!r}") from None
    if any(v < 0 or v > 366 for v in values):
        raise ValueError(f"deadline offsets must be 0..366 days, got {values}")
    return values


# --- the contract's view ---------------------------------------------------------------------------

def contract_timing(t: Timing, text: str | None) -> dict[str, Any]:
    """contracts.types.Timing of a domain timing. The contract has no "yearly without a date": it
    travels as ongoing (no due date, one period per year — the same occurrences) with its words."""
    base: dict[str, Any] = {"text": text[:300] if text else None}
    if isinstance(t, (Ongoing, Yearly)):
        return {"kind": "ongoing", **base}
    if isinstance(t, OnceByDate):
        return {"kind": "once_by_date", **base, "year": t.due.year, "month": t.due.month, "day": t.due.day}
    if isinstance(t, OnceByMonthEnd):
        return {"kind": "once_by_month", **base, "year": t.year, "month": t.month}
    if isinstance(t, OnceByQuarterEnd):
        return {"kind": "once_by_quarter", **base, "year": t.year, "quarter": t.quarter}
    if isinstance(t, YearlyByDay):
        return {"kind": "yearly_by_day", **base, "month": t.month, "day": t.day}
    if isinstance(t, YearlyByMonthEnd):
        return {"kind": "yearly_by_month", **base, "month": t.month}
    if isinstance(t, YearlyWindow):
        return {"kind": "yearly_window", **base, "month": t.start_month, "day": t.start_day, "end_month": t.end_month,
                "end_day": t.end_day}
    raise PlanError(f"Thời hạn {t!r} chưa có dạng tương ứng trong hợp đồng sự kiện.")


def contract_party(p: Party, issuer: str) -> dict[str, Any] | None:
    """contracts.types.ResponsibleParty of a party; None for bodies outside the cascade."""
    if p.kind == "issuer":
        return {"kind": "unit", "unit_id": issuer}
    if p.kind == "unit":
        return {"kind": "unit", "unit_id": p.unit_id}
    if p.kind == "department":
        return {"kind": "department", "code": p.code}
    if p.kind == "units_of_kind":
        return {"kind": "units_of_kind", "unit_kinds": list(p.unit_kinds)}
    if p.kind == "people_of_role":
        return {"kind": "people_of_role", "roles": list(p.roles)}
    return None


def plan_role_holders(doc: PlanDoc, org: Org, on: date) -> dict[str, set[str]]:
    """`role_holders` over every item of the plan."""
    out: dict[str, set[str]] = {}
    for item in doc.items:
        for unit, roles in role_holders(item, doc.issuer_unit_id, org, on).items():
            out.setdefault(unit, set()).update(roles)
    return out


def plan_issued_data(plan_id: str, revision: int, doc: PlanDoc, issued_on: date,
                     holders: dict[str, set[str]] | None = None) -> dict[str, Any]:
    """The data of plan.issued: the whole plan, and whose people of a role it names (resolved here,
    once: notify tells them and never reads the parties itself)."""
    return {
        "plan_id": plan_id, "revision": revision, "number": doc.number, "title": doc.title,
        "issuer_unit_id": doc.issuer_unit_id, "issued_on": issued_on, "parent_plan_id": doc.parent_plan_id,
        "basis": list(doc.basis), "recipients": list(doc.recipients),
        "items": [{"item_id": i.item_id, "section": i.section, "content": i.content, "output": i.output,
                   "timing": contract_timing(i.timing, i.timing_text),
                   "responsible": [c for p in i.responsible if (c := contract_party(p, doc.issuer_unit_id))]}
                  for i in doc.items],
        "role_holders": [{"unit_id": u, "roles": sorted(r)} for u, r in sorted((holders or {}).items())],
    }


__all__ = [
    "DRAFT", "ISSUED", "CLOSED", "STATUS_LABELS", "PlanError", "Party", "Item", "PlanDoc", "parse_document", "basis_line",
    "first_year_of", "horizon_end", "Org", "resolve", "Planned", "occurrence_id", "wanted", "cascade",
    "check_resolvable", "reminder_key", "reminders_for", "parse_offsets", "contract_timing", "contract_party",
    "plan_issued_data", "role_holders", "plan_role_holders", "HierarchyError",
]
