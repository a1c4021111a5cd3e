"""What the use cases share beyond a unit of work: settings, the known forms and the cache of
requirements (immutable once opened, so a cache needs no invalidation, across replicas too)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from runtime.access import Action, Actor
from runtime.auth import Principal
from runtime.errors import not_found
from services.reports.domain.forms import FormDefinition, FormRegistry
from services.reports.domain.model import DEFAULT_REMINDER_DAYS, Requirement, local_day
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork


@dataclass(frozen=True)
class Config:
    """What the use cases read of the service's settings (services/reports/settings.py)."""

    exports_dir: Path
    default_form_id: str = "bc-01-kl-tw"
    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS


@dataclass
class Context:
    config: Config
    forms: FormRegistry = field(default_factory=FormRegistry.from_directory)
    _requirements: dict[str, Requirement] = field(default_factory=dict)

    # --- requirements

    def cached_requirement(self, requirement_id: str) -> Requirement | None:
        return self._requirements.get(requirement_id)

    def remember(self, q: Requirement) -> Requirement:
        if len(self._requirements) > 10_000:
            self._requirements.clear()
        self._requirements[q.requirement_id] = q
        return q

    async def requirement(self, uow: ReportsUnitOfWork, requirement_id: str) -> Requirement | None:
        q = self._requirements.get(requirement_id)
        if q is None:
            q = await uow.requirements.get(requirement_id)
            if q is not None:
                self.remember(q)
        return q

    # --- forms

    async def form(self, uow: ReportsUnitOfWork, form_id: str, version: int | None = None) -> FormDefinition:
        """That version (the latest when None) among the built-in forms and those registered here."""
        known = None
        try:
            known = self.forms.get(form_id, version)
        except KeyError:
            pass
        if known is not None and version is not None:
            return known
        stored = await uow.forms.get(form_id, version)
        if stored is not None:
            form = FormDefinition.from_dict(stored)
            if known is None or form.version > known.version:
                self.forms.register(form)
                return form
        if known is None:
            raise not_found(f"biểu mẫu {form_id}" + (f" v{version}" if version else ""), "form_id")
        return known


# --- access (the rule: runtime/access.py) ----------------------------------------------------------

def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _departments_of(uow: ReportsUnitOfWork, req: Requirement | None, on: date) -> Any:
    """The departments receiving for a requirement's receiving unit (e.g. Ban TG-NC receives for
    the LĐLĐ tỉnh), matched by name or code as the plan writes it."""
    async def departments() -> tuple[str | None, frozenset[str]]:
        if req is None or not req.receiving_department:
            return None, frozenset()
        wanted = _norm(req.receiving_department)
        return req.receiving_unit_id, frozenset(
            d.unit_id for d in await uow.hierarchy.departments(req.receiving_unit_id, on)
            if wanted in _norm(d.name) or _norm(d.name) in wanted or _norm(d.code) == wanted)
    return departments


async def authorize(uow: ReportsUnitOfWork, who: Principal, action: Action, unit_id: str | None, on: date, *,
                    req: Requirement | None = None, field: str = "unit_id") -> Actor:
    """The caller, when the access policy allows `action` on `unit_id` in the hierarchy of `on`
    (a requirement's period); 403 with the policy's reason otherwise."""
    return await uow.directory.authorize(who, action, unit_id, on, departments=_departments_of(uow, req, on),
                                         field=field, today=local_day(uow.now()))
