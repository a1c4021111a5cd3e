from __future__ import annotations

from runtime.db import UnitOfWork
from services.awards.adapters.repository import (
    AwardsDirectory,
    DecisionsRepository,
    FactsRepository,
    ModelsRepository,
    NominationsRepository,
    RoundsRepository,
    SourcesRepository,
)


class AwardsUnitOfWork(UnitOfWork):
    directory: AwardsDirectory
    facts: FactsRepository
    sources: SourcesRepository
    rounds: RoundsRepository
    nominations: NominationsRepository
    decisions: DecisionsRepository
    models: ModelsRepository

    async def __aenter__(self) -> AwardsUnitOfWork:
        await super().__aenter__()
        s = self.session
        self.directory = AwardsDirectory(s)
        self.facts = FactsRepository(s)
        self.sources = SourcesRepository(s)
        self.rounds = RoundsRepository(s)
        self.nominations = NominationsRepository(s)
        self.decisions = DecisionsRepository(s)
        self.models = ModelsRepository(s)
        return self
