from __future__ import annotations

from runtime.db import UnitOfWork
from runtime.directory import Directory
from services.reports.adapters.repository import (
    ConsolidationsRepository,
    FormsRepository,
    HierarchyQueries,
    ReportsRepository,
    RequirementsRepository,
)


class ReportsUnitOfWork(UnitOfWork):
    reports: ReportsRepository
    requirements: RequirementsRepository
    forms: FormsRepository
    consolidations: ConsolidationsRepository
    hierarchy: HierarchyQueries
    directory: Directory

    async def __aenter__(self) -> ReportsUnitOfWork:
        await super().__aenter__()
        s = self.session
        self.reports = ReportsRepository(s)
        self.requirements = RequirementsRepository(s)
        self.forms = FormsRepository(s)
        self.consolidations = ConsolidationsRepository(s)
        self.hierarchy = HierarchyQueries(s)
        self.directory = Directory(s)
        return self
