"""Export of a consolidated report: DOCX laid out as a Vietnamese administrative report (the form of
Decree 30/2020/NĐ-CP on administrative documents, as the union applies it through Quyết định
933/QĐ-TLĐ of 2024) and XLSX tables.

DOCX layout (A4; margins top/bottom 20 mm, left 30 mm, right 15 mm; Times New Roman, which
LibreOffice renders with the metric-compatible Liberation Serif):
- header, a borderless two-column table with fixed widths (6.5 cm | 10 cm, no cell padding): left
  the superior body (upright capitals), the issuing body (bold capitals) broken where a clerk
  breaks it ("LIÊN ĐOÀN LAO ĐỘNG" / "TỈNH BÌNH ĐỊNH"), a short rule under it (a third of the
  line), and ``Số: 21/BC-LĐLĐ``; right the national motto ``CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM``
  (bold capitals, 12 pt: one line) and ``Độc lập - Tự do - Hạnh phúc`` (bold, a rule as long as
  the line under it), then the place-date line in italics (``Bình Định, ngày 30 tháng 11 năm 2026``);
- title ``BÁO CÁO`` and the subtitle (trích yếu) bold, centred across the whole text width, a short
  rule under them;
- page numbers from page 2, centred in the top margin (13 pt), none on page 1;
- body 14 pt, justified, first-line indent: the reporting situation (completeness and timeliness
  per child unit, with a total row), the figures table — both with column widths fitted to their
  content and header rows repeated on every page — then one section per narrative field of the
  form: the consolidating unit's own synthesis, and where the units' texts are; the body ends
  with ``./.``;
- a borderless two-column table kept on one page: ``Nơi nhận:`` (bold italic 12 pt, recipients
  11 pt) on the left, the signature block on the right (``TM. BAN THƯỜNG VỤ`` / ``CHỦ TỊCH`` bold,
  ``(Đã ký)``, the name bold);
- on a new page, the appendix ``PHỤ LỤC`` (“Kèm theo Báo cáo số … ngày … của …”): the units'
  narratives, one section per field, gathered per child unit, 13 pt. A province's hundreds of
  narratives no longer push the report itself to dozens of pages.

Numbers are written the Vietnamese way: ``12.345`` and ``45,7%``.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from services.reports.domain.consolidation import MISSING_REASONS, Consolidation, NodeReport
from services.reports.domain.forms import ShareField, nfc

FONT = "Times New Roman"
TEXT_WIDTH_CM = 16.5  # A4 (21 cm) less the left (3 cm) and right (1.5 cm) margins
HEADER_LEFT_CM, HEADER_RIGHT_CM = 6.5, 10.0

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
    number: str | int | None = None  # "21" or "21/BC-LĐLĐ"; None: left blank, filled in at registration
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
    list_missing_up_to: int = 10  # name the missing units in the body up to this many (more: an appendix)
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


# --- how wide a line of Times New Roman is (for line breaks and rules, no font files needed) ------

_NARROW = set(" .,:;'!|()[]/-ijlIftr")
_WIDE = set("MWmw")


def text_width_cm(text: str, size_pt: float, bold: bool = False) -> float:
    """An estimate of the printed width of ``text`` in Times New Roman (em fractions per kind of
    character; the Vietnamese marks do not widen a letter)."""
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.28
        elif ch in _WIDE:
            em += 0.9
        elif ch.isupper():
            em += 0.73 if bold else 0.68
        elif ch.isdigit():
            em += 0.5
        else:
            em += 0.5 if bold else 0.46
    return em * size_pt * 2.54 / 72


# Where a clerk breaks a unit's name: before the place or the field it is of.
_BREAK_BEFORE = ("TỈNH", "THÀNH PHỐ", "HUYỆN", "QUẬN", "THỊ XÃ", "XÃ", "PHƯỜNG", "NGÀNH", "KHU", "CÁC",
                 "VIỆT NAM", "CÔNG TY", "TỔNG CÔNG TY", "TRƯỜNG", "BỆNH VIỆN")


def clerk_lines(text: str, width_cm: float, size_pt: float, bold: bool = False) -> list[str]:
    """``text`` in as few lines as fit ``width_cm``, each break where a clerk would put it: before a
    place or field word ("LIÊN ĐOÀN LAO ĐỘNG" / "TỈNH BÌNH ĐỊNH"), otherwise where the lines are
    most even."""
    words = text.split()
    if text_width_cm(text, size_pt, bold) <= width_cm or len(words) < 2:
        return [" ".join(words)]
    best: tuple[tuple[int, float], list[str]] | None = None
    for k in range(1, len(words)):
        head, tail = " ".join(words[:k]), " ".join(words[k:])
        w1, w2 = text_width_cm(head, size_pt, bold), text_width_cm(tail, size_pt, bold)
        if w1 > width_cm:
            break
        rest = clerk_lines(tail, width_cm, size_pt, bold) if w2 > width_cm else [tail]
        natural = any(tail.upper().startswith(b + " ") or tail.upper() == b for b in _BREAK_BEFORE)
        score = (len(rest) * 10 - (1 if natural else 0), max(w1, w2) if len(rest) == 1 else w1)
        if best is None or score < best[0]:
            best = (score, [head, *rest])
    return best[1] if best else [" ".join(words)]


# --- a large grid table as WordprocessingML text ----------------------------------------------------

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_XML_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: str) -> str:
    """Text as XML character data (lxml's escaping; characters XML cannot hold dropped)."""
    if not _XML_SPECIAL.search(text):
        return text
    return _XML_INVALID.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _w_text(text: str) -> str:
    text = _x(text)
    return f'<w:t xml:space="preserve">{text}</w:t>' if text != text.strip() else f"<w:t>{text}</w:t>"


def grid_table_xml(widths_cm: Sequence[float], headers: Sequence[str], rows: Iterable[Sequence[str]], *,
                   head_size: float, size: float, aligns: Sequence[str], total: Sequence[str] | None = None,
                   namespace: bool = True) -> str:
    """A ``w:tbl`` as python-docx builds it in ``to_docx`` (style Table Grid, centred, fixed
    layout with these widths; the header row bold, centred in its height and repeated on every
    page; each row kept on one page; Times New Roman at ``size`` pt; a ``total`` row last, bold
    and centred), as one string."""
    ws = [int(w * 567) for w in widths_cm]  # the grid, as fixed() writes it
    tcws = [round(int(w * 360000) / 635) for w in widths_cm]  # the cells: python-docx's Cm → twips
    fonts = f'<w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}"/>'
    head_rpr = f'<w:rPr>{fonts}<w:b/><w:sz w:val="{round(head_size * 2)}"/></w:rPr>'
    rpr = f'<w:rPr>{fonts}<w:sz w:val="{round(size * 2)}"/></w:rPr>'
    total_rpr = f'<w:rPr>{fonts}<w:b/><w:sz w:val="{round(size * 2)}"/></w:rPr>'
    ns = f' xmlns:w="{_W_NS}"' if namespace else ""  # without: inside a document that declares it
    out = [f'<w:tbl{ns}><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:type="dxa" w:w="{int(sum(widths_cm) * 567)}"/>'
           '<w:jc w:val="center"/><w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" '
           'w:noHBand="0" w:noVBand="1" w:val="04A0"/><w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>',
           *(f'<w:gridCol w:w="{w}"/>' for w in ws), '</w:tblGrid><w:tr><w:trPr><w:tblHeader w:val="true"/></w:trPr>']
    for w, h in zip(tcws, headers):
        out.append(f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{w}"/><w:vAlign w:val="center"/></w:tcPr><w:p><w:pPr>'
                   f'<w:jc w:val="center"/></w:pPr>' + (f"<w:r>{head_rpr}{_w_text(h)}</w:r>" if h else "") + "</w:p></w:tc>")
    out.append("</w:tr>")
    # one template a row, the cells' runs filled in: a run by its text (parents and states repeat)
    row = "<w:tr><w:trPr><w:cantSplit/></w:trPr>" + "".join(
        f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{w}"/></w:tcPr><w:p><w:pPr><w:jc w:val="{a}"/></w:pPr>'
        f'{{{k}}}</w:p></w:tc>' for k, (w, a) in enumerate(zip(tcws, aligns))) + "</w:tr>"
    fill = row.format
    made: dict[str, str] = {"": ""}
    for values in rows:
        runs = []
        for v in values:
            r = made.get(v)
            if r is None:
                r = made[v] = f"<w:r>{rpr}{_w_text(v)}</w:r>"
            runs.append(r)
        out.append(fill(*runs))
    if total is not None:
        out.append("<w:tr><w:trPr><w:cantSplit/></w:trPr>")
        for w, v in zip(tcws, total):
            out.append(f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{w}"/></w:tcPr><w:p><w:pPr><w:jc w:val="center"/>'
                       f'</w:pPr>' + (f"<w:r>{total_rpr}{_w_text(v)}</w:r>" if v else "") + "</w:p></w:tc>")
        out.append("</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


# ----------------------------------------------------------------------------------------------- DOCX


def _property(text: str, limit: int = 255) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def to_docx(consolidated: Consolidation, meta: ReportMeta, path: str | Path) -> Path:
    """Write the consolidated report of ``meta.unit_id`` (default: the root) as a DOCX file."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_ALIGN_VERTICAL, WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Mm, Pt

    form = consolidated.form
    node = consolidated.node(meta.unit_id)
    children = consolidated.children(node.unit_id)
    body_pt = Pt(meta.body_size_pt)
    CENTER, LEFT, JUSTIFY = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.JUSTIFY

    doc = Document()
    # The file's properties hold 255 characters at most (OOXML core properties, python-docx
    # refuses more): a long plan title is cut there, the page keeps it whole.
    doc.core_properties.title = _property(f"{nfc(meta.title)} {nfc(meta.subtitle)}")
    doc.core_properties.author = _property(nfc(meta.issuing_body))
    doc.core_properties.language = "vi-VN"
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(20), Mm(20)
    sec.left_margin, sec.right_margin = Mm(30), Mm(15)
    sec.header_distance = Mm(10)
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
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "vi-VN")
    rpr.append(lang)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)
    for name in ("Table Grid",):
        try:
            doc.styles[name].font.name = FONT
        except KeyError:
            pass

    spliced: list[str] = []  # tables written as XML text, put in place of their marker after saving
    rpr_of: dict[tuple[bool, bool, bool, Any], Any] = {}
    ppr_of: dict[tuple[Any, bool, int, int, float], Any] = {}

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

    def para(container, text="", *, align=JUSTIFY, bold=False, italic=False, size=None, indent=True, before=0,
             after=6, spacing=1.15):
        p = container.add_paragraph()
        key = (align, indent and align == JUSTIFY, before, after, spacing)
        template = ppr_of.get(key)
        if template is not None:  # built once per combination, then copied (as for runs)
            p._p.insert(0, copy.deepcopy(template))
        else:
            p.alignment = align
            pf = p.paragraph_format
            pf.space_before, pf.space_after = Pt(before), Pt(after)
            pf.line_spacing = spacing
            if key[1]:
                pf.first_line_indent = Cm(1.27)
            ppr_of[key] = copy.deepcopy(p._p.pPr)
        if text:
            run(p, text, bold=bold, italic=italic, size=size)
        return p

    def lines(p, parts, **kw):
        """The parts as lines of one paragraph (line breaks, not paragraphs: a name stays one block)."""
        for k, part in enumerate(parts):
            r = run(p, part, **kw)
            if k < len(parts) - 1:
                r.add_break()
        return p

    def rule(container, length_cm, box_cm, *, first=False, after=0):
        """A centred horizontal rule ``length_cm`` long in a box ``box_cm`` wide (Decree 30's lines
        under the issuing body, the motto and the subtitle): the bottom border of an empty, tiny
        paragraph of its own — the text above keeps the whole width."""
        p = container.paragraphs[0] if first else container.add_paragraph()
        pf = p.paragraph_format
        inset = max(0.0, (box_cm - length_cm) / 2)
        pf.left_indent = pf.right_indent = Cm(inset)
        pf.space_before, pf.space_after = Pt(0), Pt(after)
        pf.line_spacing = Pt(2)
        ppr = p._p.get_or_add_pPr()
        bdr = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
            bottom.set(qn(k), v)
        bdr.append(bottom)
        ppr.append(bdr)
        run(p, "", size=2)
        return p

    def fixed(table, widths_cm, *, padding=True):
        """Fixed layout with these column widths (grid, every cell and the table): Word and
        LibreOffice lay the table out as written, not in equal columns."""
        tbl = table._tbl
        tblpr = tbl.tblPr
        layout = OxmlElement("w:tblLayout")
        layout.set(qn("w:type"), "fixed")
        tblpr.append(layout)
        tblw = tblpr.find(qn("w:tblW"))
        if tblw is None:
            tblw = OxmlElement("w:tblW")
            tblpr.append(tblw)
        tblw.set(qn("w:type"), "dxa")
        tblw.set(qn("w:w"), str(int(sum(widths_cm) * 567)))
        if not padding:
            mar = OxmlElement("w:tblCellMar")
            for edge in ("left", "right"):
                el = OxmlElement(f"w:{edge}")
                el.set(qn("w:w"), "0")
                el.set(qn("w:type"), "dxa")
                mar.append(el)
            tblpr.append(mar)
        for col, w in zip(tbl.tblGrid.findall(qn("w:gridCol")), widths_cm):
            col.set(qn("w:w"), str(int(w * 567)))
        for row in table.rows:
            for cell, w in zip(row.cells, widths_cm):
                cell.width = Cm(w)

    def no_borders(table):
        tblpr = table._tbl.tblPr
        borders = OxmlElement("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            el = OxmlElement(f"w:{edge}")
            el.set(qn("w:val"), "nil")
            borders.append(el)
        tblpr.append(borders)

    def repeat_header(row):
        trpr = row._tr.get_or_add_trPr()
        el = OxmlElement("w:tblHeader")
        el.set(qn("w:val"), "true")
        trpr.append(el)

    def keep_row(row):
        trpr = row._tr.get_or_add_trPr()
        trpr.append(OxmlElement("w:cantSplit"))

    def cell_par(cell, text, *, bold=False, italic=False, size=13, first=False, align=CENTER, middle=False):
        if middle:  # a table's header cell: centred in its height
            cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER
        p = cell.paragraphs[0] if first else cell.add_paragraph()
        p.alignment = align
        if text:
            run(p, text, bold=bold, italic=italic, size=size)
        return p

    def page_numbers():
        """Arabic page numbers, centred in the top margin, from page 2 (none on the first page)."""
        sec.different_first_page_header_footer = True
        p = sec.header.paragraphs[0]
        p.alignment = CENTER
        r = run(p, "", size=13)
        field_code: tuple[tuple[str | None, str], ...] = (("begin", ""), (None, " PAGE "), ("separate", ""), (None, "2"), ("end", ""))
        for kind, text in field_code:
            if kind:
                fc = OxmlElement("w:fldChar")
                fc.set(qn("w:fldCharType"), kind)
                r._element.append(fc)
            elif text.strip() == "PAGE":
                it = OxmlElement("w:instrText")
                it.set(qn("xml:space"), "preserve")
                it.text = text
                r._element.append(it)
            else:
                t = OxmlElement("w:t")
                t.text = text
                r._element.append(t)

    page_numbers()

    # --- header: issuing body | national motto
    header = doc.add_table(rows=1, cols=2)
    header.alignment = WD_TABLE_ALIGNMENT.CENTER
    header.autofit = False
    no_borders(header)
    fixed(header, [HEADER_LEFT_CM, HEADER_RIGHT_CM], padding=False)
    left, right = header.rows[0].cells
    body_name = nfc(meta.issuing_body).upper()
    body_lines = clerk_lines(body_name, HEADER_LEFT_CM - 0.2, 13, bold=True)
    if meta.superior_body:
        superior = nfc(meta.superior_body).upper()
        lines(cell_par(left, "", first=True), clerk_lines(superior, HEADER_LEFT_CM - 0.2, 13), size=13)
        lines(cell_par(left, ""), body_lines, bold=True, size=13)
    else:
        lines(cell_par(left, "", first=True), body_lines, bold=True, size=13)
    longest = max(text_width_cm(t, 13, bold=True) for t in body_lines)
    rule(left, max(1.5, longest / 3), HEADER_LEFT_CM)
    num_p = cell_par(left, number_line(meta), size=13)
    num_p.paragraph_format.space_before = Pt(6)
    motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    cell_par(right, motto, bold=True, size=12, first=True)
    independence = "Độc lập - Tự do - Hạnh phúc"
    cell_par(right, independence, bold=True, size=13)
    rule(right, text_width_cm(independence, 13, bold=True), HEADER_RIGHT_CM)
    date_p = cell_par(right, vn_date_line(nfc(meta.place), meta.issued_on), italic=True, size=14)
    date_p.paragraph_format.space_before = Pt(6)

    # --- title, across the page
    para(doc, nfc(meta.title).upper(), align=CENTER, bold=True, indent=False, before=18, after=0)
    subtitle = nfc(meta.subtitle)
    para(doc, subtitle, align=CENTER, bold=True, indent=False, after=2)
    rule(doc, min(5.0, max(2.5, text_width_cm(subtitle, 14, bold=True) / 3)), TEXT_WIDTH_CM, after=12)
    if meta.intro:
        para(doc, nfc(meta.intro))

    c = node.completeness
    numeral = map(roman, itertools.count(1))
    missing = consolidated.missing(node.unit_id) if c.missing else []
    groups = consolidated.narratives(node.unit_id, own_only=meta.narrative_detail == "children")

    def items_of(g: Any, key: str) -> list[Any]:
        items = g.sections.get(key) or []
        return [it for it in items if it.unit_id == g.unit_id] if meta.narrative_detail == "children" else items

    in_appendix = [f for f in form.text_fields if any(items_of(g, f.key) for g in groups)]
    appendices = (["missing"] if len(missing) > meta.list_missing_up_to else []) + (["narratives"] if in_appendix else [])

    def appendix_name(which: str) -> str:
        return "Phụ lục" + (f" {roman(appendices.index(which) + 1)}" if len(appendices) > 1 else "")

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
        # The table as WordprocessingML text (as python-docx writes it), put in place of a marker
        # after saving: python-docx spends ~0.4 ms on each of a province's ~3,000 cells.
        # The units' names get the room they need (up to 8 cm), the five counts share the rest.
        name_w = min(8.0, max(5.0, max(text_width_cm(ch.name, 12) for ch in children) + 0.9))

        def counts(cc: Any) -> list[str]:
            return [vn_number(cc.expected), vn_number(cc.submitted), vn_number(cc.on_time), vn_number(cc.late),
                    vn_number(cc.missing)]

        spliced.append(grid_table_xml(
            [1.0, round(name_w, 2)] + [round((TEXT_WIDTH_CM - 1.0 - name_w) / 5, 2)] * 5, headers,
            ([str(n), ch.name, *counts(ch.completeness)] for n, ch in enumerate(children, 1)),
            head_size=11, size=12, aligns=["center", "left"] + ["center"] * 5, total=["", "Tổng cộng", *counts(c)],
            namespace=False))
        doc.add_paragraph().add_run(_marker(len(spliced) - 1))
        para(doc, "", after=6)
    if missing:
        if "missing" not in appendices:
            para(doc, "Các đơn vị chưa báo cáo: " + "; ".join(
                f"{m.name}" + (f" ({m.reason_vi.lower()})" if m.reason != "not_submitted" else "")
                for m in missing) + ".")
        else:
            para(doc, f"Danh sách {vn_number(len(missing))} đơn vị chưa báo cáo tại {appendix_name('missing')} "
                      "kèm theo.")

    # --- II. figures
    para(doc, f"{next(numeral)}. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", bold=True, indent=False, before=6)
    t = doc.add_table(rows=1 + len(form.indicator_fields), cols=4)
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    fixed(t, [1.0, 9.5, 2.6, 3.4])
    table_rows = iter(t.rows)
    head_row = next(table_rows)
    repeat_header(head_row)
    for cell, h in zip(head_row.cells, ["TT", "Chỉ tiêu", "Đơn vị tính", "Kết quả"]):
        cell_par(cell, h, bold=True, size=13, first=True, middle=True)
    for n, f in enumerate(form.indicator_fields, 1):
        row = next(table_rows)
        keep_row(row)
        value = node.indicators[f.key]
        for j, (cell, v) in enumerate(zip(row.cells, [str(n), f.label, f.unit, _indicator_text(f, value)])):
            cell_par(cell, v, size=13, first=True, align=LEFT if j == 1 else CENTER)
    para(doc, "", after=6)

    # --- narrative sections: the unit's own synthesis; the units' texts are in the appendix
    for tf in form.text_fields:
        para(doc, f"{next(numeral)}. {tf.label.upper()}", bold=True, indent=False, before=6)
        own = meta.narrative.get(tf.key)
        if own:
            for chunk in nfc(own).split("\n"):
                if chunk.strip():
                    para(doc, chunk.strip())
        n_units = len({it.unit_id for g in groups for it in items_of(g, tf.key)})
        if n_units:
            para(doc, f"Ý kiến của {vn_number(n_units)} đơn vị về nội dung này được tổng hợp tại "
                      f"{appendix_name('narratives')} kèm theo (mục {in_appendix.index(tf) + 1}).", italic=True)
        elif not own:
            para(doc, "Không có nội dung.", italic=True)

    closing = meta.closing or f"Trên đây là báo cáo {subtitle[:1].lower() + subtitle[1:]}"
    closing = closing.rstrip(". /") + "./."
    closing_p = para(doc, closing, before=6)
    closing_p.paragraph_format.keep_with_next = True

    # --- recipients | signature, kept on one page
    foot = doc.add_table(rows=1, cols=2)
    foot.alignment = WD_TABLE_ALIGNMENT.CENTER
    foot.autofit = False
    no_borders(foot)
    fixed(foot, [7.5, 9.0], padding=False)
    keep_row(foot.rows[0])
    left, right = foot.rows[0].cells
    cell_par(left, "Nơi nhận:", bold=True, italic=True, size=12, first=True, align=LEFT)
    recipients = [nfc(r).rstrip(";.") for r in meta.recipients]
    for k, r in enumerate(recipients):
        end = "." if k == len(recipients) - 1 else ";"
        cell_par(left, f"- {r}{end}", size=11, align=LEFT)
    cell_par(right, nfc(meta.signing_authority).upper(), bold=True, size=14, first=True)
    cell_par(right, nfc(meta.signer_title).upper(), bold=True, size=14)
    cell_par(right, "", size=14)
    if meta.signature_note:
        cell_par(right, meta.signature_note, italic=True, size=14)
    cell_par(right, "", size=14)
    cell_par(right, nfc(meta.signer_name), bold=True, size=14)

    # --- appendices: the missing units; the units' narratives, gathered per child unit
    number = number_line(meta).removeprefix("Số: ").strip()
    ref = (f"số {number} " if not number.startswith("/") else "") + f"ngày {meta.issued_on:%d/%m/%Y}"

    def appendix_title(which: str, title: str) -> None:
        brk = para(doc, "", align=CENTER, indent=False, after=0)
        brk.add_run().add_break(WD_BREAK.PAGE)
        para(doc, appendix_name(which).upper(), align=CENTER, bold=True, indent=False, after=0)
        para(doc, title, align=CENTER, bold=True, indent=False, after=0)
        para(doc, f"(Kèm theo Báo cáo {ref} của {nfc(meta.issuing_body)})", align=CENTER, italic=True,
             indent=False, after=2)
        rule(doc, 4.0, TEXT_WIDTH_CM, after=12)

    if "missing" in appendices:
        appendix_title("missing", "DANH SÁCH ĐƠN VỊ CHƯA BÁO CÁO")
        # A nation's tens of thousands of rows: the table is written as WordprocessingML text in one
        # go (python-docx spends ~0.5 ms a row on its cells, lxml ~30 µs parsing it) and put in
        # place of a marker paragraph in the saved document.xml; the XML is the one python-docx
        # writes for the same table.
        spliced.append(grid_table_xml(
            [1.0, 7.5, 4.5, 3.5], ["TT", "Đơn vị", "Trực thuộc", "Tình trạng"],
            ([str(n), m.name, m.parent_name or "", m.reason_vi] for n, m in enumerate(missing, 1)),
            head_size=12, size=12, aligns=["center", "left", "left", "left"], namespace=False))
        doc.add_paragraph().add_run(_marker(len(spliced) - 1))

    if "narratives" in appendices:
        appendix_title("narratives", "Ý KIẾN, KẾT QUẢ CỦA CÁC ĐƠN VỊ")
        for k, tf in enumerate(in_appendix, 1):
            para(doc, f"{k}. {tf.label.upper()}", bold=True, indent=False, before=6, size=13)
            for g in groups:
                items = items_of(g, tf.key)
                if not items:
                    continue
                if len(items) == 1 and items[0].unit_id == g.unit_id:
                    p = para(doc, size=13, after=3, spacing=1.0)
                    run(p, f"- {g.name}: ", bold=True, size=13)
                    run(p, nfc(items[0].text), size=13)
                    continue
                p = para(doc, size=13, after=3, spacing=1.0)
                run(p, f"- {g.name}:", bold=True, size=13)
                for it in items:
                    p = para(doc, size=13, after=3, spacing=1.0)
                    run(p, f"+ {it.name}: ", italic=True, size=13)
                    run(p, nfc(it.text), size=13)

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not spliced:
        doc.save(str(out))
        return out
    import io
    import zipfile

    buf = io.BytesIO()
    doc.save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":  # small: it holds the markers, not the tables
                parts, rest = [], data
                for k, table in enumerate(spliced):
                    paragraph = f"<w:p><w:r><w:t>{_marker(k)}</w:t></w:r></w:p>".encode()
                    if rest.count(paragraph) != 1:
                        raise RuntimeError(f"the place of table {k} is not in the saved document")
                    head, rest = rest.split(paragraph)
                    parts += [head, table.encode("utf-8")]
                data = b"".join([*parts, rest])
            dst.writestr(item, data)
    return out


def _marker(k: int) -> str:
    return f"congdoan-grid-table-{k}-d41d8cd98f00b204"


# ----------------------------------------------------------------------------------------------- XLSX

SHEET_COMPLETENESS = "Tình hình báo cáo"
SHEET_INDICATORS = "Chỉ tiêu"
SHEET_MISSING = "Đơn vị chưa báo cáo"


def vn_period(period: str | None) -> str:
    """'2026' → 'năm 2026', '2026-Q4' → 'quý IV/2026', '2026-05' → 'tháng 5/2026'."""
    if not period:
        return ""
    if len(period) == 4 and period.isdigit():
        return f"năm {period}"
    if len(period) == 7 and period[4:6] == "-Q" and period[6] in "1234":
        return f"quý {roman(int(period[6]))}/{period[:4]}"
    if len(period) == 7 and period[4] == "-" and period[5:].isdigit():
        return f"tháng {int(period[5:])}/{period[:4]}"
    return f"kỳ {period}"


def to_xlsx(consolidated: Consolidation, path: str | Path, *, unit_id: str | None = None,
            title: str | None = None, submitted_on: Mapping[str, date] | None = None,
            due_date: date | None = None, made_on: date | None = None) -> Path:
    """Three sheets for the node ``unit_id`` (default: the root): completeness per child unit (with
    the date each child's own report came), indicators per child unit, and the missing units.
    Units are named by their code (``Mã đơn vị``) and name; dates are real dates (dd/mm/yyyy);
    each table ends with the node's total row; shares are fractions with a percentage format; the
    header rows stay in view (frozen, repeated when printed) and filter; widths fit the content."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    form = consolidated.form
    node = consolidated.node(unit_id)
    snap = consolidated.snapshot
    children = consolidated.children(node.unit_id)
    dates = submitted_on or {}
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_font = Font(name=FONT, bold=True, size=12)
    cell_font = Font(name=FONT, size=12)
    bold_font = Font(name=FONT, size=12, bold=True)
    label_font = Font(name=FONT, italic=True, size=11)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    caption = title or form.title
    as_of = snap.as_of
    sub = (f"Đơn vị: {node.name}"
           + (f" — kỳ báo cáo {vn_period(consolidated.period)}" if consolidated.period else "")
           + (f" — hệ thống tổ chức tại ngày {as_of.strftime('%d/%m/%Y')}" if as_of else "")
           + f" — {consolidated.rule.description.split(' / ')[0]}")
    DATE = "dd/mm/yyyy"

    wb = Workbook()

    raw_sheets: dict[Any, tuple[str, int, int]] = {}

    def sheet(ws, headers: list[str], rows: list[list[Any]], widths: list[int], total: list[Any] | None,
              formats: dict[int, str], wrap: set[int] = frozenset(),  # type: ignore[assignment]
              raw: bool = False) -> None:
        """raw: the data rows (no total) are written as SpreadsheetML text, spliced into the saved
        file (openpyxl spends ~10 µs on each cell; a national list of missing units has ~200,000);
        the first row is styled through openpyxl, to register its cells' styles."""
        ws["A1"] = caption
        ws["A1"].font = Font(name=FONT, bold=True, size=13)
        ws["A2"] = sub
        ws["A2"].font = label_font
        facts = [(label, day) for label, day in (("Tổ chức tại ngày:", as_of), ("Hạn báo cáo:", due_date),
                                                   ("Ngày lập:", made_on)) if day is not None]
        date_cols = []
        for k, (label, day) in enumerate(facts):  # real dates, for sorting and formulas
            col = 1 + 3 * k  # the label over two columns, the date in the third
            ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + 1)
            cell = ws.cell(row=3, column=col, value=label)
            cell.font, cell.alignment = label_font, Alignment(horizontal="right")
            cell = ws.cell(row=3, column=col + 2, value=day)
            cell.number_format, cell.font = DATE, bold_font
            cell.alignment = Alignment(horizontal="left")
            date_cols.append(col + 2)
        hr = 4
        for j, h in enumerate(headers, 1):
            cell = ws.cell(row=hr, column=j, value=h)
            cell.font, cell.fill, cell.border = head_font, head_fill, border
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        # Styling a cell through openpyxl's descriptors hashes each style object every time (tens of
        # µs a cell; a national list of missing units has ~200,000 cells): each combination is
        # styled once, then its style array is copied.
        styled: dict[tuple[bool, str | None, bool], Any] = {}
        raw = raw and not total and bool(rows)
        for i, values in enumerate(rows[:1] if raw else rows + ([total] if total else []), hr + 1):
            is_total = total is not None and i == hr + 1 + len(rows)
            for j, v in enumerate(values, 1):
                cell = ws.cell(row=i, column=j, value=v)
                key = (is_total, formats.get(j), j in wrap)
                proto = styled.get(key)
                if proto is not None:
                    cell._style = copy.copy(proto._style)
                    continue
                cell.font = bold_font if is_total else cell_font
                cell.border = border
                cell.alignment = Alignment(vertical="top", wrap_text=j in wrap)
                if key[1]:
                    cell.number_format = key[1]
                styled[key] = cell
        if raw:
            style_ids = []
            for j in range(1, len(rows[0]) + 1):
                style_ids.append(wb._cell_styles.add(ws.cell(row=hr + 1, column=j)._style))
                del ws._cells[(hr + 1, j)]
            raw_sheets[ws] = sheet_rows_xml(rows, hr + 1, style_ids)
        for j, w in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(j)].width = max(w, 12) if j in date_cols else w
        for j in date_cols:
            if j > len(widths):
                ws.column_dimensions[get_column_letter(j)].width = 12
        ws.row_dimensions[hr].height = 48
        ws.freeze_panes = ws.cell(row=hr + 1, column=4)  # the header rows and the unit columns stay in view
        last = get_column_letter(len(headers))
        ws.auto_filter.ref = f"A{hr}:{last}{hr + len(rows)}"
        ws.print_title_rows = f"{hr}:{hr}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True

    def fit(texts: list[Any], least: int, most: int) -> int:
        """A column as wide as its longest text (in characters), within bounds."""
        return max(least, min(most, max((len(t) for t in texts if t), default=least) + 2))

    code_w = fit([snap.code(r.unit_id) for r in [node, *children]], 10, 24)
    name_w = fit([r.name for r in [node, *children]], 24, 60)

    # completeness per child
    ws = wb.active
    ws.title = SHEET_COMPLETENESS
    headers = ["TT", "Mã đơn vị", "Đơn vị", "Phải báo cáo", "Đã báo cáo", "Đúng hạn", "Chậm", "Chưa báo cáo",
               "Bị trả lại", "Chưa được tiếp nhận", "Tỷ lệ đã báo cáo", "Tỷ lệ đúng hạn", "Ngày gửi báo cáo"]

    def comp_row(n: Any, r: NodeReport, name: str | None = None) -> list[Any]:
        c = r.completeness
        return [n, snap.code(r.unit_id), name or r.name, c.expected, c.submitted, c.on_time, c.late, c.missing,
                c.returned, c.pending, c.submitted_rate, c.on_time_rate, dates.get(r.unit_id)]

    sheet(ws, headers, [comp_row(n, r) for n, r in enumerate(children, 1)],
          [6, code_w, name_w, 10, 10, 10, 9, 10, 10, 12, 11, 11, 13], comp_row("", node, "Tổng cộng"),
          {11: "0.0%", 12: "0.0%", 13: DATE, **{j: "#,##0" for j in range(4, 11)}}, wrap={3})

    # indicators per child
    ws = wb.create_sheet(SHEET_INDICATORS)
    fields = form.indicator_fields
    headers = ["TT", "Mã đơn vị", "Đơn vị"] + [f"{f.label} ({f.unit})" if f.unit else f.label for f in fields]
    formats = {j: ("0.0%" if isinstance(f, ShareField) else "#,##0") for j, f in enumerate(fields, 4)}

    def ind_row(n: Any, r: NodeReport, name: str | None = None) -> list[Any]:
        return [n, snap.code(r.unit_id), name or r.name] + [r.indicators[f.key] for f in fields]

    sheet(ws, headers, [ind_row(n, r) for n, r in enumerate(children, 1)], [6, code_w, name_w] + [16] * len(fields),
          ind_row("", node, "Tổng cộng"), formats, wrap={3})
    ws.row_dimensions[4].height = 90

    # missing units
    ws = wb.create_sheet(SHEET_MISSING)
    headers = ["TT", "Mã đơn vị", "Đơn vị", "Loại đơn vị", "Trực thuộc", "Tình trạng"]
    missing = consolidated.missing(node.unit_id)
    rows = [[n, snap.code(m.unit_id), m.name, KIND_LABELS.get(m.kind, m.kind), m.parent_name or "",
             MISSING_REASONS[m.reason][0]] for n, m in enumerate(missing, 1)]
    sheet(ws, headers, rows, [7, fit([r[1] for r in rows], 10, 24), fit([r[2] for r in rows], 24, 60), 24,
                              fit([r[4] for r in rows], 20, 50), 32], None, {}, wrap={3, 5}, raw=True)

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not raw_sheets:
        wb.save(str(out))
        return out
    import io
    import zipfile

    buf = io.BytesIO()
    wb.save(buf)
    spliced = {ws.path.lstrip("/"): xml for ws, xml in raw_sheets.items()}
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename in spliced:
                data = _splice_rows(data.decode("utf-8"), spliced[item.filename])
            dst.writestr(item, data)
    return out


def _col(j: int) -> str:
    name = ""
    while j:
        j, r = divmod(j - 1, 26)
        name = chr(65 + r) + name
    return name


def sheet_rows_xml(rows: Sequence[Sequence[Any]], first_row: int, style_ids: Sequence[int]) -> tuple[str, int, int]:
    """SpreadsheetML ``<row>`` elements of ``rows`` from ``first_row`` on: numbers as numbers, text
    as inline strings, empty cells styled but without a value (as openpyxl writes them)."""
    cols = [(_col(j), f' s="{s}"' if s else "") for j, s in enumerate(style_ids, 1)]
    out = []
    r = first_row
    for r, values in enumerate(rows, first_row):
        out.append(f'<row r="{r}">')
        for (letter, style), v in zip(cols, values):
            if v is None or v == "":
                out.append(f'<c r="{letter}{r}"{style}/>')
            elif isinstance(v, bool):
                out.append(f'<c r="{letter}{r}"{style} t="b"><v>{int(v)}</v></c>')
            elif isinstance(v, int | float):
                out.append(f'<c r="{letter}{r}"{style} t="n"><v>{v}</v></c>')
            else:
                text = _x(str(v))
                space = ' xml:space="preserve"' if text != text.strip() else ""
                out.append(f'<c r="{letter}{r}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>')
        out.append("</row>")
    return "".join(out), r, len(cols)


def _splice_rows(sheet_xml: str, rows: tuple[str, int, int]) -> bytes:
    """The sheet (as openpyxl saved it, small) with the rows at the end of its data and its
    dimension including them, as UTF-8: the parts joined once, as bytes."""
    xml, last_row, ncols = rows

    def dimension(m: re.Match[str]) -> str:
        letters = m.group(1)
        wide = sum((ord(ch) - 64) * 26 ** k for k, ch in enumerate(reversed(letters)))
        return f'<dimension ref="A1:{_col(max(wide, ncols))}{max(int(m.group(2)), last_row)}"'

    sheet_xml = re.sub(r'<dimension ref="A1:([A-Z]+)(\d+)"', dimension, sheet_xml, count=1)
    end = sheet_xml.index("</sheetData>")
    return b"".join([sheet_xml[:end].encode("utf-8"), xml.encode("utf-8"), sheet_xml[end:].encode("utf-8")])
