"""Error replies speak Vietnamese (issue 12 §2): a scan of the source for the messages people read.

Every message given to a rule kind (runtime/errors.py and the services' own error classes), to an
ApiError, or as the "message" of a reply's details, is read from the syntax tree of services/ and
runtime/: its literal text (the parts of an f-string that are not placeholders) must be NFC, must not
read as English, and — a whole sentence — must end with a period. `not_found(what)` takes the
name of what was not found ("kế hoạch {plan_id}"), which the helper puts in a sentence.

The scan is pragmatic: it flags common English words, not every English sentence one could write.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Constructors and helpers whose message a person reads: name -> index of the message argument.
MESSAGE_ARG = {
    # runtime/errors.py
    "DomainError": 0, "Invalid": 0, "Conflict": 0, "Forbidden": 0, "NotFound": 0, "TooLarge": 0,
    "conflict": 0, "forbidden": 0, "ApiError": 1,
    # the services' own kinds and shorthands
    "invalid": 0, "refused": 0, "NotAllowed": 0, "_forbidden": 0, "_unauthenticated": 0,
    "PlanError": 0, "DirectoryError": 0, "HierarchyError": 0, "TaskError": 0, "IndividualPlanError": 0,
    "TimingError": 0, "ReportError": 0, "FormDefinitionError": 0,
    "RowError": 2, "err": 2,  # plans' CSV import: (line, field, message)
    "FieldError": 1,  # reports' form validation: (field, message, code)
}
# Helpers that take the name of a thing, not a sentence: "Không tìm thấy {what}."
NAME_ARG = {"not_found": 0, "_not_found": 0}

ENGLISH = re.compile(
    r"\b(not|must|is|are|was|were|the|cannot|can't|found|invalid|already|unknown|exists?|give|should|missing|"
    r"required|expected|error|failed|does|has|have|no|of|for|with|from|after|before|only|than|this|that|"
    r"which|there|be|been|an|and|or|needs?|allowed|unit|plan|report|requirement|person|form|task|login|"
    r"revision|notification|round|nomination|decision|import|part|period)\b",
    re.IGNORECASE)
# Vietnamese is written with diacritics: a message with letters and none of these is not Vietnamese.
VIETNAMESE_LETTER = re.compile(r"[^\x00-\x7f]")
PLACEHOLDER = "\x00"
# Not replies: start-up, configuration and command-line errors for operators.
SKIP_FILES = {"runtime/settings.py", "runtime/launcher.py", "runtime/natsauth.py", "runtime/natsctl.py",
              "runtime/clockctl.py", "runtime/authctl.py"}
# Still being translated (issue 12 §2, in progress): removed as each is done.
PENDING: tuple[str, ...] = ()


def _text(node: ast.expr) -> str | None:
    """The literal text of a message expression, placeholders as PLACEHOLDER; None if not literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else PLACEHOLDER
                       for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is None and right is None:
            return None
        return (left if left is not None else PLACEHOLDER) + (right if right is not None else PLACEHOLDER)
    return None


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _arg(call: ast.Call, index: int) -> ast.expr | None:
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[:index + 1]):
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg in ("message", "what")), None)


def messages(path: Path) -> list[tuple[int, str, str]]:
    """(line, text, "sentence" | "name") of every message in a file."""
    out: list[tuple[int, str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            for table, kind in ((MESSAGE_ARG, "sentence"), (NAME_ARG, "name")):
                if name in table and (arg := _arg(node, table[name])) is not None:
                    text = _text(arg)
                    if text is not None:
                        out.append((node.lineno, text, kind))
        elif isinstance(node, ast.Dict):  # the details of a reply: {"field": …, "message": …}
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "message" and value is not None:
                    text = _text(value)
                    if text is not None:
                        out.append((node.lineno, text, "sentence"))
    return out


def problems(text: str, kind: str) -> list[str]:
    found = []
    literal = text.replace(PLACEHOLDER, " ")
    if not unicodedata.is_normalized("NFC", literal):
        found.append("not NFC")
    # Names in code (unit_id, BAN_TGNC, “kind”, 'kind') are not words of the sentence.
    words = re.sub(r"“[^”]*”|'[^']*'|\([a-z_]+(?:, [^)]*)?\)|\b\w*_\w*\b", " ", literal)
    if m := ENGLISH.search(words):
        found.append(f"English word {m.group(0)!r}")
    elif re.search(r"[A-Za-z]{2}", words) and not VIETNAMESE_LETTER.search(words):
        found.append("no Vietnamese in it")
    stripped = text.rstrip()
    if kind == "sentence" and stripped and not stripped.endswith(PLACEHOLDER) and stripped[-1] not in ".?!":
        found.append("no period at the end")
    if kind == "name" and stripped.endswith("."):
        found.append("a name, not a sentence: the helper adds the period")
    return found


def _sources() -> list[Path]:
    files = [p for d in ("services", "runtime") for p in sorted((ROOT / d).rglob("*.py"))
             if "migrations" not in p.parts and "seed" not in p.parts]
    return [p for p in files if str(p.relative_to(ROOT)) not in SKIP_FILES
            and not str(p.relative_to(ROOT)).startswith(PENDING)]


def test_error_messages_are_vietnamese_sentences():
    bad = [f"{p.relative_to(ROOT)}:{line}: {', '.join(why)}: {text.replace(PLACEHOLDER, '{…}')!r}"
           for p in _sources() for line, text, kind in messages(p) if (why := problems(text, kind))]
    assert not bad, f"{len(bad)} error message(s) a person would read in English or unfinished:\n" + "\n".join(bad)


@pytest.mark.parametrize("text,kind,flagged", [
    ("plan {} is not issued", "sentence", True),
    ("Kế hoạch {} chưa được ban hành.", "sentence", False),
    ("Kế hoạch {} chưa được ban hành", "sentence", True),
    ("kế hoạch cấp trên \x00", "name", False),
    ("plan \x00", "name", True),
    ("requirement \x00", "name", True),
    ("Cần ghi mã đơn vị thực hiện (unit_id).", "sentence", False),
    ("Thời hạn phải là một đối tượng có trường “kind”.", "sentence", False),
    ("Ke\u0302\u0301 hoa\u0323ch.", "sentence", True),  # decomposed (NFD)
])
def test_the_scan_tells_english_from_vietnamese(text, kind, flagged):
    assert bool(problems(text, kind)) is flagged
