"""A report form drawn from its definition (reports' `get_form`): the fields to show, the posted
values as the service expects them (numbers as numbers), and the service's field errors placed
at their fields. The service validates; this module only carries values both ways."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_INT = re.compile(r"^[+-]?\d+$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}([.\s]\d{3})+$")  # 1.234.567 or 1 234 567
_DECIMAL = re.compile(r"^[+-]?\d+([.,]\d+)?$")


@dataclass(frozen=True)
class Field:
    key: str
    kind: str  # number | share | text
    label: str
    unit: str | None
    compulsory: bool
    integer: bool
    min: float | None
    max: float | None
    max_length: int | None
    numerator: str | None
    denominator: str | None

    @property
    def input(self) -> bool:
        return self.kind != "share"


def fields_of(definition: dict[str, Any]) -> list[Field]:
    defaults = definition.get("defaults") or {}
    out = []
    for f in definition.get("fields") or []:
        kind = f.get("kind", "number")
        out.append(Field(
            key=f["key"], kind=kind, label=f.get("label") or f["key"], unit=f.get("unit"),
            compulsory=bool(f.get("compulsory", defaults.get("compulsory", kind != "share"))),
            integer=bool(f.get("integer", defaults.get("integer", True))), min=f.get("min"), max=f.get("max"),
            max_length=f.get("max_length"), numerator=f.get("numerator"), denominator=f.get("denominator")))
    return out


def parse_number(text: str, integer: bool) -> int | float | str:
    """What a cadre types → a number; anything else is sent as typed (the service says what is wrong)."""
    t = text.strip()
    if _INT.match(t):
        return int(t)
    if integer and _GROUPED.match(t):
        return int(re.sub(r"[.\s]", "", t))
    if _DECIMAL.match(t):
        return float(t.replace(",", "."))
    return t


def values_from(fields: list[Field], form: Any) -> dict[str, Any]:
    """The posted values: empty inputs left out (a missing compulsory field is the service's to name)."""
    values: dict[str, Any] = {}
    for f in fields:
        if not f.input:
            continue
        raw = form.get(f"v_{f.key}")
        if raw is None:
            continue
        raw = str(raw)
        if raw.strip() == "":
            continue
        values[f.key] = parse_number(raw, f.integer) if f.kind == "number" else raw
    return values


def shown(fields: list[Field], values: dict[str, Any] | None) -> dict[str, str]:
    """The values as the inputs show them."""
    out: dict[str, str] = {}
    for f in fields:
        v = (values or {}).get(f.key)
        out[f.key] = "" if v is None else str(v)
    return out


def share(f: Field, values: dict[str, Any] | None) -> str:
    v = values or {}
    try:
        num, den = float(v.get(f.numerator)), float(v.get(f.denominator))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if not den:
        return "—"
    return f"{100 * num / den:.1f}".replace(".", ",") + "%"


def errors_at(problem_fields: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Field errors by form key (`values.<key>`), and the rest (not at a field of the form)."""
    at: dict[str, str] = {}
    rest: list[str] = []
    for path, message in problem_fields.items():
        if path.startswith("values."):
            at.setdefault(path.removeprefix("values."), message)
        elif message:
            rest.append(message)
    return at, rest
