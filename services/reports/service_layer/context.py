"""What the use cases share beyond a unit of work: settings, the known forms and the cache of
requirements (immutable once opened, so a cache needs no invalidation, across replicas too)."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from contracts.api.common import ErrorCode
from runtime.directory import ACTING_ROLES
from runtime.errors import ApiError, conflict, forbidden, not_found
from services.reports.domain.forms import FormDefinition, FormRegistry
from services.reports.domain.model import DEFAULT_REMINDER_DAYS, ReportError, Requirement
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork


def _flag(env: Mapping[str, str], key: str, default: bool) -> bool:
    value = env.get(key)
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Config:
    exports_dir: Path
    allow_system_requests: bool = True  # CONGDOAN_REPORTS_ALLOW_SYSTEM_REQUESTS=0: actor_id required everywhere
    default_form_id: str = "bc-01-kl-tw"  # CONGDOAN_REPORTS_DEFAULT_FORM: the form of requirements from plans
    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS  # CONGDOAN_REPORTS_REMINDER_DAYS="7,3,1"

    @classmethod
    def from_env(cls, data_dir: Path, env: Mapping[str, str] | None = None) -> "Config":
        env = os.environ if env is None else env
        days = env.get("CONGDOAN_REPORTS_REMINDER_DAYS")
        try:
            reminder_days = (tuple(sorted({int(x) for x in days.split(",") if x.strip()}, reverse=True))
                             if days and days.strip() else DEFAULT_REMINDER_DAYS)
        except ValueError:
            raise ValueError(f"CONGDOAN_REPORTS_REMINDER_DAYS must be whole days separated by commas, got {days!r}") \
                from None
        exports = env.get("CONGDOAN_REPORTS_EXPORTS_DIR") or str(Path(data_dir) / "exports")
        return cls(exports_dir=Path(exports).resolve(),
                   allow_system_requests=_flag(env, "CONGDOAN_REPORTS_ALLOW_SYSTEM_REQUESTS", True),
                   default_form_id=env.get("CONGDOAN_REPORTS_DEFAULT_FORM") or "bc-01-kl-tw",
                   reminder_days=reminder_days)


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
            raise ApiError(ErrorCode.NOT_FOUND, f"form {form_id}" + (f" v{version}" if version else "") +
                           " is not known", [{"field": "form_id", "message": "unknown form"}])
        return known


# --- errors ----------------------------------------------------------------------------------------

def api_error(e: ReportError) -> ApiError:
    details = [{"field": e.field, "message": e.message}] if e.field else []
    if e.kind == "forbidden":
        return ApiError(ErrorCode.FORBIDDEN, e.message, details)
    if e.kind == "invalid":
        return ApiError(ErrorCode.VALIDATION, e.message, details)
    if e.kind == "not_found":
        return ApiError(ErrorCode.NOT_FOUND, e.message, details)
    return conflict(e.message, details)


# --- scope -----------------------------------------------------------------------------------------

class _Link(NamedTuple):
    unit_id: str
    merged_into: str | None


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


async def actor_of(uow: ReportsUnitOfWork, ctx: Context, actor_id: str | None) -> Any:
    """The acting person's directory row; None for a system request (allowed by configuration)."""
    if actor_id is None:
        if not ctx.config.allow_system_requests:
            raise forbidden("actor_id is required (system requests are switched off: "
                            "CONGDOAN_REPORTS_ALLOW_SYSTEM_REQUESTS=0)")
        return None
    person = await uow.directory.person(actor_id)
    if person is None or not person.active:
        raise ApiError(ErrorCode.FORBIDDEN, f"unknown or inactive actor {actor_id}",
                       [{"field": "actor_id", "message": "not a known active person"}])
    return person


def require_acting_role(person: Any, what: str) -> None:
    if not (ACTING_ROLES & set(person.roles or ())):
        raise ApiError(ErrorCode.FORBIDDEN, f"{person.person_id} has no role that may {what} "
                       f"(one of {', '.join(sorted(ACTING_ROLES))})", [{"field": "actor_id", "message": "no acting role"}])


async def acts_as(uow: ReportsUnitOfWork, person: Any, unit_id: str, req: Requirement | None, on: Any,
                  merged_into: str | None = None) -> bool:
    """Whether the person acts for ``unit_id``: it is their unit, or the unit their unit absorbed
    (a merged unit's history lives in the survivor), or — for a requirement's receiving unit — they
    belong to its receiving department (e.g. Ban TG-NC receives for the LĐLĐ tỉnh)."""
    mine = person.unit_id
    if mine == unit_id:
        return True
    if merged_into is not None or (await _merged(uow, unit_id)):
        if await uow.directory.successor(unit_id) == mine:
            return True
    if req is not None and req.receiving_department and unit_id == req.receiving_unit_id:
        wanted = _norm(req.receiving_department)
        for dept in await uow.hierarchy.departments(unit_id, on):
            if dept.unit_id == mine and (wanted in _norm(dept.name) or _norm(dept.name) in wanted
                                         or _norm(dept.code) == wanted):
                return True
    return False


async def _merged(uow: ReportsUnitOfWork, unit_id: str) -> bool:
    row = await uow.hierarchy.unit(unit_id)
    return row is not None and row.merged_into is not None


async def scope_of(uow: ReportsUnitOfWork, person: Any, chain: list[Any], req: Requirement | None, on: Any) -> str | None:
    """The nearest unit of ``chain`` (a unit and its ancestors) the person acts for, or None."""
    ids = [c.unit_id for c in chain]
    if person.unit_id in ids:
        return person.unit_id
    for c in chain:
        if await acts_as(uow, person, c.unit_id, req, on, getattr(c, "merged_into", None)):
            return c.unit_id
    return None


async def require_read_scope(uow: ReportsUnitOfWork, ctx: Context, actor_id: str | None, unit_id: str,
                             req: Requirement | None, on: Any) -> Any:
    """Reads of a unit (its report, its subtree's figures) are for the unit and the levels above."""
    person = await actor_of(uow, ctx, actor_id)
    if person is None:
        return None
    chain = await uow.reports.chain(unit_id, on)
    if not chain:
        if await uow.hierarchy.unit(unit_id) is None:
            raise not_found(f"unit {unit_id}")
        chain = [_Link(unit_id, None)]  # a unit outside the period's hierarchy: itself only
    if await scope_of(uow, person, chain, req, on) is None:
        raise ApiError(ErrorCode.FORBIDDEN, f"{person.person_id} of unit {person.unit_id} may not read unit {unit_id}",
                       [{"field": "actor_id", "message": "out of scope"}])
    return person
