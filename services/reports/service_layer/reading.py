"""Reading reports: one report with its history and revisions, and a requirement's reports."""

from __future__ import annotations

from contracts.api import reports as api
from runtime.access import Action
from runtime.auth import Principal
from runtime.errors import not_found
from services.reports.domain.model import (
    local_day,
)
from services.reports.service_layer.context import Context, authorize
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork


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
