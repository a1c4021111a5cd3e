from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry

from services.awards.domain.model import UnitStanding

metadata = sa.MetaData()
mapper_registry = registry(metadata=metadata)

unit_standing = sa.Table(
    "unit_standing", metadata,
    sa.Column("unit_id", sa.String(100), primary_key=True),
    sa.Column("period", sa.String(16), primary_key=True),
    sa.Column("report_submitted", sa.Boolean, nullable=False),
    sa.Column("report_on_time", sa.Boolean, nullable=False),
    sa.Column("last_revision", sa.Integer, nullable=False),
)

_mapped = False


def start_mappers() -> None:
    global _mapped
    if not _mapped:
        mapper_registry.map_imperatively(UnitStanding, unit_standing)
        _mapped = True
