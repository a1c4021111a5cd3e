from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry

from runtime.db import AwareDateTime

from services.reports.domain.model import DirectoryUnit, Report

metadata = sa.MetaData()
mapper_registry = registry(metadata=metadata)

directory_units = sa.Table(
    "directory_units", metadata,
    sa.Column("unit_id", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("parent_id", sa.String(100), nullable=True, index=True),
)

reports = sa.Table(
    "reports", metadata,
    sa.Column("report_id", sa.String(100), primary_key=True),
    sa.Column("requirement_id", sa.String(100), nullable=False),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("unit_id", sa.String(100), nullable=False),
    sa.Column("receiving_unit_id", sa.String(100), nullable=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("submitted_at", AwareDateTime, nullable=False),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("on_time", sa.Boolean, nullable=False),
    sa.Column("values", sa.JSON, nullable=False),
    sa.UniqueConstraint("requirement_id", "period", "unit_id", name="uq_report_per_unit_period"),
)

_mapped = False


def start_mappers() -> None:
    global _mapped
    if not _mapped:
        mapper_registry.map_imperatively(DirectoryUnit, directory_units)
        mapper_registry.map_imperatively(Report, reports)
        _mapped = True
