"""What a text a person reads must not hold: a Python repr, a program value (None, True…), a
brace left by a template or an f-string, an ISO date, a program code (snake_case), or English words
in Vietnamese text. `problems(text)` names each one found; links (URLs and app paths) are skipped,
HTML is read as its text."""

from __future__ import annotations

import html
import re

_URL = re.compile(r"https?://\S+|(?<![\w/])/(?:plans|reports|awards|notify|inbox|settings)(?:/[\w.:%-]+)*")
_TAG = re.compile(r"<(?:!doctype|/?[a-z][a-z0-9]*)(?:\s[^<>]*)?/?>", re.IGNORECASE)
CHECKS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"<[^<>]*\b(?:object|method|function|built-in|class|module)\b[^<>]*>"), "a Python repr"),
    (re.compile(r"\b0x[0-9a-fA-F]{4,}\b"), "a memory address"),
    (re.compile(r"\b(?:datetime|date|Decimal|UUID|frozenset|dict_items|dict_keys)\("), "a Python repr"),
    (re.compile(r"\b(?:None|True|False|nan|NaN|null|undefined)\b"), "a program value"),
    (re.compile(r"[{}]"), "a brace"),
    (re.compile(r"\[\s*'|'\s*\]|\[\]"), "a Python list"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2})?"), "an ISO date"),
    (re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b"), "a program code"),
]
# English words that have no place in a Vietnamese text (ambiguous short words like "to", "in",
# "an" are Vietnamese too, and left out).
ENGLISH = frozenset("""
the and of for with from this that these is are was were be been not but or if then than
report reports reporting plan plans unit units task tasks deadline due submitted submit accepted accept
returned reopened overdue missing pending draft status period round award awards nomination nominee
approved rejected escalated collective individual province provincial grassroots union upper level
department yearly quarterly monthly ongoing once error unknown requirement form value values field
total late time date days none yes page
""".split())
_WORD = re.compile(r"(?<![\w-])[A-Za-z]+(?![\w-])")


def readable(text: str, *, is_html: bool = False) -> str:
    if is_html:
        text = html.unescape(_TAG.sub(" ", text))
    return _URL.sub(" ", text)


def problems(text: str, *, is_html: bool = False, english: bool = True) -> list[str]:
    """What is wrong with ``text`` for a Vietnamese reader: one line per finding, with its context."""
    plain = readable(text, is_html=is_html)
    found = []
    for pattern, what in CHECKS:
        for m in pattern.finditer(plain):
            found.append(f"{what}: …{plain[max(0, m.start() - 30):m.end() + 30]}…")
    if english:
        for m in _WORD.finditer(plain):
            if m.group(0).lower() in ENGLISH:
                found.append(f"an English word {m.group(0)!r}: …{plain[max(0, m.start() - 30):m.end() + 30]}…")
    return found
