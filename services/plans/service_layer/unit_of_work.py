from __future__ import annotations

from runtime.db import UnitOfWork
from services.plans.adapters.repository import (
    DirectoryRepository,
    ImportRepository,
    IndividualPlanRepository,
    LoginRepository,
    PlanRepository,
    ReminderRepository,
    ReportRequirementRepository,
    TaskRepository,
)


class PlansUnitOfWork(UnitOfWork):
    directory: DirectoryRepository
    plans: PlanRepository
    tasks: TaskRepository
    individual: IndividualPlanRepository
    imports: ImportRepository
    reminders: ReminderRepository
    logins: LoginRepository
    report_requirements: ReportRequirementRepository

    async def __aenter__(self) -> PlansUnitOfWork:
        await super().__aenter__()
        self.directory = DirectoryRepository(self.session)
        self.plans = PlanRepository(self.session)
        self.tasks = TaskRepository(self.session)
        self.individual = IndividualPlanRepository(self.session)
        self.imports = ImportRepository(self.session)
        self.reminders = ReminderRepository(self.session)
        self.logins = LoginRepository(self.session)
        self.report_requirements = ReportRequirementRepository(self.session)
        return self

