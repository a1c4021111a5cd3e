"""Every text a person reads, rendered with realistic data and read the way a person would:
every notification kind (from the events notify consumes, through its own handlers and its own
rendering context), its e-mail (text and HTML), the daily digest, and the consolidated report's
DOCX and XLSX. None may hold a Python repr, None, a brace, an ISO date, a program code or English
words (tests/texts.py)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from contracts.catalogue import CONSUMES, EVENTS_BY_TYPE
from runtime.clock import TZ
from services.notify.domain import render
from services.notify.domain.model import CONTACT_ROLES, Person
from services.notify.service_layer import fanout
from services.notify.service_layer.handlers import HANDLERS
from tests.texts import problems
from tests.unit.test_contracts import MIDDLE, PARENT, PERSON, PLAN, REQ, ROUND, U, sample_event

UNITS = {U: "Công đoàn cơ sở Tổng công ty May 10", PARENT: "Liên đoàn Lao động thành phố Hà Nội",
         "u-cdcs-det8": "Công đoàn cơ sở Công ty Dệt 8/3", MIDDLE: "Công đoàn ngành Dệt May Hà Nội"}
PEOPLE = {PERSON: "Nguyễn Thị Hồng Nhung"}
REFS = {("plan", PLAN): ("01/KH-LĐLĐ", "Kế hoạch công tác tuyên truyền năm 2026", PARENT),
        ("requirement", REQ): (None, "Báo cáo phát triển đoàn viên quý IV/2026", PARENT),
        ("round", ROUND): (None, "Khen thưởng tổng kết năm 2026", PARENT),
        ("nomination", "nom-0001"): (None, None, U)}


class _Repo:
    async def upsert_ref(self, *a: Any, **kw: Any) -> None:
        return None

    async def units(self, ids: Any) -> dict[str, Any]:
        return {i: SimpleNamespace(unit_id=i, name=UNITS[i], merged_into=None) for i in ids if i in UNITS}

    async def children(self, unit_id: str, on: date) -> list[str]:
        return [U] if unit_id == PARENT else []

    async def refs(self, keys: Any) -> dict[Any, Any]:
        return {k: SimpleNamespace(number=REFS[k][0], title=REFS[k][1], unit_id=REFS[k][2]) for k in keys if k in REFS}


class _Uow:
    def __init__(self) -> None:
        self.notify, self.staged = _Repo(), []

    def now(self) -> datetime:
        return datetime(2026, 12, 20, 9, 30, tzinfo=TZ)

    def before_commit(self, key: str, fn: Any) -> None:
        pass


NOTIFYING = sorted(t for t in CONSUMES["notify"] if EVENTS_BY_TYPE[t].model in HANDLERS)


def _event(event_type: str) -> dict[str, Any]:
    ev = sample_event(EVENTS_BY_TYPE[event_type])
    if event_type == "vn.congdoan.plans.plan.issued.v1":  # the seed's item 1.d: leaders write individual plans
        ev["data"]["items"].append({
            "item_id": "II.1.d", "section": "II.1", "output": "individual_plan", "timing": {"kind": "yearly_by_month", "month": 12},
            "content": "Các đồng chí Ủy viên Ban Chấp hành xây dựng kế hoạch cá nhân.",
            "responsible": [{"kind": "people_of_role", "roles": ["executive_member"]}]})
        ev["data"]["role_holders"] = [{"unit_id": U, "roles": ["executive_member"]}]  # as plans resolves it
    return ev


def _notices(event_type: str) -> list[tuple[str, str, str]]:
    """(kind, title, body) of what notify makes of the example event of this type."""
    import asyncio

    spec = EVENTS_BY_TYPE[event_type]
    uow = _Uow()
    asyncio.run(HANDLERS[spec.model](fanout.parse_event(_event(event_type)), uow, None))  # type: ignore[arg-type]
    units = {i: SimpleNamespace(name=n, merged_into=None) for i, n in UNITS.items()}
    people = {i: Person(i, U, n, frozenset(CONTACT_ROLES), None) for i, n in PEOPLE.items()}
    refs = {k: SimpleNamespace(number=v[0], title=v[1], unit_id=v[2]) for k, v in REFS.items()}
    return [(n.kind.value, *render.render_notice(n.kind.value, fanout._context(n, units, people, refs)))
            for n in uow.staged]


def test_every_kind_is_exercised() -> None:
    kinds = {k for t in NOTIFYING for k, _, _ in _notices(t)}
    assert kinds == set(render.KIND_LABELS), "every notification kind comes out of some example event"


@pytest.mark.parametrize("event_type", NOTIFYING)
def test_notifications_and_their_emails_read_right(event_type: str) -> None:
    for kind, title, body in _notices(event_type):
        assert problems(title) == [] and problems(body) == [], (kind, title, body)
        text, html = render.render_email(recipient_name="Nguyễn Thị Hồng Nhung", title=title, body=body,
                                         url="https://congdoan.example.vn/reports/r-2026-q4")
        assert problems(text) == [], (kind, text)
        assert problems(html, is_html=True) == [], (kind, html)


def test_the_plan_notice_names_its_count_of_items() -> None:
    [(kind, title, body)] = _notices("vn.congdoan.plans.plan.issued.v1")
    assert kind == "plan_issued" and "(2 nội dung)" in body and "built-in" not in body


def test_the_digest_reads_right() -> None:
    items = []
    for t in NOTIFYING:
        for kind, title, _ in _notices(t):
            items.append({"kind": kind, "title": title, "url": "https://congdoan.example.vn/inbox"})
    text, html = render.render_digest(
        recipient_name="Nguyễn Mạnh Hùng", subject=render.digest_subject(len(items), date(2026, 12, 19),
                                                                         date(2026, 12, 20)),
        total=len(items), by_kind=[(i["kind"], 1) for i in items],
        days=[(date(2026, 12, 19), items[:3]), (date(2026, 12, 20), items[3:])], omitted=12,
        inbox_url="https://congdoan.example.vn/inbox")
    assert problems(text) == [], text
    assert problems(html, is_html=True) == [], html


def test_the_checker_finds_what_it_looks_for() -> None:
    assert problems("(<built-in method items of dict object at 0x7f3a2b1c> nội dung)")
    assert problems("Hạn: None") and problems("Hạn {due}") and problems("Hạn 2026-11-30")
    assert problems("Báo cáo grassroots_union") and problems("Báo cáo đã submitted")
    assert problems("Xem: https://x.vn/reports/r_1 — hạn 30/11/2026, An Nhơn") == []


# --- the consolidated report's files ---------------------------------------------------------------

def _docx_text(path: Path) -> str:
    import docx

    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    parts += [p.text for t in d.tables for row in t.rows for c in row.cells for p in c.paragraphs]
    for s in d.sections:
        for part in (s.header, s.first_page_header, s.footer):
            parts += [p.text for p in part.paragraphs]
    return "\n".join(parts)


def _xlsx_text(path: Path) -> str:
    import openpyxl

    book = openpyxl.load_workbook(str(path))
    return "\n".join(f"{ws.title}: " + " | ".join(str(c.value) for row in ws.iter_rows() for c in row
                                                  if isinstance(c.value, str))
                     for ws in book.worksheets)


def test_the_consolidated_report_reads_right(tmp_path: Path) -> None:
    from services.reports.domain.export import to_docx, to_xlsx
    from tests.unit.test_reports_export import cons, meta

    consolidated = cons.__wrapped__()  # type: ignore[attr-defined]
    text = _docx_text(to_docx(consolidated, meta(number="21/BC-LĐLĐ"), tmp_path / "bao-cao.docx"))
    assert problems(text) == [], text
    assert "Số: 21/BC-LĐLĐ" in text and "BC-LĐLĐ/BC-LĐLĐ" not in text
    sheets = _xlsx_text(to_xlsx(consolidated, tmp_path / "bang.xlsx"))
    assert problems(sheets) == [], sheets


def test_the_individual_plans_export_reads_right(tmp_path: Path) -> None:
    from services.plans.adapters.export import xlsx_bytes
    from services.plans.domain.individual import ROLE_LABELS, ExportRow, table

    rows = [ExportRow(full_name="Nguyễn Mạnh Hùng", unit_name="Liên đoàn Lao động tỉnh Bình Định",
                      roles=sorted(ROLE_LABELS), required=True, status=status, commitments=3,
                      submitted_on=date(2026, 1, 15) if status != "missing" else None,
                      rating="good" if status == "assessed" else None,
                      assessed_on=date(2026, 12, 15) if status == "assessed" else None,
                      results="Hoàn thành tốt các nội dung đã đăng ký." if status == "assessed" else None, supplement=1)
            for status in ("missing", "submitted", "assessed")]
    data = table(rows, 2026)
    text = "\n".join(" | ".join(str(v) for v in row if isinstance(v, str)) for row in data)
    assert problems(text) == [], text
    (tmp_path / "kh.xlsx").write_bytes(xlsx_bytes(data, sheet="Năm 2026", title="Kế hoạch cá nhân năm 2026"))
    sheets = _xlsx_text(tmp_path / "kh.xlsx")
    assert problems(sheets) == [], sheets


def test_the_forwarded_line_reads_right() -> None:
    line = render.forwarded_note(["Công đoàn cơ sở Cảng Quy Nhơn", "Công đoàn cơ sở Cảng Quy Nhơn"])
    assert problems(line) == [] and line.count("Cảng Quy Nhơn") == 1


def _targets(event_type: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    import asyncio

    uow = _Uow()
    asyncio.run(HANDLERS[EVENTS_BY_TYPE[event_type].model](fanout.parse_event(_event(event_type)), uow, None))  # type: ignore[arg-type]
    return [(n.kind.value, [(t.kind, t.id, t.audience.value) for t in n.targets]) for n in uow.staged]


def test_each_step_of_a_nomination_tells_the_units_concerned() -> None:
    """Issue 13 §9: the level a nomination waits at, the unit it came back to, the level it was
    withdrawn from, the nominating units of a decision, the units given a quota."""
    aw = "vn.congdoan.awards."
    assert _targets(aw + "nomination.forwarded.v1") == [("nomination_forwarded", [("unit", PARENT, "own")])]
    assert _targets(aw + "nomination.returned.v1") == [("nomination_returned", [("unit", U, "own")])]
    assert _targets(aw + "nomination.withdrawn.v1") == [("nomination_withdrawn", [("unit", MIDDLE, "oversight")])]
    assert _targets(aw + "decision.issued.v1") == [("decision_issued", [("unit", U, "own"), ("unit", MIDDLE, "own")])]
    assert _targets(aw + "quotas.changed.v1") == [("quotas_changed", [("unit", U, "own"), ("unit", MIDDLE, "own")])]
