"""Bounded JSON: what every message and request body goes through before any model sees it.

`parse_json` checks, in this order and before the parser recurses: the size, the nesting depth
(a scan of the brackets outside strings, so a 200 kB document nested 100,000 deep costs a few
milliseconds and never reaches `json.loads`' recursion), then parses. The parsed values are then
held to what every backend stores the same way: no NUL or other C0 control character in a string
(tab, line feed and carriage return excepted: text may span lines), integers within ±(2^53 − 1)
(exact in JSON everywhere, and inside SQLite's and PostgreSQL's 64-bit integers), finite numbers
only (no NaN or Infinity, which JSON does not have). Each refusal is a `BadInput` with a stable
`kind`, a message in Vietnamese and the dotted path of the offending value."""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32  # the contracts' deepest document (a plan: sections → items → parties) is < 10 levels
MAX_INT = 2**53 - 1

# Strings (with their escapes) are skipped by the depth scan; what remains is structure.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
# A control character can only reach a decoded string through an escape: \u0000-\u001f, \b, \f
# (raw ones are invalid JSON). The walk confirms (an escaped backslash before "u0000" is not one).
_CONTROL_ESCAPE = re.compile(rb"\\(?:u00[01][0-9a-fA-F]|[bf])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class BadInput(Exception):
    """Input refused before any model sees it. `kind`: too_large, too_deep, encoding, malformed,
    control_character, number_out_of_range."""

    def __init__(self, kind: str, message: str, detail: str, field: str = "") -> None:
        super().__init__(detail)
        self.kind = kind
        self.message = message  # for a person, in Vietnamese
        self.detail = detail  # for the logs and the dead letters, in English
        self.field = field

    @property
    def status(self) -> int:
        """The HTTP-like status of the refusal: 413 too large, 400 not JSON, 422 JSON out of bounds."""
        return {"too_large": 413, "too_deep": 400, "encoding": 400, "malformed": 400}.get(self.kind, 422)


def check_depth(data: bytes, max_depth: int = MAX_DEPTH) -> None:
    """Refuse a document nested deeper than `max_depth`, without parsing it."""
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return  # cannot be deeper than its number of openings
    depth = 0
    for m in _BRACKETS.finditer(_STRING.sub(b'""', data)):
        if m.group() in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                raise BadInput("too_deep", f"Dữ liệu lồng nhau quá sâu (hơn {max_depth} cấp).",
                               f"nested deeper than {max_depth} levels")
        else:
            depth -= 1


def parse_json(data: bytes, *, max_bytes: int, max_depth: int = MAX_DEPTH, empty: Any = None) -> Any:
    """Parse one JSON document within bounds, or raise BadInput. Never raises anything else for
    any input (RecursionError, MemoryError of a huge number… all become BadInput)."""
    if len(data) > max_bytes:
        raise BadInput("too_large", f"Dữ liệu {len(data)} byte vượt giới hạn {max_bytes} byte.",
                       f"{len(data)} bytes > limit {max_bytes}")
    if not data and empty is not None:
        return empty
    check_depth(data, max_depth)
    odd_number = False

    def parse_int(text: str) -> int:
        nonlocal odd_number
        value = int(text)
        if not -MAX_INT <= value <= MAX_INT:
            odd_number = True
        return value

    def parse_float(text: str) -> float:
        nonlocal odd_number
        value = float(text)
        if not math.isfinite(value):
            odd_number = True
        return value

    def parse_constant(text: str) -> float:
        nonlocal odd_number
        odd_number = True
        return float(text)

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("encoding", "Dữ liệu không phải văn bản UTF-8.", "not UTF-8") from None
    try:
        obj = json.loads(text, parse_int=parse_int, parse_float=parse_float, parse_constant=parse_constant)
    except ValueError as exc:  # JSONDecodeError, and int() of more than 4,300 digits
        raise BadInput("malformed", "Dữ liệu không phải JSON hợp lệ.", f"not JSON ({exc})") from None
    except (RecursionError, MemoryError, OverflowError) as exc:
        raise BadInput("malformed", "Dữ liệu không đọc được.", f"unreadable ({type(exc).__name__})") from None
    if odd_number or _CONTROL_ESCAPE.search(data):
        check_values(obj)
    return obj


def check_values(obj: Any) -> None:
    """Walk a parsed document (iteratively) and refuse control characters and numbers out of range."""
    stack: list[tuple[Any, str]] = [(obj, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if _CONTROL.search(value):
                raise BadInput("control_character", "Văn bản chứa ký tự điều khiển không được phép "
                               "(ví dụ ký tự NUL).", f"control character in {path or 'the document'}", path)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if not -MAX_INT <= value <= MAX_INT:
                raise BadInput("number_out_of_range", f"Số vượt giới hạn cho phép (±{MAX_INT}).",
                               f"integer out of ±{MAX_INT} in {path or 'the document'}", path)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise BadInput("number_out_of_range", "Số không hữu hạn (NaN, Infinity) không được phép.",
                               f"non-finite number in {path or 'the document'}", path)
        elif isinstance(value, dict):
            for k, v in value.items():
                if _CONTROL.search(k):
                    raise BadInput("control_character", "Tên trường chứa ký tự điều khiển không được phép.",
                                   f"control character in a key of {path or 'the document'}", path)
                stack.append((v, f"{path}.{k}" if path else k))
        elif isinstance(value, list):
            stack.extend((v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(value))
