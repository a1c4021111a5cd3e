"""Bounded JSON (runtime/inputs.py): whatever the bytes, a BadInput or a value — never another
exception — and the same refusals on every backend."""

from __future__ import annotations

import json
import time

import pytest

from runtime.inputs import MAX_INT, BadInput, check_depth, parse_json

DEEP = b"[" * 100_000 + b"]" * 100_000  # 200 kB nested 100,000 deep: RecursionError in json.loads


def test_deep_nesting_is_refused_before_parsing_and_quickly():
    started = time.perf_counter()
    with pytest.raises(BadInput) as e:
        parse_json(DEEP, max_bytes=256 * 1024)
    assert e.value.kind == "too_deep" and e.value.status == 400
    assert time.perf_counter() - started < 0.5
    with pytest.raises(BadInput):
        parse_json(b'{"a":' * 40 + b"1" + b"}" * 40, max_bytes=10_000)


def test_brackets_inside_strings_do_not_count():
    doc = json.dumps({"text": "[" * 5000 + "{" * 5000, "escaped": '\\"[[[[' * 100}).encode()
    check_depth(doc)
    assert parse_json(doc, max_bytes=100_000)["text"].startswith("[[")


@pytest.mark.parametrize("payload,kind,status", [
    (b"x" * 2000, "too_large", 413),
    (b"\xff\xfe", "encoding", 400),
    (b'{"a": ', "malformed", 400),
    (b'{"a": NaN}', "number_out_of_range", 422),
    (b'{"a": Infinity}', "number_out_of_range", 422),
    (b'{"a": 1e400}', "number_out_of_range", 422),
    (b'{"version": 1000000000000000000000000000000}', "number_out_of_range", 422),
    (b'{"a": "' + b"9" * 5000 + b'"}', None, None),  # a long digit string is only text
    (b'{"a": ' + b"9" * 5000 + b"}", "malformed", 400),  # more digits than Python converts
    (b'{"name": "Nguy\\u0000n"}', "control_character", 422),
    (b'{"name": "a\\u001fb"}', "control_character", 422),
    (b'{"name": "a\\bb"}', "control_character", 422),
    (b'{"na\\u0000me": "x"}', "control_character", 422),
    (b'{"name": "a\\\\u0000b"}', None, None),  # an escaped backslash, then the letters u0000
    (b'{"note": "d\\u00f2ng 1\\nd\\u00f2ng 2\\t\\r"}', None, None),  # line breaks and tabs are text
])
def test_values_are_bounded(payload, kind, status):
    if kind is None:
        parse_json(payload, max_bytes=10_000)
        return
    with pytest.raises(BadInput) as e:
        parse_json(payload, max_bytes=1000 if kind == "too_large" else 10_000)
    assert (e.value.kind, e.value.status) == (kind, status)
    assert e.value.message and e.value.detail


def test_the_offending_field_is_named():
    with pytest.raises(BadInput) as e:
        parse_json(json.dumps({"values": {"so_doan_vien": MAX_INT + 1}}).encode(), max_bytes=1000)
    assert e.value.field == "values.so_doan_vien"
    with pytest.raises(BadInput) as e:
        parse_json(json.dumps({"items": [{"title": "ok"}, {"title": "a\x00b"}]}).encode(), max_bytes=1000)
    assert e.value.field == "items.1.title"
    assert parse_json(json.dumps({"n": -MAX_INT}).encode(), max_bytes=1000) == {"n": -MAX_INT}


def test_empty_body():
    assert parse_json(b"", max_bytes=10, empty={}) == {}
    with pytest.raises(BadInput):
        parse_json(b"", max_bytes=10)
