"""Export of a consolidated report: DOCX laid out as a Vietnamese administrative report (the form of
Decree 30/2020/NĐ-CP on administrative documents, which union bodies follow) and XLSX tables.

DOCX layout (A4; margins top/bottom 20 mm, left 30 mm, right 15 mm; Times New Roman):
- header, a borderless two-column table: left the superior body (upright capitals), the issuing
  body (bold capitals, a short rule under it) and ``Số: …/BC-LĐLĐ``; right the national motto
  ``CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM`` (bold capitals) and ``Độc lập - Tự do - Hạnh phúc`` (bold,
  a rule under it), then the place-date line in italics (``Bình Định, ngày 30 tháng 11 năm 2026``);
- title ``BÁO CÁO`` bold centred, the subtitle (trích yếu) bold centred, a short rule;
- body 14 pt, justified, first-line indent: reporting situation (completeness and timeliness per
  child unit), the figures table, then one section per narrative field of the form, gathered per
  child unit; the body ends with ``./.``;
- a borderless two-column table: ``Nơi nhận:`` (bold italic 12 pt, recipients 11 pt) on the left,
  the signature block on the right (``TM. BAN THƯỜNG VỤ`` / ``CHỦ TỊCH`` bold, ``(Đã ký)``, the name
  bold).

Numbers are written the Vietnamese way: ``12.345`` and ``45,7%``.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from services.reports.domain.consolidation import MISSING_REASONS, Consolidation, NodeReport
from services.reports.domain.forms import ShareField, nfc

FONT = "Times New Roman"

KIND_LABELS = {
    "national_federation": "Tổng LĐLĐ Việt Nam",
    "provincial_federation": "LĐLĐ tỉnh, thành phố",
    "upper_level_union": "Công đoàn cấp trên cơ sở",
    "grassroots_union": "Công đoàn cơ sở",
    "department": "Ban, văn phòng",
    "affiliated_unit": "Đơn vị sự nghiệp",
    "external_body": "Cơ quan ngoài",
}


@dataclass
class ReportMeta:
    """What the consolidated report says about itself (the parts of Decree 30's form)."""

    issuing_body: str  # "LIÊN ĐOÀN LAO ĐỘNG TỈNH BÌNH ĐỊNH"
    place: str  # "Bình Định"
    issued_on: date
    subtitle: str  # trích yếu: "Kết quả thực hiện Kết luận số 01-KL/TW … năm 2026"
    signer_name: str  # "Nguyễn Mạnh Hùng"
    superior_body: str | None = "TỔNG LĐLĐ VIỆT NAM"
    number: str | int | None = None  # None: left blank, filled in when the document is registered
    symbol: str = "BC-LĐLĐ"
    title: str = "BÁO CÁO"
    recipients: Sequence[str] = ()  # "Tổng LĐLĐ Việt Nam", …, "Lưu: VT, Ban TG-NC"
    signing_authority: str = "TM. BAN THƯỜNG VỤ"
    signer_title: str = "CHỦ TỊCH"
    signature_note: str | None = "(Đã ký)"
    intro: str | None = None
    narrative: Mapping[str, str] = field(default_factory=dict)  # the issuer's own synthesis per text field
    closing: str | None = None
    unit_id: str | None = None  # the node reported on (default: the consolidation's root)
    list_missing_up_to: int = 50  # name the missing units in the body up to this many
    narrative_detail: str = "all"  # "all": every counted unit, grouped per child; "children": only the
    #                                 direct children's own reports (each summarises its subtree)
    body_size_pt: float = 14


def vn_number(x: int | float | None, decimals: int = 0) -> str:
    """12345 → '12.345'; 45.67 (decimals=1) → '45,7'; None → '-'."""
    if x is None:
        return "-"
    text = f"{x:,.{decimals}f}" if decimals else f"{round(x):,}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def vn_percent(share: float | None, decimals: int = 1) -> str:
    return "-" if share is None else vn_number(share * 100, decimals) + "%"


def roman(n: int) -> str:
    """Section numerals of the body: 1 → 'I', 4 → 'IV', 14 → 'XIV'."""
    out = ""
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                           (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def vn_date_line(place: str, d: date) -> str:
    """'Bình Định, ngày 30 tháng 11 năm 2026'. Decree 30: a day below 10 and the months 1 and 2
    take a leading zero ('ngày 05 tháng 02 năm 2027')."""
    day = f"{d.day:02d}"
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    return f"{place}, ngày {day} tháng {month} năm {d.year}"


def number_line(meta: ReportMeta) -> str:
    """'Số: 21/BC-LĐLĐ'. A number given with its symbol ('21/BC-LĐLĐ', as clerks write it) is
    taken as it is, never suffixed twice."""
    num = nfc(str(meta.number)).strip() if meta.number not in (None, "") else ""
    if "/" in num:
        return f"Số: {num}"
    return f"Số: {num or '      '}/{meta.symbol}"


def _indicator_text(f: Any, value: Any) -> str:
    if isinstance(f, ShareField):
        return vn_percent(value, f.decimals)
    return vn_number(value)


# ----------------------------------------------------------------------------------------------- DOCX


def to_docx(consolidated: Consolidation, meta: ReportMeta, path: str | Path) -> Path:
    """Write the consolidated report of ``meta.unit_id`` (default: the root) as a DOCX file."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Mm, Pt

    form = consolidated.form
    node = consolidated.node(meta.unit_id)
    children = consolidated.children(node.unit_id)
    body_pt = Pt(meta.body_size_pt)

    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(20), Mm(20)
    sec.left_margin, sec.right_margin = Mm(30), Mm(15)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = body_pt
    rpr = normal.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.append(rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), FONT)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)
    for name in ("Table Grid",):
        try:
            doc.styles[name].font.name = FONT
        except KeyError:
            pass

    rpr_of: dict[tuple[bool, bool, bool, Any], Any] = {}
    ppr_of: dict[tuple[Any, bool, int, int], Any] = {}

    def run(par, text, *, bold=False, italic=False, size=None, underline=False):
        # python-docx inserts each run property by scanning its siblings, and a province's report has
        # thousands of runs: the properties of each combination are built once, then copied.
        r = par.add_run(text)
        key = (bold, italic, underline, size)
        template = rpr_of.get(key)
        if template is not None:
            r._element.insert(0, copy.deepcopy(template))
            return r
        if bold:
            r.bold = True
        if italic:
            r.italic = True
        if underline:
            r.underline = True
        r.font.name = FONT
        r.font.size = Pt(size) if size else body_pt
        r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
        rpr_of[key] = copy.deepcopy(r._element.rPr)
        return r

    def para(container, text="", *, align=WD_ALIGN_PARAGRAPH.JUSTIFY, bold=False, italic=False, size=None,
             indent=True, before=0, after=6):
        p = container.add_paragraph()
        key = (align, indent and align == WD_ALIGN_PARAGRAPH.JUSTIFY, before, after)
        template = ppr_of.get(key)
        if template is not None:  # built once per combination, then copied (as for runs)
            p._p.insert(0, copy.deepcopy(template))
        else:
            p.alignment = align
            pf = p.paragraph_format
            pf.space_before, pf.space_after = Pt(before), Pt(after)
            pf.line_spacing = 1.15
            if key[1]:
                pf.first_line_indent = Cm(1.27)
            ppr_of[key] = copy.deepcopy(p._p.pPr)
        if text:
            run(p, text, bold=bold, italic=italic, size=size)
        return p

    def rule_under(p, inset_cm):
        """A short horizontal rule under a centred line (Decree 30's line under the motto)."""
        pf = p.paragraph_format
        pf.left_indent = pf.right_indent = Cm(inset_cm)
        ppr = p._p.get_or_add_pPr()
        bdr = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
            bottom.set(qn(k), v)
        bdr.append(bottom)
        ppr.append(bdr)

    def no_borders(table):
        tblpr = table._tbl.tblPr
        borders = OxmlElement("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            el = OxmlElement(f"w:{edge}")
            el.set(qn("w:val"), "nil")
            borders.append(el)
        tblpr.append(borders)

    def cell_par(cell, text, *, bold=False, italic=False, size=13, first=False,
                 align=WD_ALIGN_PARAGRAPH.CENTER):
        p = cell.paragraphs[0] if first else cell.add_paragraph()
        p.alignment = align
        if text:
            run(p, text, bold=bold, italic=italic, size=size)
        return p

    # --- header: issuing body | national motto
    header = doc.add_table(rows=1, cols=2)
    header.alignment = WD_TABLE_ALIGNMENT.CENTER
    header.autofit = False
    no_borders(header)
    left, right = header.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(9.5)
    if meta.superior_body:
        cell_par(left, nfc(meta.superior_body).upper(), size=13, first=True)
        body_p = cell_par(left, nfc(meta.issuing_body).upper(), bold=True, size=13)
    else:
        body_p = cell_par(left, nfc(meta.issuing_body).upper(), bold=True, size=13, first=True)
    rule_under(body_p, 1.5)
    num_p = cell_par(left, number_line(meta), size=13)
    num_p.paragraph_format.space_before = Pt(6)
    cell_par(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=13, first=True)
    motto = cell_par(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=14)
    rule_under(motto, 1.6)
    date_p = cell_par(right, vn_date_line(nfc(meta.place), meta.issued_on), italic=True, size=14)
    date_p.paragraph_format.space_before = Pt(6)

    # --- title
    para(doc, nfc(meta.title).upper(), align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, before=18, after=0)
    sub = para(doc, nfc(meta.subtitle), align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, after=12)
    rule_under(sub, 6.0)
    if meta.intro:
        para(doc, nfc(meta.intro))

    c = node.completeness
    numeral = map(roman, itertools.count(1))

    # --- I. reporting situation
    para(doc, f"{next(numeral)}. TÌNH HÌNH BÁO CÁO CỦA CÁC ĐƠN VỊ", bold=True, indent=False, before=6)
    para(doc, f"Tổng số đơn vị phải báo cáo: {vn_number(c.expected)}; đã báo cáo: {vn_number(c.submitted)} "
              f"({vn_percent(c.submitted_rate)}), trong đó đúng hạn: {vn_number(c.on_time)}, chậm: "
              f"{vn_number(c.late)}; chưa báo cáo: {vn_number(c.missing)}"
              + (f" (trong đó bị trả lại: {vn_number(c.returned)}, chưa được tiếp nhận: {vn_number(c.pending)})"
                 if c.returned or c.pending else "") + ".")
    para(doc, f"Nguyên tắc tổng hợp: {consolidated.rule.description.split(' / ')[0].lower()}; số liệu "
              f"tổng hợp theo hệ thống tổ chức tại thời điểm "
              f"{consolidated.snapshot.as_of.strftime('%d/%m/%Y') if consolidated.snapshot.as_of else 'của kỳ báo cáo'}.",
         italic=True)
    if children:
        headers = ["TT", "Đơn vị", "Phải báo cáo", "Đã báo cáo", "Đúng hạn", "Chậm", "Chưa báo cáo"]
        # All rows at once: add_row() scans the table each time (quadratic for a province's ~400 rows).
        t = doc.add_table(rows=1 + len(children), cols=len(headers))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        table_rows = iter(t.rows)
        for cell, h in zip(next(table_rows).cells, headers):
            cell_par(cell, h, bold=True, size=12, first=True)
        for n, ch in enumerate(children, 1):
            cc = ch.completeness
            row = next(table_rows).cells
            for j, v in enumerate([str(n), ch.name, vn_number(cc.expected), vn_number(cc.submitted),
                                   vn_number(cc.on_time), vn_number(cc.late), vn_number(cc.missing)]):
                cell_par(row[j], v, size=12, first=True,
                         align=WD_ALIGN_PARAGRAPH.LEFT if j == 1 else WD_ALIGN_PARAGRAPH.CENTER)
        para(doc, "", after=6)
    if c.missing:
        missing = consolidated.missing(node.unit_id)
        if len(missing) <= meta.list_missing_up_to:
            para(doc, "Các đơn vị chưa báo cáo: " + "; ".join(
                f"{m.name}" + (f" ({m.reason_vi.lower()})" if m.reason != "not_submitted" else "")
                for m in missing) + ".")
        else:
            para(doc, f"Danh sách {vn_number(len(missing))} đơn vị chưa báo cáo tại biểu tổng hợp (XLSX) kèm theo.")

    # --- II. figures
    para(doc, f"{next(numeral)}. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", bold=True, indent=False, before=6)
    t = doc.add_table(rows=1 + len(form.indicator_fields), cols=4)
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    table_rows = iter(t.rows)
    for cell, h in zip(next(table_rows).cells, ["TT", "Chỉ tiêu", "Đơn vị tính", "Kết quả"]):
        cell_par(cell, h, bold=True, size=13, first=True)
    for n, f in enumerate(form.indicator_fields, 1):
        row = next(table_rows).cells
        value = node.indicators[f.key]
        for j, v in enumerate([str(n), f.label, f.unit, _indicator_text(f, value)]):
            cell_par(row[j], v, size=13, first=True,
                     align=WD_ALIGN_PARAGRAPH.LEFT if j == 1 else WD_ALIGN_PARAGRAPH.CENTER)
    widths = [Cm(1.2), Cm(9.3), Cm(2.5), Cm(3.0)]
    for r in t.rows:
        for cell, w in zip(r.cells, widths):
            cell.width = w
    para(doc, "", after=6)

    # --- narrative sections, gathered per child unit
    groups = consolidated.narratives(node.unit_id, own_only=meta.narrative_detail == "children")
    for f in form.text_fields:
        para(doc, f"{next(numeral)}. {f.label.upper()}", bold=True, indent=False, before=6)
        own = meta.narrative.get(f.key)
        wrote = False
        if own:
            for chunk in nfc(own).split("\n"):
                if chunk.strip():
                    para(doc, chunk.strip())
            wrote = True
        for g in groups:
            items = g.sections.get(f.key) or []
            if meta.narrative_detail == "children":
                items = [it for it in items if it.unit_id == g.unit_id]
            if not items:
                continue
            wrote = True
            if len(items) == 1 and items[0].unit_id == g.unit_id:
                p = para(doc)
                run(p, f"- {g.name}: ", bold=True)
                run(p, items[0].text)
                continue
            p = para(doc)
            run(p, f"- {g.name}:", bold=True)
            for it in items:
                p = para(doc)
                run(p, f"+ {it.name}: ", italic=True)
                run(p, it.text)
        if not wrote:
            para(doc, "Không có nội dung.", italic=True)

    subtitle = nfc(meta.subtitle)
    closing = meta.closing or f"Trên đây là báo cáo {subtitle[:1].lower() + subtitle[1:]}"
    closing = closing.rstrip(". /") + "./."
    para(doc, closing, before=6)

    # --- recipients | signature
    foot = doc.add_table(rows=1, cols=2)
    foot.alignment = WD_TABLE_ALIGNMENT.CENTER
    foot.autofit = False
    no_borders(foot)
    left, right = foot.rows[0].cells
    left.width, right.width = Cm(7.5), Cm(8.5)
    cell_par(left, "Nơi nhận:", bold=True, italic=True, size=12, first=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    recipients = [nfc(r).rstrip(";.") for r in meta.recipients]
    for k, r in enumerate(recipients):
        end = "." if k == len(recipients) - 1 else ";"
        cell_par(left, f"- {r}{end}", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    cell_par(right, nfc(meta.signing_authority).upper(), bold=True, size=14, first=True)
    cell_par(right, nfc(meta.signer_title).upper(), bold=True, size=14)
    cell_par(right, "", size=14)
    if meta.signature_note:
        cell_par(right, meta.signature_note, italic=True, size=14)
    cell_par(right, "", size=14)
    cell_par(right, nfc(meta.signer_name), bold=True, size=14)

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


# ----------------------------------------------------------------------------------------------- XLSX

SHEET_COMPLETENESS = "Tình hình báo cáo"
SHEET_INDICATORS = "Chỉ tiêu"
SHEET_MISSING = "Đơn vị chưa báo cáo"


def to_xlsx(consolidated: Consolidation, path: str | Path, *, unit_id: str | None = None,
            title: str | None = None) -> Path:
    """Three sheets for the node ``unit_id`` (default: the root): completeness per child unit,
    indicators per child unit, and the missing units. Each table ends with the node's total row;
    shares are stored as fractions with a percentage format."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    form = consolidated.form
    node = consolidated.node(unit_id)
    children = consolidated.children(node.unit_id)
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_font = Font(name=FONT, bold=True, size=12)
    cell_font = Font(name=FONT, size=12)
    bold_font = Font(name=FONT, size=12, bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    caption = title or form.title
    as_of = consolidated.snapshot.as_of
    sub = (f"Đơn vị: {node.name}"
           + (f" — kỳ báo cáo {consolidated.period}" if consolidated.period else "")
           + (f" — hệ thống tổ chức tại ngày {as_of.strftime('%d/%m/%Y')}" if as_of else "")
           + f" — {consolidated.rule.description.split(' / ')[0]}")

    wb = Workbook()

    def sheet(ws, headers: list[str], rows: list[list[Any]], widths: list[int], total: list[Any] | None,
              formats: dict[int, str]) -> None:
        ws["A1"] = caption
        ws["A1"].font = Font(name=FONT, bold=True, size=13)
        ws["A2"] = sub
        ws["A2"].font = Font(name=FONT, italic=True, size=11)
        hr = 4
        for j, h in enumerate(headers, 1):
            cell = ws.cell(row=hr, column=j, value=h)
            cell.font, cell.fill, cell.border = head_font, head_fill, border
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        # Styling a cell through openpyxl's descriptors hashes each style object every time (tens of
        # µs a cell; a national list of missing units has ~200,000 cells): each combination is
        # styled once, then its style array is copied.
        styled: dict[tuple[bool, str | None], Any] = {}
        for i, values in enumerate(rows + ([total] if total else []), hr + 1):
            is_total = total is not None and i == hr + 1 + len(rows)
            for j, v in enumerate(values, 1):
                cell = ws.cell(row=i, column=j, value=v)
                key = (is_total, formats.get(j))
                proto = styled.get(key)
                if proto is not None:
                    cell._style = copy.copy(proto._style)
                    continue
                cell.font = bold_font if is_total else cell_font
                cell.border = border
                if key[1]:
                    cell.number_format = key[1]
                styled[key] = cell
        for j, w in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(j)].width = w
        ws.freeze_panes = ws.cell(row=hr + 1, column=3)

    # completeness per child
    ws = wb.active
    ws.title = SHEET_COMPLETENESS
    headers = ["TT", "Mã đơn vị", "Đơn vị", "Phải báo cáo", "Đã báo cáo", "Đúng hạn", "Chậm", "Chưa báo cáo",
               "Bị trả lại", "Chưa được tiếp nhận", "Tỷ lệ đã báo cáo", "Tỷ lệ đúng hạn"]

    def comp_row(n: Any, r: NodeReport) -> list[Any]:
        c = r.completeness
        return [n, r.unit_id, r.name, c.expected, c.submitted, c.on_time, c.late, c.missing, c.returned,
                c.pending, c.submitted_rate, c.on_time_rate]

    sheet(ws, headers, [comp_row(n, r) for n, r in enumerate(children, 1)],
          [6, 14, 42, 12, 12, 11, 9, 12, 10, 13, 12, 12], comp_row("", node)[:2] + ["Tổng cộng"] + comp_row("", node)[3:],
          {11: "0.0%", 12: "0.0%", **{j: "#,##0" for j in range(4, 11)}})

    # indicators per child
    ws = wb.create_sheet(SHEET_INDICATORS)
    fields = form.indicator_fields
    headers = ["TT", "Mã đơn vị", "Đơn vị"] + [f"{f.label} ({f.unit})" if f.unit else f.label for f in fields]
    formats = {j: ("0.0%" if isinstance(f, ShareField) else "#,##0") for j, f in enumerate(fields, 4)}

    def ind_row(n: Any, r: NodeReport) -> list[Any]:
        return [n, r.unit_id, r.name] + [r.indicators[f.key] for f in fields]

    sheet(ws, headers, [ind_row(n, r) for n, r in enumerate(children, 1)], [6, 14, 42] + [16] * len(fields),
          ["", node.unit_id, "Tổng cộng"] + [node.indicators[f.key] for f in fields], formats)
    ws.row_dimensions[4].height = 75

    # missing units
    ws = wb.create_sheet(SHEET_MISSING)
    headers = ["TT", "Mã đơn vị", "Đơn vị", "Loại đơn vị", "Trực thuộc", "Tình trạng"]
    rows = [[n, m.unit_id, m.name, KIND_LABELS.get(m.kind, m.kind), m.parent_name or "", MISSING_REASONS[m.reason][0]]
            for n, m in enumerate(consolidated.missing(node.unit_id), 1)]
    sheet(ws, headers, rows, [7, 14, 44, 24, 40, 30], None, {})

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(out))
    return out
