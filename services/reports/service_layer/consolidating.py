"""Completeness, timeliness and consolidation of a requirement over a subtree, always on the
hierarchy of the period (the requirement's ``as_of`` day, see domain/model.py), never today's.

Reads happen in one unit of work; the CPU-bound part (the consolidation over up to national scale
and the DOCX/XLSX exports) runs in a worker thread with the database connection already given
back; the consolidation's record and its "report consolidated" event are written in a second unit
of work."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import unicodedata
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.api import reports as api
from contracts.events import reports as ev
from contracts.types import ExportRef
from runtime.access import Action
from runtime.auth import Principal
from runtime.collector import collector_paused
from runtime.errors import Invalid, NotFound, conflict, not_found
from services.reports.domain.consolidation import (
    ACCEPTED_ONLY,
    ACCEPTED_OR_SUBMITTED,
    Completeness,
    Consolidation,
    CountingRule,
    HierarchySnapshot,
    NodeReport,
    ReportStatus,
    Submission,
    consolidate,
)
from services.reports.domain.export import ReportMeta, to_docx, to_xlsx
from services.reports.domain.forms import FormDefinition
from services.reports.domain.model import Requirement, local_day
from services.reports.service_layer.context import Context, authorize
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork

RULES: dict[str, CountingRule] = {"accepted": ACCEPTED_ONLY, "received": ACCEPTED_OR_SUBMITTED}
_STATUS = {"submitted": ReportStatus.SUBMITTED, "accepted": ReportStatus.ACCEPTED, "returned": ReportStatus.RETURNED}
_PLACE = re.compile(r"(?:tỉnh|thành phố|tp\.)\s+(.+)$", re.IGNORECASE)
_NO_VALUES: dict[str, Any] = {}  # shared: never written to
# Work above this many reports runs in a worker thread (the event loop keeps serving meanwhile).
THREAD_ABOVE = 5_000
# Up to this many counted reports the DOCX gathers every unit's narrative per child unit; above it,
# the direct children's own (each level's report speaks for its level).
NARRATIVES_ALL_UP_TO = 500


@dataclass
class _Loaded:
    req: Requirement
    node: str
    snap: HierarchySnapshot
    expected: list[str]
    subs: list[Submission]
    person: Any


async def _load(uow: ReportsUnitOfWork, ctx: Context, requirement_id: str, unit_id: str | None,
                who: Principal, *, with_values: bool, write: bool) -> _Loaded:
    req = await ctx.requirement(uow, requirement_id)
    if req is None:
        raise not_found(f"yêu cầu báo cáo {requirement_id}", "requirement_id")
    node = unit_id or req.issuer_unit_id
    # Figures of a subtree are read by it and the levels above; a consolidation (a document signed
    # in the unit's name) is made by the unit's acting people.
    person = await authorize(uow, who, Action.ACT if write else Action.READ, node, req.as_of, req=req)
    snap = await uow.hierarchy.snapshot(req.as_of)
    if req.issuer_unit_id not in snap:
        raise conflict(f"Đơn vị ban hành {req.issuer_unit_id} không có trong cây tổ chức ngày {req.as_of:%d/%m/%Y}, "
                       f"ngày chốt cây tổ chức của kỳ báo cáo.", field="requirement_id")
    if node not in snap:
        raise NotFound(f"Đơn vị {node} không có trong cây tổ chức ngày {req.as_of:%d/%m/%Y}, ngày chốt cây tổ chức "
                       f"của kỳ báo cáo.", "unit_id")
    expected = snap.units_of_kinds(req.reporting_kinds, under=req.issuer_unit_id)
    rows = await uow.reports.submissions(req.requirement_id, req.period, with_values=with_values, times=False)
    status = _STATUS
    if with_values:  # each its own dict: the narratives quoted are added to it later (_quote)
        subs = [Submission(r[0], r[4] if r[4] is not None else {}, status[r[1]], bool(r[2]), r[3]) for r in rows]
    else:
        subs = [Submission(r[0], _NO_VALUES, status[r[1]], bool(r[2]), r[3]) for r in rows]
    return _Loaded(req, node, snap, expected, subs, person)


def _figures(c: Completeness) -> api.CompletenessFigures:
    return api.CompletenessFigures(expected=c.expected, submitted=c.submitted, on_time=c.on_time, late=c.late,
                                   missing=c.missing, returned=c.returned, pending=c.pending)


def _node(n: NodeReport, with_indicators: bool) -> api.NodeFigures:
    return api.NodeFigures(unit_id=n.unit_id, name=n.name, kind=n.kind, completeness=_figures(n.completeness),
                           own_status=n.own_status, indicators=dict(n.indicators) if with_indicators else None)


def _missing(result: Consolidation, node: str, limit: int) -> tuple[list[api.MissingUnitView], bool]:
    units = result.missing(node)
    return [api.MissingUnitView(unit_id=m.unit_id, name=m.name, kind=m.kind, parent_id=m.parent_id,
                                parent_name=m.parent_name, reason=m.reason)
            for m in units[:limit]], len(units) > limit


async def _run(fn: Any, *args: Any, big: bool, **kwargs: Any) -> Any:
    return await asyncio.to_thread(fn, *args, **kwargs) if big else fn(*args, **kwargs)


async def get_completeness(cmd: api.GetCompleteness, who: Principal, uow: ReportsUnitOfWork,
                           ctx: Context) -> api.CompletenessReply:
    with collector_paused():
        return await _get_completeness(cmd, who, uow, ctx)


async def _get_completeness(cmd: api.GetCompleteness, who: Principal, uow: ReportsUnitOfWork,
                            ctx: Context) -> api.CompletenessReply:
    async with uow:
        ld = await _load(uow, ctx, cmd.requirement_id, cmd.unit_id, who, with_values=False, write=False)
        form = await ctx.form(uow, ld.req.form_id, ld.req.form_version)
    stub = FormDefinition(form_id=form.form_id, version=form.version, title=form.title, fields=())
    big = len(ld.expected) + len(ld.subs) > THREAD_ABOVE
    result = await _run(consolidate, stub, ld.snap, ld.expected, ld.subs, rule=RULES[cmd.counting],
                        root=ld.req.issuer_unit_id, requirement_id=ld.req.requirement_id, period=ld.req.period, big=big)
    node = result.node(ld.node)
    missing, truncated = _missing(result, ld.node, cmd.missing_limit)
    return api.CompletenessReply(requirement_id=ld.req.requirement_id, period=ld.req.period, unit_id=ld.node,
                                 as_of=ld.req.as_of, counting=cmd.counting, completeness=_figures(node.completeness),
                                 children=[_node(c, False) for c in result.children(ld.node)],
                                 missing_units=missing, missing_truncated=truncated)


def _place(snap: HierarchySnapshot, node: str) -> str:
    for u in snap.path(node)[::-1]:
        m = _PLACE.search(snap.names[snap.i(u)])
        if m:
            return m.group(1).strip()
    return snap.names[snap.i(node)]


def _subtitle(req: Requirement) -> str:
    name = req.name
    if name.casefold().startswith("báo cáo "):
        name = name[len("báo cáo "):]
    return name[:1].upper() + name[1:]


MEDIA = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _file_stem(req: Requirement, snap: HierarchySnapshot, node: str) -> str:
    """'bao-cao-tong-hop-LDLD-BD-2021': what a clerk saves it as (ASCII, the unit's code)."""
    code = unicodedata.normalize("NFKD", snap.code(node).replace("Đ", "D").replace("đ", "d"))
    code = "".join(ch for ch in code if not unicodedata.combining(ch))
    return f"bao-cao-tong-hop-{_safe(code).strip('_').replace('_', '-')}-{_safe(req.period)}"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:80]


def _export(result: Consolidation, meta: ReportMeta, docx: Path, xlsx: Path, node: str, title: str,
            dates: dict[str, Any], req: Requirement) -> None:
    # The DOCX in a thread of its own beside the XLSX: each spends a fifth of its time in zlib,
    # which lets the other run (both only read the consolidation).
    with ThreadPoolExecutor(1, thread_name_prefix="docx") as pool:
        made = pool.submit(to_docx, result, meta, docx)
        to_xlsx(result, xlsx, unit_id=node, title=title, submitted_on=dates, due_date=req.due_date,
                made_on=meta.issued_on)
        made.result()


async def _quote(uow: ReportsUnitOfWork, ld: _Loaded, form: FormDefinition, detail: str) -> None:
    """Bring the narratives of the reports the document quotes into their values (consolidation
    read the numbers only): the node's own and its children's own ("children"), or every report
    of the subtree ("all")."""
    units = ld.snap.subtree(ld.node) if detail == "all" else [ld.node, *ld.snap.children(ld.node)]
    by_unit = {s.unit_id: s for s in ld.subs}
    wanted = [u for u in units if u in by_unit]
    keys = [f.key for f in form.text_fields]
    if not wanted or not keys:
        return
    async with uow:
        stored = await uow.reports.values_of(ld.req.requirement_id, ld.req.period, wanted)
    for unit, values in stored.items():
        target = by_unit[unit].values
        for k in keys:
            if k in values:
                target[k] = values[k]  # type: ignore[index]


async def consolidate_reports(cmd: api.Consolidate, who: Principal, uow: ReportsUnitOfWork,
                              ctx: Context) -> api.ConsolidationReply:
    with collector_paused():
        return await _consolidate_reports(cmd, who, uow, ctx)


async def _consolidate_reports(cmd: api.Consolidate, who: Principal, uow: ReportsUnitOfWork,
                               ctx: Context) -> api.ConsolidationReply:
    async with uow:
        ld = await _load(uow, ctx, cmd.requirement_id, cmd.unit_id, who, with_values=True, write=True)
        form = await ctx.form(uow, ld.req.form_id, ld.req.form_version)
        text_keys = {f.key for f in form.text_fields}
        for key in cmd.narrative:
            if key not in text_keys:
                raise Invalid(f"“{key}” không phải phần thuyết minh của biểu mẫu {form.form_id} v{form.version} "
                              f"(các phần: {', '.join(sorted(text_keys))}).", f"narrative.{key}")
        signer = cmd.signer_name
        if signer is None:
            chairs = await uow.hierarchy.people(ld.node, {"chairperson"})
            signer = chairs[0].full_name if chairs else ""
        today = local_day(uow.now())
        # the day each report the XLSX lists came: the node's own and its children's (_load reads none)
        stamps = await uow.reports.submitted_at_of(ld.req.requirement_id, ld.req.period,
                                                   [ld.node, *ld.snap.children(ld.node)])
    dates = {u: local_day(t) for u, t in stamps.items()}
    snap, node = ld.snap, ld.node
    i = snap.i(node)
    parent = snap.parent_of(node)
    superior = (snap.names[snap.i(parent)] if parent is not None
                else "Tổng LĐLĐ Việt Nam" if snap.kinds[i] == "provincial_federation" else None)
    recipients = cmd.recipients if cmd.recipients is not None else (
        ([superior] if superior else [])
        + ["Lưu: VT" + (f", {ld.req.receiving_department}" if ld.req.receiving_department
                        and node == ld.req.receiving_unit_id else "")])
    meta = ReportMeta(issuing_body=snap.names[i], place=cmd.place or _place(snap, node), issued_on=today,
                      subtitle=cmd.subtitle or _subtitle(ld.req), signer_name=signer, superior_body=superior,
                      number=cmd.number, recipients=recipients, signer_title=cmd.signer_title or "CHỦ TỊCH",
                      narrative=dict(cmd.narrative), unit_id=node, narrative_detail=cmd.narrative_detail)
    consolidation_id = f"c-{uuid.uuid4().hex[:20]}"
    folder = ctx.config.exports_dir / _safe(ld.req.requirement_id)
    docx = folder / f"{_safe(node)}-{consolidation_id}.docx"
    xlsx = folder / f"{_safe(node)}-{consolidation_id}.xlsx"
    big = len(ld.expected) + len(ld.subs) > THREAD_ABOVE
    result = await _run(consolidate, form, ld.snap, ld.expected, ld.subs, rule=RULES[cmd.counting],
                        root=ld.req.issuer_unit_id, requirement_id=ld.req.requirement_id, period=ld.req.period, big=big)
    if meta.narrative_detail == "auto":
        meta.narrative_detail = "all" if result.completeness(node).submitted <= NARRATIVES_ALL_UP_TO else "children"
    await _quote(uow, ld, form, meta.narrative_detail)
    await _run(_export, result, meta, docx, xlsx, node, form.title, dates, ld.req, big=big)
    files = [(kind, path, MEDIA[kind], await asyncio.to_thread(path.read_bytes)) for kind, path in
             (("docx", docx), ("xlsx", xlsx))]
    stem = _file_stem(ld.req, snap, node)
    refs = [ExportRef(export_id=f"{consolidation_id}.{kind}", kind=kind, name=f"{stem}.{kind}", media_type=media,
                      size=len(content), sha256=hashlib.sha256(content).hexdigest())
            for kind, _, media, content in files]
    report = result.node(node)
    c = report.completeness
    missing, truncated = _missing(result, node, cmd.missing_limit)
    async with uow:
        now = uow.now()
        await uow.consolidations.add(
            consolidation_id=consolidation_id, requirement_id=ld.req.requirement_id, period=ld.req.period,
            unit_id=node, as_of=ld.req.as_of, counting=cmd.counting, expected=c.expected, submitted=c.submitted,
            on_time=c.on_time, late=c.late, missing=c.missing, indicators=dict(report.indicators), docx=str(docx),
            xlsx=str(xlsx), created_at=now, actor_id=ld.person.label)
        for ref, (_, _, _, content) in zip(refs, files):
            await uow.consolidations.add_export(
                export_id=ref.export_id, consolidation_id=consolidation_id, requirement_id=ld.req.requirement_id,
                unit_id=node, kind=ref.kind, name=ref.name, media_type=ref.media_type, size=ref.size,
                sha256=ref.sha256, content=content, created_at=now)
        await uow.emit(ev.ReportConsolidated(
            consolidation_id=consolidation_id, requirement_id=ld.req.requirement_id, period=ld.req.period,
            unit_id=node, expected=c.expected, submitted=c.submitted, on_time=c.on_time, late=c.late,
            missing=c.missing, docx=str(docx), xlsx=str(xlsx), exports=refs), subject=node)
        await uow.commit()
    return api.ConsolidationReply(
        consolidation_id=consolidation_id, requirement_id=ld.req.requirement_id, period=ld.req.period, unit_id=node,
        as_of=ld.req.as_of, counting=cmd.counting, completeness=_figures(c), indicators=dict(report.indicators),
        children=[_node(ch, True) for ch in result.children(node)], missing_units=missing,
        missing_truncated=truncated, exports=refs, docx=str(docx), xlsx=str(xlsx),
        warnings=list(result.warnings[:50]) + [f"{s.unit_id}: {s.reason}" for s in result.ignored[:50]])


async def get_export(cmd: api.GetExport, who: Principal, uow: ReportsUnitOfWork, ctx: Context) -> api.ExportChunk:
    """A chunk of a consolidation's file, for whoever may read the consolidated unit's figures (the
    access policy on the requirement's period, as get_completeness)."""
    async with uow:
        row = await uow.consolidations.export_chunk(cmd.export_id, cmd.offset, cmd.limit)
        if row is None:
            raise not_found(f"tệp {cmd.export_id}", "export_id")
        req = await ctx.requirement(uow, row.requirement_id)
        on = req.as_of if req is not None else local_day(row.created_at)
        await authorize(uow, who, Action.READ, row.unit_id, on, req=req, field="export_id")
    if cmd.offset > row.size:
        raise Invalid(f"Tệp {cmd.export_id} chỉ có {row.size} byte: vị trí đọc {cmd.offset} vượt quá.", "offset")
    chunk = row.chunk
    end = cmd.offset + len(chunk)
    return api.ExportChunk(export_id=row.export_id, consolidation_id=row.consolidation_id, name=row.name,
                           media_type=row.media_type, size=row.size, sha256=row.sha256, offset=cmd.offset,
                           content_base64=base64.b64encode(chunk).decode("ascii"),
                           next_offset=end if end < row.size else None, created_at=row.created_at)
