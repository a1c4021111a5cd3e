"""The consolidated report as printed: the DOCX rendered to PDF by LibreOffice (headless, from
Debian's libreoffice-writer-nogui and poppler-utils; .ci/run installs them on CI, elsewhere the
test is skipped with that reason), then read back with pdftotext: the body of a province's report
stays a few pages with the units' narratives in the appendix, the header blocks break where a
clerk breaks them, the title runs across the page, pages are numbered from page 2."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from services.reports.domain.consolidation import HierarchySnapshot, ReportStatus, Submission, consolidate
from services.reports.domain.export import ReportMeta, to_docx
from services.reports.domain.forms import CAMPAIGN_FORM_01KL as FORM

pytestmark = pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext")),
                                reason="LibreOffice (soffice) and poppler-utils (pdftotext) are not installed: "
                                       "apt-get install libreoffice-writer-nogui poppler-utils")

UPPER = ["Liên đoàn Lao động thành phố Quy Nhơn", "Liên đoàn Lao động thị xã An Nhơn",
         "Liên đoàn Lao động huyện Tuy Phước", "Công đoàn Viên chức tỉnh", "Công đoàn ngành Giáo dục",
         "Công đoàn ngành Y tế", "Công đoàn các Khu kinh tế tỉnh", "Liên đoàn Lao động huyện Phù Cát",
         "Liên đoàn Lao động huyện Phù Mỹ", "Liên đoàn Lao động thị xã Hoài Nhơn", "Liên đoàn Lao động huyện Hoài Ân",
         "Liên đoàn Lao động huyện Tây Sơn", "Liên đoàn Lao động huyện Vân Canh", "Công đoàn ngành Công Thương",
         "Công đoàn ngành Giao thông vận tải"]


def _province() -> tuple[HierarchySnapshot, list[str], list[Submission]]:
    """The demo's shape: 15 upper-level unions, 240 grassroots unions, a narrative in every report."""
    ids, parents, names, kinds = ["p"], [None], ["Liên đoàn Lao động tỉnh Bình Định"], ["provincial_federation"]
    subs = []
    for k, name in enumerate(UPPER):
        ids += [f"u{k}"]
        parents += ["p"]
        names += [name]
        kinds += ["upper_level_union"]
        for g in range(16):
            n = k * 16 + g
            ids += [f"g{n}"]
            parents += [f"u{k}"]
            names += [f"Công đoàn cơ sở Công ty Cổ phần số {n + 1}"]
            kinds += ["grassroots_union"]
            if n % 10 < 8:
                subs.append(Submission(f"g{n}", {
                    "study_sessions": 3, "participants": 90, "cadres_total": 7, "cadres_with_plans": 6,
                    "members_total": 30, "members_with_plans": 25, "exemplary_models": 1, "commended_collectives": 1,
                    "commended_individuals": 2, "news_posts": 5,
                    "results": "Đơn vị đã tổ chức học tập chuyên đề năm, triển khai Kết luận số 01-KL/TW đến toàn thể "
                               "đoàn viên, gắn với phong trào thi đua lao động giỏi.",
                    "limitations": "Một số đoàn viên làm việc theo ca chưa tham gia đầy đủ.",
                    "next_year_tasks": "Tiếp tục học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh."},
                    ReportStatus.ACCEPTED, n % 10 < 7))
    snap = HierarchySnapshot(ids, parents, names, kinds, as_of=date(2021, 11, 30))
    return snap, snap.units_of_kinds(["grassroots_union"], under="p"), subs


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


def test_the_report_prints_as_a_clerk_would_sign_it(tmp_path: Path) -> None:
    snap, expected, subs = _province()
    cons = consolidate(FORM, snap, expected, subs, requirement_id="r", period="2021")
    meta = ReportMeta(issuing_body="Liên đoàn Lao động tỉnh Bình Định", place="Bình Định", issued_on=date(2021, 12, 10),
                      number="21/BC-LĐLĐ", subtitle="Kết quả thực hiện Kết luận số 01-KL/TW của Bộ Chính trị về tiếp "
                      "tục thực hiện Chỉ thị số 05-CT/TW năm 2021", signer_name="Nguyễn Mạnh Hùng",
                      recipients=["Tổng LĐLĐ Việt Nam", "Ban Tuyên giáo Tỉnh ủy", "Lưu: VT, Ban TG-NC"],
                      narrative={"results": "Các cấp công đoàn đã tổ chức học tập chuyên đề năm 2021."})
    docx = to_docx(cons, meta, tmp_path / "bao-cao.docx")
    profile = tmp_path / "lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(docx)], check=True, capture_output=True, timeout=240)
    pages = _pages(tmp_path / "bao-cao.pdf")
    body = next(i for i, p in enumerate(pages) if "PHỤ LỤC" in p)
    assert body <= 3, f"the report itself runs {body} pages before its appendix"
    first = [line.strip() for line in pages[0].splitlines() if line.strip()]
    text = "\n".join(first)
    # the header: the issuing body in two lines broken before "TỈNH", the motto on one line, the number once
    assert any(line.startswith("LIÊN ĐOÀN LAO ĐỘNG") and "Độc lập" in line for line in first), first[:6]
    assert any(line.startswith("TỈNH BÌNH ĐỊNH") for line in first), first[:6]
    assert any("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in line for line in first), first[:6]
    assert "Số: 21/BC-LĐLĐ" in text and "BC-LĐLĐ/BC-LĐLĐ" not in text
    # the title across the page: the subtitle in at most two lines
    start = first.index("BÁO CÁO")
    assert first[start + 1].startswith("Kết quả thực hiện Kết luận số 01-KL/TW") and first[start + 2].endswith("năm 2021")
    assert first[start + 3].startswith("I. TÌNH HÌNH BÁO CÁO")
    # page numbers from page 2, none on page 1
    assert not first[0].isdigit() and pages[1].strip().splitlines()[0].strip() == "2"
