"""Review by the receiving level: accept, return (a leader above may return even an accepted
report), reopen an accepted report for a correction."""

from __future__ import annotations

from datetime import date

from contracts.api import reports as api
from contracts.events import reports as ev
from runtime.access import Action
from runtime.auth import Principal
from runtime.errors import DomainError, Invalid, conflict, not_found
from services.reports.domain.model import (
    ACCEPTED,
    Link,
    Report,
    Requirement,
    local_day,
)
from services.reports.service_layer.context import Context, authorize
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork


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
