"""Use cases of the reports service. Event handlers take (event, uow) and do not commit: the
consumer commits their effects together with the inbox rows of the batch."""

from __future__ import annotations

import uuid
from typing import Any

from contracts.api import reports as api
from contracts.envelope import CloudEvent
from contracts.events import plans as plans_ev
from contracts.events import reports as ev
from runtime.errors import conflict, not_found
from services.reports.domain.model import DirectoryUnit, Report, default_due_date, is_on_time
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork

REPORT_SUBMITTED = "vn.congdoan.reports.report.submitted.v1"


def _receipt(r: Report, duplicate: bool = False) -> api.SubmissionReceipt:
    return api.SubmissionReceipt(report_id=r.report_id, unit_id=r.unit_id, receiving_unit_id=r.receiving_unit_id,
                                 revision=r.revision, submitted_at=r.submitted_at, due_date=r.due_date,
                                 on_time=r.on_time, duplicate=duplicate)


async def submit_report(cmd: api.SubmitReport, uow: ReportsUnitOfWork) -> api.SubmissionReceipt:
    async with uow:
        if cmd.report_id and (same := await uow.reports.get(cmd.report_id)) is not None:
            if (same.unit_id, same.requirement_id, same.period) != (cmd.unit_id, cmd.requirement_id, cmd.period):
                raise conflict(f"report id {cmd.report_id} belongs to another unit or period")
            return _receipt(same, duplicate=True)  # a retry of a stored submission
        unit = await uow.reports.unit(cmd.unit_id)
        if unit is None:
            raise not_found(f"unit {cmd.unit_id} (not in the directory known to reports)")
        now = uow.now()
        values: dict[str, Any] = dict(cmd.values)
        report = await uow.reports.for_unit(cmd.requirement_id, cmd.period, cmd.unit_id)
        if report is None:
            due = default_due_date(cmd.period)
            report = Report(report_id=cmd.report_id or f"r-{uuid.uuid4().hex}", requirement_id=cmd.requirement_id,
                            period=cmd.period, unit_id=cmd.unit_id, receiving_unit_id=unit.parent_id, revision=1,
                            submitted_at=now, due_date=due, on_time=is_on_time(now, due), values=values)
            uow.reports.add(report)
        else:
            report.resubmit(values, now)
        await uow.emit(REPORT_SUBMITTED, ev.ReportSubmitted(
            report_id=report.report_id, requirement_id=report.requirement_id, period=report.period,
            unit_id=report.unit_id, receiving_unit_id=report.receiving_unit_id, revision=report.revision,
            submitted_at=report.submitted_at, due_date=report.due_date, on_time=report.on_time),
            subject=report.unit_id)
        await uow.commit()
        return _receipt(report)


async def on_unit_registered(event: CloudEvent[plans_ev.UnitRegistered], uow: ReportsUnitOfWork) -> None:
    d = event.data
    await uow.reports.upsert_unit(DirectoryUnit(unit_id=d.unit_id, name=d.name, kind=d.kind.value, parent_id=d.parent_id))
