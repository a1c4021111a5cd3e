"""Report forms as data: a versioned form definition, not hard-coded classes.

A campaign brings its own form (a JSON document, see ``form_definitions/``); the form holds its
fields (numbers with bounds and an aggregation rule, derived shares, narrative texts), which are
compulsory, and the cross-field rules. ``validate`` names every wrong field, in Vietnamese and in
English.

Conventions, kept by every form:
- a *number* field is submitted by a unit and states **that unit's own** activity (never its
  subtree's); consolidation sums it up the hierarchy (aggregation ``"sum"``);
- a *share* field is derived, never submitted: ``numerator / denominator`` of two number fields,
  recomputed from the rolled-up sums at every level (never an average of shares); it is a fraction
  in [0, 1], or ``None`` when the denominator is 0;
- a *text* field is a narrative section (results, limitations…), NFC-normalised and bounded;
  consolidation gathers it per child unit.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any, ClassVar

FORM_SCHEMA = "congdoan.reports.form.v1"
DEFINITIONS_DIR = Path(__file__).resolve().parent / "form_definitions"

_OPS: dict[str, Any] = {
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "==": lambda a, b: a == b,
}
_OPS_VI = {"<=": "không lớn hơn", "<": "nhỏ hơn", ">=": "không nhỏ hơn", ">": "lớn hơn", "==": "bằng"}


def nfc(text: str) -> str:
    """Vietnamese text in one canonical form (NFC), trimmed: equal texts compare equal."""
    return unicodedata.normalize("NFC", text).strip()


class FormDefinitionError(ValueError):
    """The form document itself is wrong (unknown kind, duplicate key, rule on an unknown field…)."""


def _attr_problem(exc: TypeError) -> str:
    """What Python's complaint about a field's or rule's attributes means, in Vietnamese."""
    text = str(exc)
    if m := re.search(r"unexpected keyword argument '(\w+)'", text):
        return f"không có thuộc tính “{m.group(1)}”"
    if m := re.search(r"missing \d+ required [\w-]+ arguments?: (.*)", text):
        return "thiếu thuộc tính " + ", ".join(f"“{n}”" for n in re.findall(r"'(\w+)'", m.group(1)))
    return "thuộc tính không hợp lệ"


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a submission. ``field`` is the field key (or keys joined by
    ``,`` for a cross-field rule); ``message`` is a Vietnamese sentence, ``code`` the stable type."""

    field: str
    message: str
    code: str = "invalid"  # missing | type | integer | min | max | max_length | unknown | rule

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class FormValidationError(ValueError):
    """A submission does not satisfy its form. ``errors`` lists every problem, each naming its field."""

    def __init__(self, form: FormDefinition, errors: list[FieldError]) -> None:
        self.form_id, self.version, self.errors = form.form_id, form.version, errors
        super().__init__(f"Báo cáo chưa đúng biểu mẫu {form.form_id} v{form.version} ({len(errors)} lỗi). "
                         + " ".join(e.message for e in errors))


# --------------------------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class NumberField:
    """A figure a unit submits, summed up the hierarchy."""

    kind: ClassVar[str] = "number"
    key: str
    label: str  # Vietnamese, as printed in the report ("Số buổi tổ chức học tập, quán triệt")
    label_en: str = ""
    unit: str = ""  # đơn vị tính: "buổi", "người", "tin, bài"
    compulsory: bool = True
    integer: bool = True
    min: float | None = 0
    max: float | None = None
    aggregation: str = "sum"

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "label": self.label, "label_en": self.label_en,
                "unit": self.unit, "compulsory": self.compulsory, "integer": self.integer, "min": self.min,
                "max": self.max, "aggregation": self.aggregation}


@dataclass(frozen=True)
class ShareField:
    """A derived share ``numerator / denominator`` of two summed number fields; never submitted."""

    kind: ClassVar[str] = "share"
    key: str
    label: str
    numerator: str
    denominator: str
    label_en: str = ""
    unit: str = "%"
    decimals: int = 1  # when printed as a percentage
    aggregation: ClassVar[str] = "share"
    compulsory: ClassVar[bool] = False

    def compute(self, numerator: float | None, denominator: float | None) -> float | None:
        if not numerator or not denominator:
            return 0.0 if denominator else None
        return numerator / denominator

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "label": self.label, "label_en": self.label_en,
                "unit": self.unit, "aggregation": self.aggregation, "numerator": self.numerator,
                "denominator": self.denominator, "decimals": self.decimals}


@dataclass(frozen=True)
class TextField:
    """A narrative section (results, limitations and causes, next year's tasks, proposals)."""

    kind: ClassVar[str] = "text"
    key: str
    label: str
    label_en: str = ""
    compulsory: bool = True
    max_length: int = 20_000
    min_length: int = 0  # after NFC and trimming; a compulsory text must also be non-empty

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "label": self.label, "label_en": self.label_en,
                "compulsory": self.compulsory, "max_length": self.max_length, "min_length": self.min_length}


FormField = NumberField | ShareField | TextField
_KINDS: dict[str, type] = {"number": NumberField, "share": ShareField, "text": TextField}


@dataclass(frozen=True)
class CrossFieldRule:
    """``left op right``, ``right`` a field key or a number; checked only when both sides are present
    (an absent compulsory field is reported as missing on its own)."""

    left: str
    op: str
    right: str | float
    message: str = ""  # optional Vietnamese wording; a clear default is built from the labels
    message_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"left": self.left, "op": self.op, "right": self.right}
        if self.message:
            d["message"] = self.message
        if self.message_en:
            d["message_en"] = self.message_en
        return d


# ----------------------------------------------------------------------------------------------- form


@dataclass(frozen=True)
class FormDefinition:
    form_id: str
    version: int
    title: str  # Vietnamese
    fields: tuple[FormField, ...]
    rules: tuple[CrossFieldRule, ...] = ()
    title_en: str = ""
    description: str = ""
    _by_key: dict[str, FormField] = dc_field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        by_key: dict[str, FormField] = {}
        for f in self.fields:
            if not f.key or not f.key.replace("_", "").isalnum() or not f.key.isascii():
                raise FormDefinitionError(f"Mã trường “{f.key}” chỉ được gồm chữ cái không dấu, chữ số và dấu gạch dưới.")
            if f.key in by_key:
                raise FormDefinitionError(f"Mã trường “{f.key}” bị trùng (xuất hiện hai lần).")
            by_key[f.key] = f
        object.__setattr__(self, "_by_key", by_key)
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise FormDefinitionError(f"Phiên bản (version) của biểu mẫu phải là số nguyên dương, không phải {self.version!r}.")
        for f in self.fields:
            if isinstance(f, NumberField):
                if f.aggregation != "sum":
                    raise FormDefinitionError(f"Trường “{f.key}”: không có cách tổng hợp (aggregation) “{f.aggregation}” "
                                              "(trường số được cộng dồn: “sum”; tỷ lệ là loại trường “share”).")
                if f.min is not None and f.max is not None and f.min > f.max:
                    raise FormDefinitionError(f"Trường “{f.key}”: giá trị nhỏ nhất {f.min} lớn hơn giá trị lớn nhất {f.max}.")
            elif isinstance(f, ShareField):
                for part in (f.numerator, f.denominator):
                    if not isinstance(by_key.get(part), NumberField):
                        raise FormDefinitionError(f"Tỷ lệ “{f.key}”: “{part}” không phải trường số của biểu mẫu.")
            elif isinstance(f, TextField) and f.max_length < 1:
                raise FormDefinitionError(f"Trường “{f.key}”: độ dài tối đa (max_length) phải là số dương.")
        for r in self.rules:
            if r.op not in _OPS:
                raise FormDefinitionError(f"Quy tắc {r.left} {r.op} {r.right}: phép so sánh (operator) phải là một trong "
                                          f"{', '.join(sorted(_OPS))}.")
            sides = [r.left] + ([r.right] if isinstance(r.right, str) else [])
            for side in sides:
                if not isinstance(by_key.get(side), NumberField):
                    raise FormDefinitionError(f"Quy tắc {r.left} {r.op} {r.right}: “{side}” không phải trường số "
                                              f"(number field).")

    # --- views

    def field(self, key: str) -> FormField:
        return self._by_key[key]

    @property
    def number_fields(self) -> tuple[NumberField, ...]:
        return tuple(f for f in self.fields if isinstance(f, NumberField))

    @property
    def share_fields(self) -> tuple[ShareField, ...]:
        return tuple(f for f in self.fields if isinstance(f, ShareField))

    @property
    def text_fields(self) -> tuple[TextField, ...]:
        return tuple(f for f in self.fields if isinstance(f, TextField))

    @property
    def indicator_fields(self) -> tuple[NumberField | ShareField, ...]:
        """Number and share fields, in form order (the rows of the figures table)."""
        return tuple(f for f in self.fields if not isinstance(f, TextField))

    @property
    def compulsory_keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields if f.compulsory)

    # --- validation

    def validate(self, values: Mapping[str, Any]) -> list[FieldError]:
        """Every problem of a submission, in form order, each naming its field. Values of share
        fields are computed, so a submitted one is ignored (not an error)."""
        errors: list[FieldError] = []
        self._check(values, errors)
        return errors

    def clean(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The submission as stored: texts NFC-normalised and trimmed, integral numbers as ``int``,
        shares dropped (they are derived), absent optional fields left out. Raises
        ``FormValidationError`` listing every problem."""
        errors: list[FieldError] = []
        out = self._check(values, errors)
        if errors:
            raise FormValidationError(self, errors)
        return out

    def derived(self, values: Mapping[str, Any]) -> dict[str, float | None]:
        """Shares of one (cleaned) submission."""
        return {s.key: s.compute(values.get(s.numerator), values.get(s.denominator)) for s in self.share_fields}

    def _check(self, values: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in values:
            if key not in self._by_key:
                errors.append(FieldError(str(key), f"Biểu mẫu {self.form_id} v{self.version} không có trường “{key}”.",
                                         "unknown"))
        for f in self.fields:
            if isinstance(f, ShareField):
                continue
            raw = values.get(f.key)
            if isinstance(raw, str):
                raw = nfc(raw)
                if raw == "" and isinstance(f, NumberField):
                    raw = None
            if raw is None or raw == "":
                if f.compulsory:
                    errors.append(FieldError(f.key, f"Thiếu trường bắt buộc “{f.label}” ({f.key}).", "missing"))
                continue
            if isinstance(f, NumberField):
                number = self._number(f, raw, errors)
                if number is not None:
                    out[f.key] = number
            else:
                self._text(f, raw, errors, out)
        for r in self.rules:
            left = out.get(r.left)
            right = out.get(r.right) if isinstance(r.right, str) else r.right
            if left is None or right is None or _OPS[r.op](left, right):
                continue
            keys = r.left + ("," + r.right if isinstance(r.right, str) else "")
            errors.append(FieldError(keys, self._rule_message(r, left, right), "rule"))
        return out

    def _number(self, f: NumberField, raw: Any, errors: list[FieldError]) -> int | float | None:
        name_vi = f"“{f.label}” ({f.key})"
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or (isinstance(raw, float) and not math.isfinite(raw)):
            errors.append(FieldError(f.key, f"Trường {name_vi} phải là một số, không phải {raw!r}.", "type"))
            return None
        if f.integer:
            if isinstance(raw, float):
                if not raw.is_integer():
                    errors.append(FieldError(f.key, f"Trường {name_vi} phải là số nguyên, không phải {raw}.", "integer"))
                    return None
                raw = int(raw)
        if f.min is not None and raw < f.min:
            errors.append(FieldError(f.key, f"Trường {name_vi} phải không nhỏ hơn {_num(f.min)} (đang là {_num(raw)}).",
                                     "min"))
            return None
        if f.max is not None and raw > f.max:
            errors.append(FieldError(f.key, f"Trường {name_vi} phải không lớn hơn {_num(f.max)} (đang là {_num(raw)}).",
                                     "max"))
            return None
        return raw

    def _text(self, f: TextField, raw: Any, errors: list[FieldError], out: dict[str, Any]) -> None:
        name_vi = f"“{f.label}” ({f.key})"
        if not isinstance(raw, str):
            errors.append(FieldError(f.key, f"Trường {name_vi} phải là văn bản.", "type"))
            return
        if len(raw) > f.max_length:
            errors.append(FieldError(f.key, f"Trường {name_vi} dài {len(raw)} ký tự, vượt quá {f.max_length} ký tự.",
                                     "max_length"))
            return
        if len(raw) < f.min_length:
            errors.append(FieldError(f.key, f"Trường {name_vi} cần ít nhất {f.min_length} ký tự.", "min_length"))
            return
        out[f.key] = raw

    def _rule_message(self, r: CrossFieldRule, left: float, right: float) -> str:
        lf = self._by_key[r.left]
        if isinstance(r.right, str):
            rf = self._by_key[r.right]
            rv = f"“{rf.label}” ({r.right} = {_num(right)})"
        else:
            rv = _num(right)
        vi = r.message or f"“{lf.label}” ({r.left} = {_num(left)}) phải {_OPS_VI[r.op]} {rv}"
        return vi if vi.rstrip().endswith((".", "!", "?")) else f"{vi}."

    # --- serialisation

    def to_dict(self) -> dict[str, Any]:
        return {"schema": FORM_SCHEMA, "form_id": self.form_id, "version": self.version, "title": self.title,
                "title_en": self.title_en, "description": self.description,
                "fields": [f.to_dict() for f in self.fields], "rules": [r.to_dict() for r in self.rules]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FormDefinition:
        schema = data.get("schema", FORM_SCHEMA)
        if schema != FORM_SCHEMA:
            raise FormDefinitionError(f"Không nhận ra lược đồ biểu mẫu (schema) “{schema}”; cần “{FORM_SCHEMA}”.")
        for required in ("form_id", "version", "title", "fields"):
            if required not in data:
                raise FormDefinitionError(f"Định nghĩa biểu mẫu thiếu trường “{required}”.")
        fields: list[FormField] = []
        for i, raw in enumerate(data["fields"]):
            kind = raw.get("kind")
            cls_ = _KINDS.get(kind)
            if cls_ is None:
                raise FormDefinitionError(f"Trường thứ {i + 1} (“{raw.get('key')}”): không có loại trường “{kind}”; "
                                          f"các loại dùng được: {', '.join(sorted(_KINDS))}.")
            attrs = {k: v for k, v in raw.items() if k != "kind"}
            if cls_ is ShareField:
                attrs.pop("aggregation", None)
            attrs = {k: nfc(v) if isinstance(v, str) else v for k, v in attrs.items()}
            try:
                fields.append(cls_(**attrs))
            except TypeError as e:
                raise FormDefinitionError(f"Trường thứ {i + 1} (“{raw.get('key')}”): {_attr_problem(e)}.") from None
        rules = []
        for raw in data.get("rules", ()):
            try:
                rules.append(CrossFieldRule(**{k: nfc(v) if isinstance(v, str) else v for k, v in raw.items()}))
            except TypeError as e:
                raise FormDefinitionError(f"Quy tắc {raw!r}: {_attr_problem(e)}.") from None
        return cls(form_id=data["form_id"], version=data["version"], title=nfc(data["title"]),
                   title_en=data.get("title_en", ""), description=nfc(data.get("description", "")),
                   fields=tuple(fields), rules=tuple(rules))

    @classmethod
    def from_json(cls, text: str) -> FormDefinition:
        return cls.from_dict(json.loads(text))

    @classmethod
    def load(cls, path: str | Path) -> FormDefinition:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def _num(x: float | int) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


# ------------------------------------------------------------------------------------------- registry


class FormRegistry:
    """Known forms by (form_id, version). A campaign registers its own; old versions stay readable
    so that reports keep the form they were submitted against."""

    def __init__(self, forms: Iterable[FormDefinition] = ()) -> None:
        self._forms: dict[tuple[str, int], FormDefinition] = {}
        for f in forms:
            self.register(f)

    def register(self, form: FormDefinition) -> FormDefinition:
        key = (form.form_id, form.version)
        if key in self._forms and self._forms[key] != form:
            raise FormDefinitionError(f"Biểu mẫu {form.form_id} v{form.version} đã được đăng ký với nội dung khác; "
                                      "hãy ban hành một phiên bản mới.")
        self._forms[key] = form
        return form

    def get(self, form_id: str, version: int | None = None) -> FormDefinition:
        """That version, or the latest when ``version`` is None. KeyError names what is missing."""
        if version is not None:
            try:
                return self._forms[(form_id, version)]
            except KeyError:
                raise KeyError(f"form {form_id} v{version} is not known") from None
        versions = [v for (fid, v) in self._forms if fid == form_id]
        if not versions:
            raise KeyError(f"form {form_id} is not known")
        return self._forms[(form_id, max(versions))]

    def __iter__(self):
        return iter(self._forms.values())

    def __len__(self) -> int:
        return len(self._forms)

    @classmethod
    def from_directory(cls, directory: str | Path = DEFINITIONS_DIR) -> FormRegistry:
        """Every ``*.json`` form in a directory (the built-in ones by default)."""
        return cls(FormDefinition.load(p) for p in sorted(Path(directory).glob("*.json")))


def builtin_form(form_id: str, version: int) -> FormDefinition:
    return FormDefinition.load(DEFINITIONS_DIR / f"{form_id}.v{version}.json")


# The annual results report of the Conclusion 01-KL/TW campaign (the seed plan, part II.3).
CAMPAIGN_FORM_01KL: FormDefinition = builtin_form("bc-01-kl-tw", 1)
