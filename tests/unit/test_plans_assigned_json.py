"""A plan issue serialises its tasks.assigned events from validated parts (services/plans
service_layer/plans.py `_Assigned`, and the outbox's `event_json`): the documents must be the ones
the models themselves give."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from contracts.envelope import build_event, event_json
from contracts.events import plans as ev
from services.plans.service_layer import plans as uc


def _item(item_id: str, content: str) -> SimpleNamespace:
    return SimpleNamespace(item_id=item_id, output="report", content=content)


def test_assigned_events_are_what_the_model_serialises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uc, "MAX_REFS_PER_EVENT", 2)
    a = uc._Assigned("kh-01", 3, "01/KH-LĐLĐ")
    items = [_item("i-1", "Tổ chức “học tập” chuyên đề\nnăm 2026 <đoàn viên> & NLĐ"), _item("i-2", "Báo cáo")]
    refs: dict[str, list[dict[str, object]]] = {"u-b": [], "u-a": []}
    for n, (unit, item, period, due) in enumerate([("u-b", items[0], "2026", date(2026, 3, 31)),
                                                   ("u-a", items[1], "2026-Q1", None),
                                                   ("u-b", items[1], "2026-Q1", None),
                                                   ("u-b", items[0], "2027", date(2027, 3, 31))]):
        occ = f"occ-{n}:x/y"
        a.add(unit, occ, item, period, due)
        refs[unit].append({"occurrence_id": occ, "item_id": item.item_id, "period": period, "due_date": due,
                           "output": item.output, "content": item.content})
    got = [(d.model, d.json, subject) for d, subject in a.events()]
    want = [(ev.TasksAssigned, ev.TasksAssigned(plan_id="kh-01", revision=3, plan_number="01/KH-LĐLĐ", unit_id=unit,
                                                occurrences=refs[unit][i:i + 2]).model_dump_json(), unit)
            for unit in ("u-a", "u-b") for i in range(0, len(refs[unit]), 2)]
    assert got == want
    for _, text, _ in got:  # and each is valid data of the event
        ev.TasksAssigned.model_validate_json(text)


def test_an_occurrence_id_outside_the_id_pattern_is_refused() -> None:
    with pytest.raises(ValueError):
        uc._Assigned("kh-01", 1, "01").add("u", 'bad"id', _item("i", "x"), "2026", None)


@pytest.mark.parametrize("subject", [None, "u-1 Đ"])
def test_event_json_is_build_event_dumped(subject: str | None) -> None:
    data = ev.TasksAssigned(plan_id="p", revision=1, plan_number="01/KH", unit_id="u", occurrences=[
        {"occurrence_id": "o", "item_id": "i", "period": "2026", "due_date": date(2026, 1, 2), "output": "report",
         "content": "Nội dung \"trích\"\n"}])
    now = datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=UTC)
    want = json.dumps(build_event(type_="t", source="/s", data=data, time=now, subject=subject, id_="e-1"),
                      ensure_ascii=False, separators=(",", ":"))
    assert event_json(type_="t", source="/s", data=data, time=now, subject=subject, id_="e-1") == ("e-1", want)
    assert event_json(type_="t", source="/s", data=data.model_dump_json(), time=now, subject=subject,
                      id_="e-1") == ("e-1", want)


@pytest.mark.parametrize("subject", [None, "u-1"])
def test_event_json_carries_the_tracing_extension_as_build_event_does(subject: str | None) -> None:
    data = ev.TasksAssigned(plan_id="p", revision=1, plan_number="01/KH", unit_id="u", occurrences=[])
    now = datetime(2026, 11, 30, 1, 2, 3, tzinfo=UTC)
    trace = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": "congdoan=1"}
    want = json.dumps(build_event(type_="t", source="/s", data=data, time=now, subject=subject, id_="e-1",
                                  extensions=trace), ensure_ascii=False, separators=(",", ":"))
    assert event_json(type_="t", source="/s", data=data, time=now, subject=subject, id_="e-1",
                      extensions=trace) == ("e-1", want)
