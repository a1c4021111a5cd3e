"""Submission, the hot path of the stack (reports cluster in the last days before 30/11), and
drafts: where a unit stands for a requirement and period, the form's rules, the cut-off, timeliness,
retries and concurrent submissions."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError

from contracts.api import reports as api
from contracts.events import reports as ev
from runtime.access import Action
from runtime.auth import Principal
from runtime.errors import DomainError, Invalid, conflict, not_found
from services.reports.domain.export import KIND_LABELS
from services.reports.domain.forms import FormValidationError
from services.reports.domain.model import (
    DRAFT,
    RETURNED,
    Link,
    Report,
    Requirement,
    dmy,
    local_day,
)
from services.reports.service_layer.context import Context, authorize
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork


class _Changed(Exception):
    """The report changed between our read and our write (a concurrent request): try again."""


def _receipt(r: Report, duplicate: bool = False) -> api.SubmissionReceipt:
    return api.SubmissionReceipt(report_id=r.report_id, unit_id=r.unit_id, receiving_unit_id=r.receiving_unit_id,
                                 revision=r.revision, submitted_at=r.submitted_at, due_date=r.due_date,
                                 on_time=bool(r.on_time), duplicate=duplicate, status=r.status,
                                 form_id=r.form_id, form_version=r.form_version)


class _Target:
    """The unit's situation for one requirement and period: the requirement, the unit's existing
    report, the receiving level, the due date."""

    __slots__ = ("req", "existing", "receiving", "due")

    def __init__(self, req: Requirement, existing: Report | None, receiving: str | None, due: date | None) -> None:
        self.req, self.existing, self.receiving, self.due = req, existing, receiving, due


def _unknown_requirement(requirement_id: str) -> DomainError:
    """A report answers a requirement reports knows (opened here or from a plan): a mistyped id is
    404, never a report nobody asked for."""
    return not_found(f"yêu cầu báo cáo {requirement_id} (chưa được mở, hoặc mã yêu cầu bị gõ sai)",
                     "requirement_id")


async def _target(uow: ReportsUnitOfWork, ctx: Context, requirement_id: str, period: str, unit_id: str,
                  today: date) -> _Target:
    repo = uow.reports
    req = ctx.cached_requirement(requirement_id)
    existing: Report | None = None
    fetched = False
    if req is None:
        # One read: the requirement and the unit's report.
        standing = await repo.standing(unit_id, requirement_id, period, today)
        if standing is None:
            raise not_found(f"đơn vị {unit_id} trong danh mục đơn vị của dịch vụ báo cáo", "unit_id")
        fetched = True
        existing = standing.report
        if standing.requirement is None:
            raise _unknown_requirement(requirement_id)
        req = ctx.remember(standing.requirement)
    if period != req.period:
        raise Invalid(f"Yêu cầu báo cáo {req.requirement_id} dành cho kỳ {req.period}, không phải kỳ {period}.", "period")
    if fetched:
        chain = await repo.chain(unit_id, req.as_of)
    else:
        chain, existing = await repo.chain_and_report(unit_id, req.as_of, requirement_id, period)
    _check_expected(uow, req, unit_id, chain)
    if not chain:
        if not await uow.hierarchy.has_unit(unit_id):
            raise not_found(f"đơn vị {unit_id} trong danh mục đơn vị của dịch vụ báo cáo", "unit_id")
        raise conflict(f"Đơn vị {unit_id} không thuộc hệ thống công đoàn vào ngày {dmy(req.as_of)}, ngày chốt cây tổ "
                       f"chức của kỳ báo cáo theo yêu cầu {req.requirement_id}.", field="unit_id")
    return _Target(req, existing, chain[1].unit_id if len(chain) > 1 else None, req.due_date)


def _check_expected(uow: ReportsUnitOfWork, req: Requirement, unit_id: str, chain: list[Link]) -> None:
    if not chain:
        return
    kind = chain[0].kind
    if kind not in req.reporting_kinds:
        raise conflict(f"Đơn vị {unit_id} ({KIND_LABELS.get(kind, kind)}) không thuộc diện phải báo cáo theo yêu cầu "
                       f"{req.requirement_id}: yêu cầu dành cho "
                       f"{', '.join(KIND_LABELS.get(k, k) for k in req.reporting_kinds)}.", field="unit_id")
    if req.issuer_unit_id not in [c.unit_id for c in chain[1:]]:
        raise conflict(f"Ngày {dmy(req.as_of)}, đơn vị {unit_id} không trực thuộc {req.issuer_unit_id}: yêu cầu báo cáo "
                       f"{req.requirement_id} chỉ dành cho các đơn vị thuộc {req.issuer_unit_id}.", field="unit_id")


async def submit_report(cmd: api.SubmitReport, who: Principal, uow: ReportsUnitOfWork,
                        ctx: Context) -> api.SubmissionReceipt:
    for _ in range(3):
        try:
            return await _submit(cmd, who, uow, ctx)
        except (_Changed, IntegrityError) as exc:
            if isinstance(exc, IntegrityError) and cmd.report_id:
                async with uow:
                    other = await uow.reports.get(cmd.report_id)
                if other is not None and (other.unit_id, other.requirement_id, other.period) != \
                        (cmd.unit_id, cmd.requirement_id, cmd.period):
                    raise conflict(f"Mã báo cáo {cmd.report_id} đã dùng cho báo cáo của đơn vị hoặc kỳ báo cáo khác.",
                                   field="report_id") from None
    raise conflict("Báo cáo vừa được thay đổi trong lúc lưu lần gửi này; xin gửi lại.")


async def _submit(cmd: api.SubmitReport, who: Principal, uow: ReportsUnitOfWork, ctx: Context) -> api.SubmissionReceipt:
    async with uow:
        now = uow.now()
        today = local_day(now)
        t = await _target(uow, ctx, cmd.requirement_id, cmd.period, cmd.unit_id, today)
        # A unit submits only its own report (its acting people, or the unit that absorbed it).
        actor = await authorize(uow, who, Action.ACT, cmd.unit_id, today, req=t.req)
        existing, req = t.existing, t.req
        form = await ctx.form(uow, req.form_id, req.form_version)
        # The form's rules hold for every submission, a retry's too; empty values submit the draft.
        raw = cmd.values or (existing.draft_values if existing is not None and existing.draft_values else {})
        values = _clean(form, raw) if raw else None
        if existing is not None and existing.check_resubmission(values, cmd.report_id):
            return _receipt(existing, duplicate=True)  # a retry of the stored submission
        if values is None:
            values = _clean(form, {})  # nothing to submit: names the compulsory fields
        if req.cut_off(now) and not (existing is not None and existing.status == RETURNED):
            raise conflict(f"Yêu cầu báo cáo {req.requirement_id} đã ngừng nhận báo cáo sau ngày khóa sổ "
                           f"{dmy(req.cutoff_date)}.", [{"field": "requirement_id", "type": "past_cutoff",  # type: ignore[arg-type]
                                                        "message": "Đã quá ngày khóa sổ, không nhận báo cáo."}])
        on_time = req.is_on_time(now)
        if existing is None:
            report = Report(report_id=cmd.report_id or f"r-{uuid.uuid4().hex}", requirement_id=cmd.requirement_id,
                            period=cmd.period, unit_id=cmd.unit_id, receiving_unit_id=t.receiving, revision=0,
                            submitted_at=None, due_date=t.due, on_time=None, status=DRAFT)
            report.submit(values, now, on_time, cmd.report_id)
            report.form_id, report.form_version = req.form_id, req.form_version
            await uow.reports.insert(report, submitted_by=actor.label)
        else:
            report = existing
            before_revision, before_status = report.revision, report.status
            report.receiving_unit_id = t.receiving
            report.submit(values, now, on_time, cmd.report_id)
            report.form_id, report.form_version = req.form_id, req.form_version
            if not await uow.reports.update_submission(report, before_revision, before_status, actor.label):
                raise _Changed()
        await uow.reports.add_revision(report, actor.label)
        await uow.emit(ev.ReportSubmitted(
            report_id=report.report_id, requirement_id=report.requirement_id, period=report.period,
            unit_id=report.unit_id, receiving_unit_id=report.receiving_unit_id, revision=report.revision,
            submitted_at=report.submitted_at, due_date=report.due_date, on_time=bool(report.on_time)),
            subject=report.unit_id)
        await uow.commit()
        return _receipt(report)


def _clean(form: Any, raw: dict[str, Any]) -> dict[str, Any]:
    try:
        return form.clean(raw)
    except FormValidationError as exc:
        raise Invalid(str(exc), "values", [
            {"field": f"values.{e.field}", "message": e.message, "type": e.code} for e in exc.errors]) from None


async def save_draft(cmd: api.SaveDraft, who: Principal, uow: ReportsUnitOfWork, ctx: Context) -> api.DraftReceipt:
    async with uow:
        now = uow.now()
        t = await _target(uow, ctx, cmd.requirement_id, cmd.period, cmd.unit_id, local_day(now))
        await authorize(uow, who, Action.ACT, cmd.unit_id, local_day(now), req=t.req)
        values = dict(cmd.values)
        form = await ctx.form(uow, t.req.form_id, t.req.form_version)
        problems = [str(e) for e in form.validate(values)]
        if t.existing is None:
            report = Report(report_id=cmd.report_id or f"r-{uuid.uuid4().hex}", requirement_id=cmd.requirement_id,
                            period=cmd.period, unit_id=cmd.unit_id, receiving_unit_id=t.receiving, revision=0,
                            submitted_at=None, due_date=t.due, on_time=None, status=DRAFT, draft_values=values)
            await uow.reports.insert(report, draft_saved_at=now)
        else:
            report = t.existing
            await uow.reports.save_draft(report.report_id, values, now)
        await uow.commit()
        return api.DraftReceipt(report_id=report.report_id, unit_id=report.unit_id, status=report.status,
                                saved_at=now, problems=problems)
