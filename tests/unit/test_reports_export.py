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

    left, right = d.tables[0].rows[0].cells  # the header
    assert [p.text for p in left.paragraphs] == ["TỔNG LĐLĐ VIỆT NAM", "LIÊN ĐOÀN LAO ĐỘNG TỈNH BÌNH ĐỊNH",
                                                 "Số: 215/BC-LĐLĐ"]
    assert left.paragraphs[1].runs[0].bold and not left.paragraphs[0].runs[0].bold
    motto, independence, place_date = right.paragraphs
    assert motto.text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and motto.runs[0].bold
    assert independence.text == "Độc lập - Tự do - Hạnh phúc" and independence.runs[0].bold
    assert place_date.text == "Bình Định, ngày 30 tháng 11 năm 2026" and place_date.runs[0].italic
    assert all(r.font.name == "Times New Roman" and Pt(13) <= r.font.size <= Pt(14)
               for p in (motto, independence, place_date) for r in p.runs)

    title, subtitle = d.paragraphs[0], d.paragraphs[1]
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
    # the figures table holds the consolidated figures
    figures = {r.cells[1].text: r.cells[3].text for r in d.tables[2].rows[1:]}
    assert figures["Tổng số đoàn viên công đoàn"] == "630"
    assert figures["Số đoàn viên xây dựng kế hoạch cá nhân"] == "451"
    assert figures["Tỷ lệ đoàn viên có kế hoạch cá nhân"] == vn_percent(451 / 630) == "71,6%"
    assert figures["Số lượt cán bộ, ĐVNLĐ tham gia học tập"] == "1.890"
    assert len(figures) == len(FORM.indicator_fields)
    # narratives, one section per text field, gathered per child unit
    for heading in ("KẾT QUẢ ĐẠT ĐƯỢC", "HẠN CHẾ VÀ NGUYÊN NHÂN", "PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM TIẾP THEO",
                    "KIẾN NGHỊ, ĐỀ XUẤT"):
        assert any(p.text.endswith(heading) and p.runs[0].bold for p in d.paragraphs), heading
    assert "Các cấp công đoàn đã tổ chức học tập chuyên đề năm 2026." in text
    assert "- Công đoàn thành phố Quy Nhơn:" in text and "+ CĐCS Công ty Cổ phần Cảng Quy Nhơn: Kết quả: Cảng" in text
    assert "- CĐCS Công ty Điện lực Bình Định: Kết quả: Điện lực" in text
    assert "Đề nghị khen thưởng tổ bốc xếp số 3." in text
    assert "Kết quả: Bệnh viện" not in text  # returned: not counted
    assert any(p.text.endswith("./.") for p in d.paragraphs)

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
    assert left.paragraphs[0].text == "LIÊN ĐOÀN LAO ĐỘNG TỈNH BÌNH ĐỊNH"
    assert left.paragraphs[1].text.startswith("Số: ") and left.paragraphs[1].text.endswith("/BC-LĐLĐ")
    text = all_text(d)
    assert "- Công đoàn thành phố Quy Nhơn: Kết quả: Quy Nhơn" in text
    assert "Kết quả: Cảng" not in text  # a grassroots union under Quy Nhơn: not at this detail
    assert "Danh sách 3 đơn vị chưa báo cáo tại biểu tổng hợp (XLSX) kèm theo." in text


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

    ws = wb[SHEET_MISSING]
    assert [c.value for c in ws[4]] == ["TT", "Mã đơn vị", "Đơn vị", "Loại đơn vị", "Trực thuộc", "Tình trạng"]
    missing = [r for r in ws.iter_rows(min_row=5, values_only=True)]
    assert [(r[1], r[5]) for r in missing] == [("cdcs-bv", "Báo cáo bị trả lại, chưa gửi lại"),
                                               ("cd-kkt", "Đã gửi, chưa được tiếp nhận"),
                                               ("cdcs-go", "Chưa gửi báo cáo")]
    assert missing[2][4] == "Công đoàn các Khu kinh tế tỉnh" and missing[2][3] == "Công đoàn cơ sở"
    assert "2026" in ws["A2"].value and "30/11/2026" in ws["A2"].value
