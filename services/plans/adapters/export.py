"""Spreadsheet files of exports (XLSX through openpyxl, in memory)."""

from __future__ import annotations

import io
from typing import Any


def xlsx_bytes(rows: list[list[Any]], *, sheet: str, title: str | None = None) -> bytes:
    """A workbook with one sheet: an optional title line, then the header row (bold, frozen) and
    the data rows, columns sized to their text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    first = 1
    if title:
        ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=13)
        first = 3
    for r, values in enumerate(rows, start=first):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            if r == first:
                cell.font = Font(bold=True)
                cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.freeze_panes = ws.cell(row=first + 1, column=1)
    for c in range(1, (max((len(v) for v in rows), default=0)) + 1):
        width = max((len(str(v[c - 1])) for v in rows if len(v) >= c and v[c - 1] is not None), default=8)
        ws.column_dimensions[ws.cell(row=first, column=c).column_letter].width = min(max(width + 2, 8), 60)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
