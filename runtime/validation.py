"""A request that does not have its model's shape, told in Vietnamese.

Pydantic names each problem with a stable `type` (missing, string_too_long, enum…) and an English
`msg`. The reply keeps the type, for programs, and says the problem in Vietnamese, for people; the
common types have their own sentence, the rest a general one."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

MAX_DETAILS = 50


def _or(expected: Any) -> str:
    """Pydantic's "'a', 'b' or 'c'" in Vietnamese."""
    return re.sub(r" or (?=')", " hoặc ", str(expected))


def _n(ctx: dict[str, Any], key: str) -> str:
    return str(ctx.get(key, "?"))


_DATE_HINT = "ghi theo dạng ngày/tháng/năm, ví dụ 30/11/2026, hoặc 2026-11-30"
_DATETIME_HINT = "ghi theo dạng ISO 8601 có múi giờ, ví dụ 2026-11-30T08:00:00+07:00"

_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda c: "Thiếu trường bắt buộc.",
    "extra_forbidden": lambda c: "Không có trường này trong mẫu yêu cầu.",
    "string_type": lambda c: "Cần một chuỗi ký tự.",
    "string_too_short": lambda c: "Không được để trống." if c.get("min_length") == 1
    else f"Cần ít nhất {_n(c, 'min_length')} ký tự.",
    "string_too_long": lambda c: f"Dài quá {_n(c, 'max_length')} ký tự.",
    "string_pattern_mismatch": lambda c: "Không đúng định dạng (chỉ dùng chữ cái không dấu, chữ số và các ký tự "
                                         "cho phép).",
    "string_unicode": lambda c: "Cần một chuỗi ký tự Unicode hợp lệ.",
    "int_type": lambda c: "Cần một số nguyên.",
    "int_parsing": lambda c: "Cần một số nguyên.",
    "int_from_float": lambda c: "Cần một số nguyên, không có phần thập phân.",
    "float_type": lambda c: "Cần một số.",
    "float_parsing": lambda c: "Cần một số.",
    "decimal_parsing": lambda c: "Cần một số.",
    "bool_type": lambda c: "Cần giá trị đúng/sai (true hoặc false).",
    "bool_parsing": lambda c: "Cần giá trị đúng/sai (true hoặc false).",
    "greater_than_equal": lambda c: f"Phải lớn hơn hoặc bằng {_n(c, 'ge')}.",
    "greater_than": lambda c: f"Phải lớn hơn {_n(c, 'gt')}.",
    "less_than_equal": lambda c: f"Phải nhỏ hơn hoặc bằng {_n(c, 'le')}.",
    "less_than": lambda c: f"Phải nhỏ hơn {_n(c, 'lt')}.",
    "multiple_of": lambda c: f"Phải là bội số của {_n(c, 'multiple_of')}.",
    "too_short": lambda c: f"Cần ít nhất {_n(c, 'min_length')} phần tử.",
    "too_long": lambda c: f"Nhiều nhất {_n(c, 'max_length')} phần tử (đang có {_n(c, 'actual_length')}).",
    "list_type": lambda c: "Cần một danh sách.",
    "set_type": lambda c: "Cần một danh sách.",
    "tuple_type": lambda c: "Cần một danh sách.",
    "dict_type": lambda c: "Cần một đối tượng.",
    "model_type": lambda c: "Cần một đối tượng.",
    "model_attributes_type": lambda c: "Cần một đối tượng.",
    "enum": lambda c: f"Giá trị phải là một trong: {_or(c.get('expected', ''))}.",
    "literal_error": lambda c: f"Giá trị phải là một trong: {_or(c.get('expected', ''))}.",
    "union_tag_invalid": lambda c: f"Loại “{c.get('tag', '')}” không hợp lệ; các loại dùng được: "
                                   f"{c.get('expected_tags', '')}.",
    "union_tag_not_found": lambda c: f"Thiếu trường {str(c.get('discriminator', '')).strip(chr(39))} cho biết loại.",
    "date_type": lambda c: f"Cần một ngày ({_DATE_HINT}).",
    "date_parsing": lambda c: f"Ngày không hợp lệ ({_DATE_HINT}).",
    "date_from_datetime_parsing": lambda c: f"Ngày không hợp lệ ({_DATE_HINT}).",
    "date_from_datetime_inexact": lambda c: f"Cần một ngày, không kèm giờ ({_DATE_HINT}).",
    "datetime_type": lambda c: f"Cần một thời điểm ({_DATETIME_HINT}).",
    "datetime_parsing": lambda c: f"Thời điểm không hợp lệ ({_DATETIME_HINT}).",
    "datetime_from_date_parsing": lambda c: f"Thời điểm không hợp lệ ({_DATETIME_HINT}).",
    "timezone_aware": lambda c: f"Thời điểm cần có múi giờ ({_DATETIME_HINT}).",
    "time_parsing": lambda c: "Giờ không hợp lệ (ghi theo dạng giờ:phút, ví dụ 08:00).",
    "url_parsing": lambda c: "Địa chỉ URL không hợp lệ.",
    "url_type": lambda c: "Cần một địa chỉ URL.",
    "url_scheme": lambda c: "Địa chỉ URL dùng giao thức không được phép.",
    "uuid_parsing": lambda c: "Mã UUID không hợp lệ.",
    "none_required": lambda c: "Trường này phải để trống (null).",
    "json_invalid": lambda c: "Không phải JSON hợp lệ.",
}


def message(error: ErrorDetails) -> str:
    """The Vietnamese sentence for one pydantic error."""
    say = _MESSAGES.get(error["type"])
    return say(dict(error.get("ctx") or {})) if say else "Giá trị không hợp lệ."


def location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def details(exc: ValidationError) -> list[dict[str, Any]]:
    """The reply's details: the field's dotted path, the problem in Vietnamese, pydantic's type."""
    return [{"field": location(e["loc"]), "message": message(e), "type": e["type"]}
            for e in exc.errors(include_url=False)[:MAX_DETAILS]]


def summary(exc: ValidationError) -> str:
    """The reply's message: which fields, and — for one — what is wrong with it."""
    errors = exc.errors(include_url=False)
    if len(errors) == 1:
        e = errors[0]
        where = location(e["loc"])
        said = message(e)
        return f"Yêu cầu không hợp lệ ở trường “{where}”: {said[:1].lower()}{said[1:]}" if where else \
            f"Yêu cầu không hợp lệ: {said[:1].lower()}{said[1:]}"
    fields = list(dict.fromkeys(location(e["loc"]) for e in errors))
    shown = ", ".join(f"“{f}”" for f in fields[:5]) + (", …" if len(fields) > 5 else "")
    return f"Yêu cầu không hợp lệ ở {len(fields)} trường: {shown}."
