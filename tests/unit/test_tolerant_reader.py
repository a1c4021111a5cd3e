"""Contracts can evolve (issue 11 §6, contracts/README.md "Evolution"): every consumer accepts every
event type it consumes with data fields it does not know (at any level) and without any optional
field — what a producer one additive change ahead, or one behind, sends."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

import pytest

from contracts.catalogue import CONSUMES, EVENTS_BY_TYPE, EventSpec
from contracts.envelope import build_event
from runtime.clock import TZ
from runtime.consumer import decode
from tests.unit.test_contracts import event_example

_NOW = datetime(2026, 10, 15, 9, tzinfo=TZ)
CASES = [(service, EVENTS_BY_TYPE[t]) for service, types in CONSUMES.items() for t in types]


def _message(spec: EventSpec, data: dict[str, Any]) -> bytes:
    ev = build_event(type_=spec.type, source=f"/congdoan/{spec.producer}",
                     data=spec.model.model_validate(event_example(spec)["data"]), time=_NOW)
    ev["data"] = data
    return json.dumps(ev, ensure_ascii=False).encode()


def _with_extras(value: Any) -> Any:
    """The same data with an unknown field in every object, at every level."""
    if isinstance(value, dict):
        return {**{k: _with_extras(v) for k, v in value.items()}, "added_in_a_later_release": {"note": "mới"}}
    if isinstance(value, list):
        return [_with_extras(v) for v in value]
    return value


def _decode(service: str, spec: EventSpec, data: dict[str, Any]) -> Any:
    return decode(_message(spec, data), spec.subject, 256 * 1024, dict.fromkeys(CONSUMES[service]))  # type: ignore[arg-type]


@pytest.mark.parametrize("service,spec", CASES, ids=lambda c: c if isinstance(c, str) else c.type)
def test_a_consumer_accepts_unknown_data_fields(service: str, spec: EventSpec) -> None:
    data = event_example(spec)["data"]
    plain = _decode(service, spec, data)
    tolerant = _decode(service, spec, _with_extras(copy.deepcopy(data)))
    assert tolerant.data == plain.data  # read as if the extras were not there


@pytest.mark.parametrize("service,spec", CASES, ids=lambda c: c if isinstance(c, str) else c.type)
def test_a_consumer_accepts_data_without_its_optional_fields(service: str, spec: EventSpec) -> None:
    data = event_example(spec)["data"]
    optional = [name for name, f in spec.model.model_fields.items() if not f.is_required()]
    for name in optional:
        fewer = {k: v for k, v in data.items() if k != name}
        assert getattr(_decode(service, spec, fewer).data, name) == spec.model.model_fields[name].get_default(
            call_default_factory=True), (spec.type, name)
