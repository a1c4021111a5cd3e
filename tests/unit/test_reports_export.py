"""Export of the province's consolidated report: DOCX in the form of Decree 30/2020/NĐ-CP, XLSX tables.
The files are opened again with python-docx and openpyxl and must hold the figures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from services.reports.domain.consolidation import Consolidation, consolidate
from services.reports.domain.export import (
    SHEET_COMPLETENESS,
    SHEET_INDICATORS,
    SHEET_MISSING,
    ReportMeta,
    roman,
    to_docx,
    to_xlsx,
    vn_date_line,
    vn_number,
    vn_percent,
)
from services.reports.domain.forms import CAMPAIGN_FORM_01KL as FORM
from tests.unit.test_reports_consolidation import province

RECIPIENTS = ["Tổng LĐLĐ Việt Nam", "Ban Tuyên giáo Tỉnh ủy", "Thường trực, các ban LĐLĐ tỉnh",
              "Các cấp công đoàn trong tỉnh", "Lưu: VT, Ban TG-NC"]


@pytest.fixture()
def cons() -> Consolidation:
    snap, expected, subs = province()
    return consolidate(FORM, snap, expected, subs, requirement_id="bc-01-kl-tw", period="2026")


def meta(**over: object) -> ReportMeta:
    m = ReportMeta(issuing_body="Liên đoàn Lao động tỉnh Bình Định", place="Bình Định",
                   issued_on=date(2026, 11, 30), number=215,
                   subtitle="Kết quả thực hiện Kết luận số 01-KL/TW của Bộ Chính trị năm 2026",
                   signer_name="Nguyễn Mạnh Hùng", recipients=RECIPIENTS,
                   narrative={"results": "Các cấp công đoàn đã tổ chức học tập chuyên đề năm 2026."})
    for k, v in over.items():
        setattr(m, k, v)
    return m


def all_text(d) -> str:  # type: ignore[no-untyped-def]
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            for cell in row.cells:
                parts.extend(p.text for p in cell.paragraphs)
    return "\n".join(parts)


def test_vietnamese_numbers_and_dates() -> None:
    assert vn_number(1234567) == "1.234.567" and vn_number(None) == "-"
    assert vn_number(45.678, 1) == "45,7" and vn_percent(0.7769) == "77,7%" and vn_percent(None) == "-"
    assert vn_date_line("Bình Định", date(2026, 11, 30)) == "Bình Định, ngày 30 tháng 11 năm 2026"
    assert vn_date_line("Bình Định", date(2027, 2, 5)) == "Bình Định, ngày 05 tháng 02 năm 2027"
    assert vn_date_line("Quy Nhơn", date(2027, 3, 9)) == "Quy Nhơn, ngày 09 tháng 3 năm 2027"
    assert [roman(n) for n in (1, 4, 9, 14, 40)] == ["I", "IV", "IX", "XIV", "XL"]


def test_docx_is_laid_out_as_an_administrative_report(cons: Consolidation, tmp_path: Path) -> None:
    path = to_docx(cons, meta(), tmp_path / "bao-cao.docx")
    d = docx.Document(str(path))
    sec = d.sections[0]
    mm = [round(x.mm) for x in (sec.page_width, sec.page_height, sec.left_margin, sec.right_margin, sec.top_margin,
                                sec.bottom_margin)]
    assert mm == [210, 297, 30, 15, 20, 20]  # A4; Decree 30 margins
    assert d.styles["Normal"].font.name == "Times New Roman" and d.styles["Normal"].font.size == Pt(14)

    left, right = d.tables[0].rows[0].cells  # the header; the rules are empty paragraphs of their own
    # the issuing body broken where a clerk breaks it, as lines of one paragraph
    assert [p.text for p in left.paragraphs if p.text] == ["TỔNG LĐLĐ VIỆT NAM", "LIÊN ĐOÀN LAO ĐỘNG\nTỈNH BÌNH ĐỊNH",
                                                           "Số: 215/BC-LĐLĐ"]
    assert left.paragraphs[1].runs[0].bold and not left.paragraphs[0].runs[0].bold
    motto, independence, place_date = [p for p in right.paragraphs if p.text]
    assert motto.text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and motto.runs[0].bold
    assert independence.text == "Độc lập - Tự do - Hạnh phúc" and independence.runs[0].bold
    assert place_date.text == "Bình Định, ngày 30 tháng 11 năm 2026" and place_date.runs[0].italic
    assert all(r.font.name == "Times New Roman" and Pt(12) <= r.font.size <= Pt(14)
               for p in (motto, independence, place_date) for r in p.runs)

    title, subtitle = [p for p in d.paragraphs if p.text][:2]
    assert title.text == "BÁO CÁO" and title.runs[0].bold and title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert subtitle.text.startswith("Kết quả thực hiện Kết luận số 01-KL/TW") and subtitle.runs[0].bold

    text = all_text(d)
    assert "Tổng số đơn vị phải báo cáo: 8; đã báo cáo: 5 (62,5%), trong đó đúng hạn: 4, chậm: 1" in text
    assert "chưa báo cáo: 3" in text and "CĐCS Công ty Cổ phần Gỗ Đức Long" in text  # the missing units, named
    # completeness per child unit
    comp = d.tables[1]
    rows = [[c.text for c in r.cells] for r in comp.rows]
    assert rows[0] == ["TT", "Đơn vị", "Phải báo cáo", "Đã báo cáo", "Đúng hạn", "Chậm", "Chưa báo cáo"]
    assert rows[1] == ["1", "Công đoàn thành phố Quy Nhơn", "4", "3", "2", "1", "1"]
    assert rows[-1] == ["", "Tổng cộng", "8", "5", "4", "1", "3"]
    # the figures table holds the consolidated figures
    figures = {r.cells[1].text: r.cells[3].text for r in d.tables[2].rows[1:]}
    assert figures["Tổng số đoàn viên công đoàn"] == "630"
    assert figures["Số đoàn viên xây dựng kế hoạch cá nhân"] == "451"
    assert figures["Tỷ lệ đoàn viên có kế hoạch cá nhân"] == vn_percent(451 / 630) == "71,6%"
    assert figures["Số lượt cán bộ, ĐVNLĐ tham gia học tập"] == "1.890"
    assert len(figures) == len(FORM.indicator_fields)
    # narratives: one section per text field in the body (the unit's own synthesis), the units' own
    # texts gathered per child unit in the appendix, after the signature
    texts = [p.text for p in d.paragraphs]
    appendix = texts.index("PHỤ LỤC")
    for heading in ("KẾT QUẢ ĐẠT ĐƯỢC", "HẠN CHẾ VÀ NGUYÊN NHÂN", "PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM TIẾP THEO",
                    "KIẾN NGHỊ, ĐỀ XUẤT"):
        assert any(p.text.endswith(heading) and p.runs[0].bold for p in d.paragraphs[:appendix]), heading
        assert any(p.text.endswith(heading) for p in d.paragraphs[appendix:]), heading
    body, annex = "\n".join(texts[:appendix]), "\n".join(texts[appendix:])
    assert "Các cấp công đoàn đã tổ chức học tập chuyên đề năm 2026." in body
    assert "được tổng hợp tại Phụ lục kèm theo (mục 1)" in body and "Kết quả: Cảng" not in body
    assert "(Kèm theo Báo cáo số 215/BC-LĐLĐ ngày 30/11/2026 của Liên đoàn Lao động tỉnh Bình Định)" in annex
    assert "- Công đoàn thành phố Quy Nhơn:" in annex and "+ CĐCS Công ty Cổ phần Cảng Quy Nhơn: Kết quả: Cảng" in annex
    assert "- CĐCS Công ty Điện lực Bình Định: Kết quả: Điện lực" in annex
    assert "Đề nghị khen thưởng tổ bốc xếp số 3." in annex
    assert "Kết quả: Bệnh viện" not in text  # returned: not counted
    assert any(p.text.endswith("./.") for p in d.paragraphs[:appendix])

    left, right = d.tables[-1].rows[0].cells  # recipients | signature
    assert left.paragraphs[0].text == "Nơi nhận:" and left.paragraphs[0].runs[0].bold and left.paragraphs[0].runs[0].italic
    assert [p.text for p in left.paragraphs[1:]] == ["- Tổng LĐLĐ Việt Nam;", "- Ban Tuyên giáo Tỉnh ủy;",
                                                     "- Thường trực, các ban LĐLĐ tỉnh;",
                                                     "- Các cấp công đoàn trong tỉnh;", "- Lưu: VT, Ban TG-NC."]
    sig = [p.text for p in right.paragraphs if p.text]
    assert sig == ["TM. BAN THƯỜNG VỤ", "CHỦ TỊCH", "(Đã ký)", "Nguyễn Mạnh Hùng"]
    assert right.paragraphs[0].runs[0].bold and right.paragraphs[-1].runs[0].bold


def test_docx_options_blank_number_and_children_only_narratives(cons: Consolidation, tmp_path: Path) -> None:
    path = to_docx(cons, meta(number=None, superior_body=None, narrative_detail="children", list_missing_up_to=1),
                   tmp_path / "draft.docx")
    d = docx.Document(str(path))
    left = d.tables[0].rows[0].cells[0]
    named = [p.text for p in left.paragraphs if p.text]
    assert named[0] == "LIÊN ĐOÀN LAO ĐỘNG\nTỈNH BÌNH ĐỊNH"
    assert named[1].startswith("Số: ") and named[1].endswith("/BC-LĐLĐ")
    text = all_text(d)
    assert "- Công đoàn thành phố Quy Nhơn: Kết quả: Quy Nhơn" in text
    assert "Kết quả: Cảng" not in text  # a grassroots union under Quy Nhơn: not at this detail
    # more missing units than the body names: their list is the first appendix, the narratives the second
    assert "Danh sách 3 đơn vị chưa báo cáo tại Phụ lục I kèm theo." in text
    assert "PHỤ LỤC I" in text and "DANH SÁCH ĐƠN VỊ CHƯA BÁO CÁO" in text and "tại Phụ lục II kèm theo (mục 1)" in text
    assert "(Kèm theo Báo cáo ngày 30/11/2026 của Liên đoàn Lao động tỉnh Bình Định)" in text  # no number yet
    missing = [[c.text for c in r.cells] for r in d.tables[-1].rows]
    assert missing[0] == ["TT", "Đơn vị", "Trực thuộc", "Tình trạng"] and len(missing) == 4
    assert missing[1] == ["1", "CĐCS Bệnh viện Đa khoa tỉnh", "Công đoàn thành phố Quy Nhơn",
                          "Báo cáo bị trả lại, chưa gửi lại"]


def test_docx_of_a_plan_with_a_long_title(cons: Consolidation, tmp_path: Path) -> None:
    """A plan's title runs long (the seed's is 230 characters, 'Dữ liệu minh hoạ' adds more): the
    page prints it whole; the file's title property, 255 characters at most, is cut with an ellipsis
    (python-docx refused it, and the consolidation failed)."""
    subtitle = ("Kết quả thực hiện Kế hoạch số KH-01/LĐLĐ thực hiện Kết luận số 01-KL/TW ngày 15/5/2021 của Bộ "
                "Chính trị về tiếp tục thực hiện Chỉ thị số 05-CT/TW “về đẩy mạnh học tập và làm theo tư tưởng, đạo "
                "đức, phong cách Hồ Chí Minh” (Dữ liệu minh hoạ) năm 2026")
    d = docx.Document(str(to_docx(cons, meta(subtitle=subtitle), tmp_path / "long.docx")))
    assert len(d.core_properties.title) == 255 and d.core_properties.title.endswith("…")
    assert subtitle in " ".join(p.text for p in d.paragraphs)


def test_docx_of_a_subtree(cons: Consolidation, tmp_path: Path) -> None:
    m = meta(unit_id="cd-quynhon", issuing_body="Công đoàn thành phố Quy Nhơn", superior_body="LĐLĐ tỉnh Bình Định",
             symbol="BC-CĐ", narrative={})
    d = docx.Document(str(to_docx(cons, m, tmp_path / "qn.docx")))
    figures = {r.cells[1].text: r.cells[3].text for r in d.tables[2].rows[1:]}
    assert figures["Tổng số đoàn viên công đoàn"] == "130"
    assert "Số: 215/BC-CĐ" in all_text(d)


def test_xlsx_holds_completeness_indicators_and_missing_units(cons: Consolidation, tmp_path: Path) -> None:
    path = to_xlsx(cons, tmp_path / "tong-hop.xlsx")
    wb = openpyxl.load_workbook(str(path))
    assert wb.sheetnames == [SHEET_COMPLETENESS, SHEET_INDICATORS, SHEET_MISSING]

    ws = wb[SHEET_COMPLETENESS]
    header = [c.value for c in ws[4]]
    assert header[:8] == ["TT", "Mã đơn vị", "Đơn vị", "Phải báo cáo", "Đã báo cáo", "Đúng hạn", "Chậm", "Chưa báo cáo"]
    rows = {r[1]: r for r in ws.iter_rows(min_row=5, values_only=True)}
    assert rows["cd-quynhon"][3:10] == (4, 3, 2, 1, 1, 1, 0)
    assert rows["cd-kkt"][3:10] == (3, 1, 1, 0, 2, 0, 1)
    total = rows["ldld-bd"]
    assert total[2] == "Tổng cộng" and total[3:8] == (8, 5, 4, 1, 3)
    assert total[10] == pytest.approx(5 / 8) and ws.cell(row=ws.max_row, column=11).number_format == "0.0%"

    ws = wb[SHEET_INDICATORS]
    header = [c.value for c in ws[4]]
    col = {h.split(" (")[0]: j for j, h in enumerate(header)}
    rows = {r[1]: r for r in ws.iter_rows(min_row=5, values_only=True)}
    assert rows["ldld-bd"][col["Tổng số đoàn viên công đoàn"]] == 630
    assert rows["ldld-bd"][col["Tỷ lệ đoàn viên có kế hoạch cá nhân"]] == pytest.approx(451 / 630)
    assert rows["cd-quynhon"][col["Số đoàn viên xây dựng kế hoạch cá nhân"]] == 101
    assert rows["cdcs-dien"][col["Tổng số đoàn viên công đoàn"]] == 200
    assert "Tỷ lệ đoàn viên có kế hoạch cá nhân (%)" in header

    ws = wb[SHEET_COMPLETENESS]
    assert ws.freeze_panes == "D5" and ws.auto_filter.ref.startswith("A4:")  # header rows stay in view
    assert ws.print_title_rows == "$4:$4" and ws.column_dimensions["C"].width >= 24

    ws = wb[SHEET_MISSING]
    assert [c.value for c in ws[4]] == ["TT", "Mã đơn vị", "Đơn vị", "Loại đơn vị", "Trực thuộc", "Tình trạng"]
    missing = [r for r in ws.iter_rows(min_row=5, values_only=True)]
    assert [(r[1], r[5]) for r in missing] == [("cdcs-bv", "Báo cáo bị trả lại, chưa gửi lại"),
                                               ("cd-kkt", "Đã gửi, chưa được tiếp nhận"),
                                               ("cdcs-go", "Chưa gửi báo cáo")]
    assert missing[2][4] == "Công đoàn các Khu kinh tế tỉnh" and missing[2][3] == "Công đoàn cơ sở"
    assert "2026" in ws["A2"].value and "30/11/2026" in ws["A2"].value


# --- the layout, read from the document's XML (what Word and LibreOffice lay out) ----------------

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _grid_cm(table) -> list[float]:  # type: ignore[no-untyped-def]
    return [round(int(c.get(f"{W}w")) / 567, 1) for c in table._tbl.tblGrid.findall(f"{W}gridCol")]


def test_docx_layout_fits_the_page(cons: Consolidation, tmp_path: Path) -> None:
    from services.reports.domain.export import TEXT_WIDTH_CM, clerk_lines, text_width_cm

    d = docx.Document(str(to_docx(cons, meta(number="21/BC-LĐLĐ"), tmp_path / "bao-cao.docx")))
    header, comp, figures, foot = d.tables[:4]
    # every table has fixed widths that add up to the text width: nothing in equal, squeezed columns
    for t in (header, comp, figures, foot):
        layout = t._tbl.tblPr.find(f"{W}tblLayout")
        assert layout is not None and layout.get(f"{W}type") == "fixed"
        assert abs(sum(_grid_cm(t)) - TEXT_WIDTH_CM) < 0.1, _grid_cm(t)
    assert _grid_cm(header) == [6.5, 10.0]
    widths = _grid_cm(comp)
    assert widths[1] == max(widths) >= 6 and len(set(widths)) > 1  # the unit's name gets the room
    assert comp.rows[0]._tr.trPr.find(f"{W}tblHeader") is not None  # the header row repeats on each page
    # the motto fits its column on one line; the issuing body breaks before "TỈNH"
    assert text_width_cm("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, bold=True) < 10.0
    assert clerk_lines("LIÊN ĐOÀN LAO ĐỘNG TỈNH BÌNH ĐỊNH", 6.3, 13, bold=True) == ["LIÊN ĐOÀN LAO ĐỘNG", "TỈNH BÌNH ĐỊNH"]
    assert clerk_lines("TỔNG LĐLĐ VIỆT NAM", 6.3, 13) == ["TỔNG LĐLĐ VIỆT NAM"]
    # the title and the subtitle run across the page: no indents squeeze them into a box
    title, subtitle = [p for p in d.paragraphs if p.text][:2]
    for p in (title, subtitle):
        assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER
        assert not p.paragraph_format.left_indent and not p.paragraph_format.right_indent
    # "Số: 21/BC-LĐLĐ", once
    left = header.rows[0].cells[0]
    assert [p.text for p in left.paragraphs if p.text][-1] == "Số: 21/BC-LĐLĐ"
    # page numbers from page 2, centred in the top margin: a PAGE field in the header, none on page 1
    sec = d.sections[0]
    assert sec.different_first_page_header_footer
    assert "PAGE" in "".join(t.text for t in sec.header._element.iter(f"{W}instrText"))
    assert sec.header.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert not any(t.text for t in sec.first_page_header._element.iter(f"{W}instrText"))
    # the signature block stays with the closing line, on one page
    assert foot.rows[0]._tr.trPr.find(f"{W}cantSplit") is not None


def test_xlsx_names_units_by_code_with_real_dates(tmp_path: Path) -> None:
    from services.reports.domain.consolidation import HierarchySnapshot, ReportStatus, Submission

    snap = HierarchySnapshot(["p", "g1", "g2"], [None, "p", "p"], ["LĐLĐ tỉnh Bình Định", "CĐCS Cảng Quy Nhơn",
                                                                 "CĐCS Điện lực"],
                             ["provincial_federation", "grassroots_union", "grassroots_union"],
                             as_of=date(2026, 11, 30), codes=["LĐLĐ-BĐ", "CĐCS-001", "CĐCS-002"])
    values = {"study_sessions": 2, "participants": 30, "cadres_total": 5, "cadres_with_plans": 4, "members_total": 10,
              "members_with_plans": 8, "exemplary_models": 1, "commended_collectives": 0, "commended_individuals": 1,
              "news_posts": 3}
    c = consolidate(FORM, snap, ["g1", "g2"], [Submission("g1", values, ReportStatus.ACCEPTED, True)],
                    requirement_id="r", period="2026-Q4")
    path = to_xlsx(c, tmp_path / "t.xlsx", submitted_on={"g1": date(2026, 11, 20)}, due_date=date(2026, 11, 30),
                   made_on=date(2026, 12, 10))
    wb = openpyxl.load_workbook(str(path))
    ws = wb[SHEET_COMPLETENESS]
    rows = {r[1]: r for r in ws.iter_rows(min_row=5, values_only=True)}
    assert set(rows) == {"CĐCS-001", "CĐCS-002", "LĐLĐ-BĐ"}  # codes, not ids
    assert rows["CĐCS-001"][12].date() == date(2026, 11, 20) and rows["CĐCS-002"][12] is None
    assert ws.cell(row=5, column=13).number_format == "dd/mm/yyyy"
    facts = {ws.cell(row=3, column=k).value: ws.cell(row=3, column=k + 2).value for k in (1, 4, 7)}
    assert {k: v.date() for k, v in facts.items()} == {"Tổ chức tại ngày:": date(2026, 11, 30),
                                                        "Hạn báo cáo:": date(2026, 11, 30), "Ngày lập:": date(2026, 12, 10)}
    assert "quý IV/2026" in ws["A2"].value
    assert [r[1] for r in wb[SHEET_MISSING].iter_rows(min_row=5, values_only=True)] == ["CĐCS-002"]
