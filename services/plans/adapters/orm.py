"""Tables of the plans service and their mapping to the domain classes (imperative mapping, so
the domain stays plain Python)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry

from services.plans.domain.model import Person, Unit

metadata = sa.MetaData()
mapper_registry = registry(metadata=metadata)

units = sa.Table(
    "units", metadata,
    sa.Column("unit_id", sa.String(100), primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("parent_id", sa.String(100), nullable=True, index=True),
    sa.Column("effective_from", sa.Date, nullable=False),
)

people = sa.Table(
    "people", metadata,
    sa.Column("person_id", sa.String(100), primary_key=True),
    sa.Column("unit_id", sa.String(100), nullable=False, index=True),
    sa.Column("full_name", sa.String(500), nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("phone", sa.String(32), nullable=True),
)

_mapped = False


def start_mappers() -> None:
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(Unit, units)
    mapper_registry.map_imperatively(Person, people)
    _mapped = True
