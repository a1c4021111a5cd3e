"""Use cases of units' reports: submission (the hot path), drafts, review, reading.

Requirements, forms and plans' events are in requirements.py; completeness and consolidation in
consolidating.py. Use cases are plain functions (command, uow, ctx); the unit of work commits.
"""

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
    ACCEPTED,
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


# --- where a report stands ------------------------------------------------------------------------

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


# --- submission -----------------------------------------------------------------------------------

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


# --- review ---------------------------------------------------------------------------------------

async def _review_context(uow: ReportsUnitOfWork, ctx: Context, report_id: str
                          ) -> tuple[Report, Requirement | None, list[Link], date]:
    report = await uow.reports.get(report_id)
    if report is None:
        raise not_found(f"báo cáo {report_id}", "report_id")
    req = await ctx.requirement(uow, report.requirement_id)
    on = req.as_of if req is not None else local_day(uow.now())
    chain = await uow.reports.chain(report.unit_id, on)
    if len(chain) < 2 and req is None:
        on = local_day(uow.now())
        chain = await uow.reports.chain(report.unit_id, on)
    return report, req, chain, on


async def accept_report(cmd: api.AcceptReport, who: Principal, uow: ReportsUnitOfWork, ctx: Context) -> api.ReviewReceipt:
    async with uow:
        report, req, chain, on = await _review_context(uow, ctx, cmd.report_id)
        reviewer = chain[1].unit_id if len(chain) > 1 else report.receiving_unit_id
        # The receiving level (or its receiving department) accepts.
        person = await authorize(uow, who, Action.REVIEW, report.unit_id, on, req=req, field="report_id")
        now = uow.now()
        if report.status == ACCEPTED:
            return api.ReviewReceipt(report_id=report.report_id, unit_id=report.unit_id, status="accepted",
                                     revision=report.revision, by_unit_id=reviewer, at=now,
                                     comment=report.review_comment, duplicate=True)
        before = report.status
        report.receiving_unit_id = reviewer
        report.accept(cmd.comment or None)
        if not await uow.reports.update_review(report, before, now, person.label, reviewer):
            raise conflict(f"Báo cáo {report.report_id} vừa thay đổi (có thể đơn vị đã gửi lại); xin xem xét lại.")
        await uow.reports.add_review(report, "accepted", now, person.label, reviewer, cmd.comment)
        await uow.emit(ev.ReportAccepted(
            report_id=report.report_id, requirement_id=report.requirement_id, period=report.period,
            unit_id=report.unit_id, by_unit_id=reviewer, revision=report.revision, on_time=bool(report.on_time),
            accepted_at=now), subject=report.unit_id)
        await uow.commit()
        return api.ReviewReceipt(report_id=report.report_id, unit_id=report.unit_id, status="accepted",
                                 revision=report.revision, by_unit_id=reviewer, at=now, comment=cmd.comment)


async def return_report(cmd: api.ReturnReport, who: Principal, uow: ReportsUnitOfWork, ctx: Context) -> api.ReviewReceipt:
    comment = cmd.comment.strip()
    if not comment:
        raise Invalid("Trả lại báo cáo cần ghi rõ nội dung phải bổ sung, chỉnh sửa.", "comment")
    async with uow:
        report, req, chain, on = await _review_context(uow, ctx, cmd.report_id)
        reviewer = chain[1].unit_id if len(chain) > 1 else report.receiving_unit_id
        # The receiving level returns; a leader above it may return even an accepted report.
        try:
            person = await authorize(uow, who, Action.REVIEW, report.unit_id, on, req=req, field="report_id")
            by_receiving, by_unit = True, reviewer
        except DomainError as refused_as_receiver:
            try:
                person = await authorize(uow, who, Action.OVERSEE, report.unit_id, on, req=req, field="report_id")
            except DomainError:
                raise refused_as_receiver from None
            by_receiving, by_unit = False, person.unit_id
        before = report.status
        report.receiving_unit_id = reviewer
        report.return_(comment, by_receiving)
        now = uow.now()
        if not await uow.reports.update_review(report, before, now, person.label, by_unit):
            raise conflict(f"Báo cáo {report.report_id} vừa thay đổi (có thể đơn vị đã gửi lại); xin xem xét lại.")
        await uow.reports.add_review(report, "returned", now, person.label, by_unit, comment)
        await uow.emit(ev.ReportReturned(
            report_id=report.report_id, requirement_id=report.requirement_id, period=report.period,
            unit_id=report.unit_id, by_unit_id=by_unit, revision=report.revision, comment=comment, returned_at=now),
            subject=report.unit_id)
        await uow.commit()
        return api.ReviewReceipt(report_id=report.report_id, unit_id=report.unit_id, status="returned",
                                 revision=report.revision, by_unit_id=by_unit, at=now, comment=comment)


async def reopen_report(cmd: api.ReopenReport, who: Principal, uow: ReportsUnitOfWork, ctx: Context) -> api.ReviewReceipt:
    """The receiving level unlocks an accepted report for a correction (the only way an accepted
    report changes besides a return): back to "submitted", still counted as received."""
    comment = cmd.comment.strip()
    if not comment:
        raise Invalid("Mở lại báo cáo cần ghi rõ lý do, nội dung cần sửa.", "comment")
    async with uow:
        report, req, chain, on = await _review_context(uow, ctx, cmd.report_id)
        reviewer = chain[1].unit_id if len(chain) > 1 else report.receiving_unit_id
        person = await authorize(uow, who, Action.REVIEW, report.unit_id, on, req=req, field="report_id")
        now = uow.now()
        before = report.status
        report.receiving_unit_id = reviewer
        report.reopen(comment)
        if not await uow.reports.update_review(report, before, now, person.label, reviewer):
            raise conflict(f"Báo cáo {report.report_id} vừa thay đổi; đề nghị xem lại rồi thực hiện lại.")
        await uow.reports.add_review(report, "reopened", now, person.label, reviewer, comment)
        await uow.emit(ev.ReportReopened(
            report_id=report.report_id, requirement_id=report.requirement_id, period=report.period,
            unit_id=report.unit_id, by_unit_id=reviewer, revision=report.revision, comment=comment,
            reopened_at=now), subject=report.unit_id)
        await uow.commit()
        return api.ReviewReceipt(report_id=report.report_id, unit_id=report.unit_id, status=report.status,
                                 revision=report.revision, by_unit_id=reviewer, at=now, comment=comment)


# --- reading --------------------------------------------------------------------------------------

async def get_report(cmd: api.GetReport, who: Principal, uow: ReportsUnitOfWork, ctx: Context) -> api.ReportView:
    async with uow:
        report = await uow.reports.get(cmd.report_id)
        if report is None:
            raise not_found(f"báo cáo {cmd.report_id}", "report_id")
        req = await ctx.requirement(uow, report.requirement_id)
        on = req.as_of if req is not None else local_day(uow.now())
        await authorize(uow, who, Action.READ, report.unit_id, on, req=req, field="report_id")
        history = await uow.reports.history(report.report_id)
        revisions = await uow.reports.revisions(report.report_id)
        return api.ReportView(
            report_id=report.report_id, requirement_id=report.requirement_id, period=report.period,
            unit_id=report.unit_id, receiving_unit_id=report.receiving_unit_id, status=report.status,
            revision=report.revision, submitted_at=report.submitted_at, first_submitted_at=report.first_submitted_at,
            due_date=report.due_date, on_time=report.on_time, form_id=report.form_id,
            form_version=report.form_version, values=report.values, draft_values=report.draft_values,
            review_comment=report.review_comment,
            history=[api.ReviewStep(action=h.action, revision=h.revision, by_unit_id=h.by_unit_id, actor_id=h.actor_id,
                                    comment=h.comment, at=h.at) for h in history],
            revisions=[api.RevisionView(revision=r.revision, values=r.values, submitted_at=r.submitted_at,
                                        submitted_by=r.submitted_by, on_time=r.on_time, form_id=r.form_id,
                                        form_version=r.form_version) for r in revisions])


async def list_reports(cmd: api.ListReports, who: Principal, uow: ReportsUnitOfWork, ctx: Context) -> api.ReportPage:
    async with uow:
        req = await ctx.requirement(uow, cmd.requirement_id)
        if req is None:
            raise not_found(f"yêu cầu báo cáo {cmd.requirement_id}", "requirement_id")
        if cmd.unit_id:  # one unit's own report: whoever may read that unit
            await authorize(uow, who, Action.READ, cmd.unit_id, req.as_of, req=req, field="unit_id")
        else:
            await authorize(uow, who, Action.READ, cmd.receiving_unit_id or req.issuer_unit_id, req.as_of, req=req,
                            field="receiving_unit_id")
        items = await uow.reports.page(cmd.requirement_id, cmd.receiving_unit_id, cmd.status, cmd.limit + 1, cmd.cursor,
                                       unit_id=cmd.unit_id)
        more = len(items) > cmd.limit
        items = items[:cmd.limit]
        return api.ReportPage(items=[api.ReportSummary(
            report_id=r.report_id, unit_id=r.unit_id, receiving_unit_id=r.receiving_unit_id, status=r.status,
            revision=r.revision, submitted_at=r.submitted_at, on_time=r.on_time) for r in items],
            next_cursor=items[-1].report_id if more else None)
