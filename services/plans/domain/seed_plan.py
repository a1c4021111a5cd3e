"""The seed plan (seed/000_a443f19bbe933251.txt) as data. Plain Python, no I/O.

It is the first real plan the system runs, not a special case: everything here is ordinary plan
data (items with content, responsible parties, expected output and timing) that could be written to
a plan file with ``SEED_PLAN.to_dict()``.

Reading decisions (the text is the authority; where it is silent we say so instead of guessing):
- Number and date: the text shows neither ("KẾ HOẠCH" has no "Số:" line). ``number`` is the
  placeholder ``PLACEHOLDER_NUMBER`` with ``number_is_placeholder=True``; replace it with the real
  number when known. "11-KH/TU" is the provincial party committee's plan this one implements, not
  this plan's number. ``issued_on`` is None; the plan cannot predate 18/10/2021 (Kế hoạch 11-KH/TU)
  and has deadlines in quý IV/2021, so it was issued in Q4/2021 (``issued_not_before``).
- Section numbering follows the text: it goes I, II (with 1, 2, 3), IV — there is no "III"
  heading, so "3. Công tác sơ kết, tổng kết…" is kept as II.3. Item ids are section path + letter
  in order of appearance ("II.1.a", "IV.1.1.e").
- Timing: ``timing_text`` is the phrase as written and ``timing`` is what ``parse_timing`` reads
  from it. Where the text states no timing, ``timing_text`` is None and the item is treated as
  ongoing (no deadline), with a note.
- "Các cấp công đoàn" is read as the upper-level and grassroots unions under the issuer; the
  provincial federation's own share is given to its departments in IV.1.
- IV.2.b ("Hàng năm, … báo cáo về LĐLĐ tỉnh") is the same yearly report as II.3.a (due 30/11); it
  keeps its own stated timing ("hằng năm", no date) and points to II.3.a, so the report is asked
  for once, not twice.
"""

from __future__ import annotations

import copy
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from contracts.types import Role, UnitKind
from services.plans.domain.timing import Ongoing, Timing, parse_timing

PLACEHOLDER_NUMBER = "KH-01/LĐLĐ"  # NOT the real number: the seed text does not show one.

# What an item is expected to produce; downstream services key on these.
OUTPUT_KINDS = ("plan", "report", "conference", "regulation", "posts", "award_round", "guidance",
                "individual_plan", "activity")

# The issuer's departments named in the seed (codes are ours; names are the seed's).
DEPARTMENTS = {
    "BAN_TGNC": "Ban Tuyên giáo - Nữ công",
    "BAN_TCKT": "Ban Tổ chức - Kiểm tra",
    "VAN_PHONG": "Văn phòng",
}

# Kinds of responsible-party / recipient references used below, and their fields.
PARTY_KINDS = {
    "issuer": set(),  # the issuing federation itself
    "units_of_kind": {"unit_kinds", "under"},  # every unit of these kinds below `under`
    "department": {"code"},  # one department of the issuer
    "people_of_role": {"roles", "under"},  # every person with one of these roles below `under`
    "standing_committee": set(),  # Thường trực / Ban Thường vụ of the issuer
    "external": {"name", "unit_kind"},  # a body outside the union tree (or above it)
    "party_cell": set(),  # the chi bộ where a person is a party member: outside the system
}


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


# --- party references --------------------------------------------------------------------------

def issuer() -> dict[str, Any]:
    return {"kind": "issuer"}


def units_of_kind(*kinds: UnitKind, under: str = "issuer") -> dict[str, Any]:
    return {"kind": "units_of_kind", "unit_kinds": [k.value for k in kinds], "under": under}


def department(code: str) -> dict[str, Any]:
    if code not in DEPARTMENTS:
        raise ValueError(f"unknown department code {code}")
    return {"kind": "department", "code": code}


def people_of_role(*roles: Role, under: str = "issuer") -> dict[str, Any]:
    return {"kind": "people_of_role", "roles": [r.value for r in roles], "under": under}


def standing_committee() -> dict[str, Any]:
    return {"kind": "standing_committee"}


def external(name: str, unit_kind: UnitKind) -> dict[str, Any]:
    return {"kind": "external", "name": _nfc(name), "unit_kind": unit_kind.value}


def party_cell() -> dict[str, Any]:
    return {"kind": "party_cell"}


ALL_UNION_LEVELS = units_of_kind(UnitKind.UPPER_LEVEL_UNION, UnitKind.GRASSROOTS_UNION)
NATIONAL_FEDERATION = external("Tổng LĐLĐ Việt Nam", UnitKind.NATIONAL_FEDERATION)
PROVINCIAL_PROPAGANDA_BOARD = external("Ban Tuyên giáo Tỉnh ủy", UnitKind.EXTERNAL_BODY)
PROVINCIAL_MASS_MOBILISATION_BOARD = external("Ban Dân vận Tỉnh ủy", UnitKind.EXTERNAL_BODY)


# --- the plan's shape --------------------------------------------------------------------------

@dataclass(frozen=True)
class BasisDocument:
    kind: str  # ket_luan, chi_thi, cong_van, ke_hoach, quy_dinh
    number: str
    issued_on: date | None  # None: the seed does not give the date
    issuer: str
    title: str
    relation: str  # implements (the plan carries it out), context (named in the title), cited (in an item)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "number": self.number,
                "issued_on": self.issued_on.isoformat() if self.issued_on else None,
                "issuer": self.issuer, "title": self.title, "relation": self.relation}


@dataclass(frozen=True)
class Recipient:
    label: str  # as written under "Nơi nhận"
    parties: tuple[dict[str, Any], ...]
    purpose: str  # for_information, for_action, archive

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "parties": copy.deepcopy(list(self.parties)), "purpose": self.purpose}


@dataclass(frozen=True)
class PlanItem:
    item_id: str
    content: str
    responsible: tuple[dict[str, Any], ...]
    output: str
    timing_text: str | None
    timing: Timing
    reports_to: tuple[dict[str, Any], ...] = ()
    see_also: tuple[str, ...] = ()
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "content": self.content, "responsible": copy.deepcopy(list(self.responsible)),
                "output": self.output, "timing_text": self.timing_text, "timing": self.timing.to_dict(),
                "reports_to": copy.deepcopy(list(self.reports_to)), "see_also": list(self.see_also),
                "note": self.note}


@dataclass(frozen=True)
class Section:
    code: str  # "I", "II.1", "IV.1.1"…
    title: str
    paragraphs: tuple[str, ...] = ()  # prose that asks nothing by a date (section I)
    items: tuple[PlanItem, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "paragraphs": list(self.paragraphs),
                "items": [i.to_dict() for i in self.items]}


@dataclass(frozen=True)
class Plan:
    number: str
    number_is_placeholder: bool
    title: str
    issuer_name: str
    issuing_body: str
    issued_on: date | None
    issued_not_before: date | None
    first_year: int  # the first year the plan's yearly items apply to
    basis: tuple[BasisDocument, ...]
    sections: tuple[Section, ...]
    recipients: tuple[Recipient, ...]
    signed_by: dict[str, str] = field(default_factory=dict)

    def items(self) -> list[PlanItem]:
        return [i for s in self.sections for i in s.items]

    def item(self, item_id: str) -> PlanItem:
        for i in self.items():
            if i.item_id == item_id:
                return i
        raise KeyError(item_id)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (dates as ISO strings, timings tagged by kind)."""
        return {"number": self.number, "number_is_placeholder": self.number_is_placeholder, "title": self.title,
                "issuer_name": self.issuer_name, "issuing_body": self.issuing_body,
                "issued_on": self.issued_on.isoformat() if self.issued_on else None,
                "issued_not_before": self.issued_not_before.isoformat() if self.issued_not_before else None,
                "first_year": self.first_year, "basis": [b.to_dict() for b in self.basis],
                "sections": [s.to_dict() for s in self.sections],
                "recipients": [r.to_dict() for r in self.recipients], "signed_by": dict(self.signed_by)}


def _item(item_id: str, content: str, responsible: list[dict[str, Any]], output: str, timing_text: str | None,
          *, reports_to: tuple[dict[str, Any], ...] = (), see_also: tuple[str, ...] = (),
          note: str | None = None) -> PlanItem:
    if output not in OUTPUT_KINDS:
        raise ValueError(f"{item_id}: unknown output {output}")
    if timing_text is None:
        timing: Timing = Ongoing()
        note = ((note + " ") if note else "") + "No timing stated; treated as ongoing."
    else:
        timing_text = _nfc(timing_text)
        timing = parse_timing(timing_text)
    # Deep copies: shared party constants must not be aliased between items.
    return PlanItem(item_id, _nfc(content), tuple(copy.deepcopy(responsible)), output, timing_text, timing,
                    tuple(copy.deepcopy(list(reports_to))), see_also, note)


# --- the seed ----------------------------------------------------------------------------------

_TOPIC = "Kết luận số 01-KL/TW, chuyên đề toàn khóa, chuyên đề hằng năm"

SECTION_I = Section("I", "MỤC ĐÍCH, YÊU CẦU", paragraphs=(
    _nfc("Triển khai, tuyên truyền tới các cấp công đoàn, đoàn viên và người lao động (ĐVNLĐ) thực hiện có hiệu "
         "quả Kết luận số 01-KL/TW, qua đó tiếp tục nâng cao nhận thức, trách nhiệm của các cấp công đoàn và cán bộ, "
         "ĐVNLĐ về nội dung, giá trị và ý nghĩa to lớn của tư tưởng, đạo đức, phong cách Hồ Chí Minh; tạo sự chuyển "
         "biến sâu sắc hơn nữa trong hành động học tập và làm theo…"),
    _nfc("Việc triển khai thực hiện Kết luận số 01-KL/TW, Chuyên đề toàn khóa, chuyên đề hằng năm phải tổ chức "
         "thường xuyên, gắn với chức năng, nhiệm vụ chính trị của từng cơ quan, đơn vị… Chú trọng phát huy ưu thế "
         "của internet, mạng xã hội, các phương tiện thông tin đại chúng để tuyên truyền."),
))

SECTION_II_1 = Section("II.1", "Tổ chức học tập và xây dựng kế hoạch làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh", items=(
    _item("II.1.a",
          "Các cấp công đoàn tổ chức triển khai, phổ biến cho cán bộ, ĐVNLĐ về nội dung, giá trị và ý nghĩa to lớn "
          f"của tư tưởng, đạo đức, phong cách Hồ Chí Minh; nội dung {_TOPIC}; đưa việc học tập và làm theo Bác vào "
          "nội dung sinh hoạt, hoạt động cụ thể của mỗi cấp công đoàn.",
          [ALL_UNION_LEVELS], "activity", "thực hiện thường xuyên"),
    _item("II.1.b",
          f"Các cấp công đoàn trong tỉnh xây dựng kế hoạch triển khai thực hiện {_TOPIC} gắn với thực hiện nhiệm vụ "
          "chính trị của cơ quan, đơn vị, địa phương.",
          [ALL_UNION_LEVELS], "plan", "hoàn thành vào tháng 12 hằng năm",
          see_also=("IV.2.a",), note="Each year's plan is linked to this (parent) plan."),
    _item("II.1.c",
          f"Đưa việc thực hiện nội dung {_TOPIC} vào chương trình, kế hoạch hành động thực hiện Nghị quyết Đại hội "
          "XIII của Đảng, nghị quyết của công đoàn, gắn với các cuộc vận động, các phong trào và nhiệm vụ chính trị "
          "của công đoàn các cấp; giải quyết các vấn đề bức xúc, nổi cộm của ĐVNLĐ.",
          [ALL_UNION_LEVELS], "activity", "thực hiện thường xuyên",
          note="Responsible party implicit in the text (công đoàn các cấp)."),
    _item("II.1.d",
          f"Lãnh đạo, chỉ đạo chặt chẽ việc triển khai thực hiện {_TOPIC} theo phương châm “trên trước, dưới sau”; "
          "“trong trước, ngoài sau”. Xây dựng, tổng kết và nhân rộng những điển hình tiên tiến về làm theo tư tưởng, "
          "đạo đức và phong cách Hồ Chí Minh. Đề cao trách nhiệm nêu gương của người đứng đầu và cán bộ chủ chốt ở "
          "các cấp công đoàn.",
          [ALL_UNION_LEVELS, people_of_role(Role.HEAD_OF_UNIT)], "activity", "thực hiện thường xuyên",
          note="Exemplary models (điển hình tiên tiến) are recorded here."),
    _item("II.1.e",
          "Các đồng chí Ủy viên Ban Chấp hành LĐLĐ tỉnh, người đứng đầu các cơ quan, đơn vị sự nghiệp công đoàn xây "
          f"dựng kế hoạch cá nhân để thực hiện nội dung {_TOPIC}; cuối năm, báo cáo kết quả thực hiện với ban thường "
          "vụ hoặc đảng đoàn, lãnh đạo cơ quan và chi bộ nơi sinh hoạt.",
          [people_of_role(Role.EXECUTIVE_MEMBER, Role.HEAD_OF_UNIT)], "individual_plan", "hằng năm",
          reports_to=(standing_committee(), party_cell()),
          note="Result reported at year end ('cuối năm'); the text sets no date."),
    _item("II.1.f",
          "Các cấp công đoàn, các cơ quan, đơn vị hướng dẫn cán bộ, ĐVNLĐ xây dựng kế hoạch cá nhân. Cuối năm, báo cáo "
          "kết quả thực hiện với chi bộ, tổ chức, cơ quan, đơn vị nơi công tác và bổ sung kế hoạch thực hiện cho năm "
          "tiếp theo.",
          [ALL_UNION_LEVELS, people_of_role(Role.CADRE, Role.MEMBER)], "individual_plan", "hằng năm",
          reports_to=(party_cell(),),
          note="Units guide; cadres and members write the individual plan."),
    _item("II.1.g",
          "Lấy kết quả học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh là một trong những tiêu chuẩn "
          "đánh giá cán bộ hàng năm.",
          [ALL_UNION_LEVELS], "activity", "hàng năm",
          see_also=("II.1.e", "II.1.f"),
          note="A rule of the annual cadre evaluation, not a deliverable; responsible party implicit."),
    _item("II.1.h",
          "LĐLĐ tỉnh và công đoàn cấp trên cơ sở, lãnh đạo đơn vị kinh tế - sự nghiệp thuộc LĐLĐ tỉnh rà soát, xây "
          "dựng quy định đối với cán bộ, công chức, nhất là người đứng đầu và cán bộ công đoàn chủ chốt của đơn vị "
          "trong hội họp, đi cơ sở, sử dụng xe và các tài sản công; nêu cao trách nhiệm gương mẫu theo Quy định "
          "101-QĐ/TW ngày 06/7/2012; bổ sung, hoàn thiện chuẩn mực đạo đức nghề nghiệp, đạo đức công vụ.",
          [issuer(), units_of_kind(UnitKind.UPPER_LEVEL_UNION), units_of_kind(UnitKind.AFFILIATED_UNIT)],
          "regulation", None, see_also=("IV.1.2.a",)),
))

SECTION_II_2 = Section("II.2", "Đẩy mạnh công tác tuyên truyền", items=(
    _item("II.2.a",
          "Tiếp tục đổi mới, đa dạng hóa các hình thức tuyên truyền; phát huy đội ngũ báo cáo viên, tuyên truyền viên; "
          "duy trì các chuyên trang, chuyên mục học tập và làm theo Bác; nâng cao chất lượng Bản tin Công đoàn Bình "
          "Định và tin, bài về cách làm hay, sáng tạo, mô hình tiêu biểu; tăng cường phản bác các thông tin xấu, độc, "
          "quan điểm sai trái.",
          [issuer(), ALL_UNION_LEVELS], "posts", "thực hiện thường xuyên",
          note="Responsible party implicit in the text."),
    _item("II.2.b",
          "Thường xuyên quan tâm, phát hiện, khen thưởng, biểu dương các tập thể, cá nhân có thành tích xuất sắc, tiêu "
          "biểu trong thực hiện làm theo tư tưởng, đạo đức và phong cách Hồ Chí Minh.",
          [issuer(), ALL_UNION_LEVELS], "award_round", "Thường xuyên",
          see_also=("II.2.c",), note="Ad hoc commendation at any time, besides the May round."),
    _item("II.2.c",
          "Các cấp công đoàn đẩy mạnh phong trào thi đua yêu nước gắn với việc lựa chọn, tôn vinh, khen thưởng các tập "
          "thể, cá nhân có thành tích xuất sắc.",
          [ALL_UNION_LEVELS], "award_round",
          "Hàng năm trong dịp triển khai các hoạt động của Tháng Công nhân, kỷ niệm Ngày sinh của Chủ tịch Hồ Chí Minh",
          note="Workers' Month (May), around 19/5."),
))

SECTION_II_3 = Section("II.3", "Công tác sơ kết, tổng kết việc học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh", items=(
    _item("II.3.a",
          "Các cấp công đoàn tổ chức đánh giá kết quả thực hiện kế hoạch học tập làm theo tư tưởng, đạo đức và phong "
          "cách Hồ Chí Minh năm trước, xây dựng kế hoạch của năm sau; gửi báo cáo kết quả thực hiện về LĐLĐ tỉnh (qua "
          "Ban Tuyên giáo - Nữ công) để tổng hợp, báo cáo Tổng Liên đoàn, Ban Tuyên giáo Tỉnh ủy.",
          [ALL_UNION_LEVELS], "report", "Trước ngày 30/11 hàng năm",
          reports_to=(department("BAN_TGNC"),), see_also=("IV.1.1.e", "IV.2.b"),
          note="Due 30/11 inclusive (see timing.py). Ban TG-NC consolidates (IV.1.1.e)."),
))

SECTION_IV_1_1 = Section("IV.1.1", "Giao Ban Tuyên giáo - Nữ công", items=(
    _item("IV.1.1.a",
          "Tham mưu xây dựng hướng dẫn triển khai học tập và khen thưởng Chuyên đề toàn khóa - chuyên đề năm 2021.",
          [department("BAN_TGNC")], "guidance", "hoàn thành vào quý IV/2021"),
    _item("IV.1.1.b",
          "Tổ chức hội nghị triển khai Kết luận số 01-KL/TW; Chuyên đề toàn khóa - chuyên đề năm 2021 và các văn bản "
          "có liên quan cho cán bộ công đoàn chủ chốt, báo cáo viên công đoàn của tỉnh phù hợp với tình hình dịch, "
          "bệnh Covid-19.",
          [department("BAN_TGNC")], "conference", "Hoàn thành trong quý IV/2021"),
    _item("IV.1.1.c",
          "Đăng tải Kết luận số 01-KL/TW của Bộ Chính trị; Chuyên đề toàn khóa - chuyên đề năm và các nội dung có liên "
          "quan trên Trang thông tin điện tử Công đoàn Bình Định.",
          [department("BAN_TGNC")], "posts", "thường xuyên"),
    _item("IV.1.1.d",
          "Thường xuyên phối hợp với các cấp công đoàn trong tỉnh chủ động đưa tin, bài, hình ảnh về học tập và làm "
          "theo tư tưởng, đạo đức, phong cách Hồ Chí Minh lên website, fanpage Công đoàn Bình Định.",
          [department("BAN_TGNC"), ALL_UNION_LEVELS], "posts", "thường xuyên"),
    _item("IV.1.1.e",
          "Tăng cường kiểm tra, giám sát, đôn đốc việc thực hiện Chỉ thị số 05-CT/TW, Kết luận số 01-KL/TW, Chuyên đề "
          "học tập toàn khóa - chuyên đề năm; tổng hợp báo cáo gửi Tổng LĐLĐ Việt Nam và Ban Tuyên giáo Tỉnh ủy.",
          [department("BAN_TGNC")], "report", "Thường xuyên và theo định kỳ",
          reports_to=(NATIONAL_FEDERATION, PROVINCIAL_PROPAGANDA_BOARD), see_also=("II.3.a",),
          note="Inspection and urging (đôn đốc) are the reminders and overdue notices; the consolidated report "
               "follows the units' 30/11 reports (II.3.a)."),
))

SECTION_IV_1_2 = Section("IV.1.2", "Ban Tổ chức - Kiểm tra", items=(
    _item("IV.1.2.a",
          "Tham mưu xây dựng quy chế, quy định liên quan đến thực hiện trách nhiệm nêu gương của cán bộ, đoàn viên "
          "công đoàn.",
          [department("BAN_TCKT")], "regulation", "Hoàn thành trong tháng 12/2021"),
))

SECTION_IV_1_3 = Section("IV.1.3", "Văn phòng và các ban", items=(
    _item("IV.1.3.a",
          "Theo chức năng, nhiệm vụ của mình phối hợp tổ chức các hoạt động theo kế hoạch và phân công của Thường trực "
          "LĐLĐ tỉnh.",
          [department("VAN_PHONG"), units_of_kind(UnitKind.DEPARTMENT)], "activity", None),
))

SECTION_IV_2 = Section("IV.2", "Công đoàn cấp trên cơ sở và CĐCS trực thuộc", items=(
    _item("IV.2.a",
          "Chủ động xây dựng kế hoạch thực hiện ở cấp mình và tổ chức triển khai Kết luận số 01-KL/TW, Chuyên đề học "
          "tập toàn khóa - chuyên đề năm đến ĐVNLĐ của đơn vị đảm bảo hiệu quả, phù hợp với tình hình thực tế và điều "
          "kiện cụ thể ở mỗi cấp.",
          [ALL_UNION_LEVELS], "plan", "Hoàn thành trong tháng 12/2021",
          see_also=("II.1.b",), note="The first (2021) implementation plan; later years follow II.1.b."),
    _item("IV.2.b",
          "Hàng năm, tổng hợp kết quả triển khai thực hiện, báo cáo về LĐLĐ tỉnh.",
          [ALL_UNION_LEVELS], "report", "Hàng năm",
          see_also=("II.3.a",), note="The same yearly report as II.3.a (due 30/11); do not ask for it twice."),
))

SEED_PLAN = Plan(
    number=PLACEHOLDER_NUMBER,
    number_is_placeholder=True,
    title=_nfc("Kế hoạch thực hiện Kết luận số 01-KL/TW ngày 15/5/2021 của Bộ Chính trị về tiếp tục thực hiện Chỉ "
               "thị số 05-CT/TW “về đẩy mạnh học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh”"),
    issuer_name="LĐLĐ tỉnh Bình Định",
    issuing_body="Ban Thường vụ Liên đoàn Lao động tỉnh Bình Định",
    issued_on=None,
    issued_not_before=date(2021, 10, 18),
    first_year=2021,
    basis=(
        BasisDocument("ket_luan", "01-KL/TW", date(2021, 5, 15), "Bộ Chính trị",
                      "về tiếp tục thực hiện Chỉ thị số 05-CT/TW", "implements"),
        BasisDocument("chi_thi", "05-CT/TW", None, "Bộ Chính trị",
                      "về đẩy mạnh học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh", "context"),
        BasisDocument("cong_van", "115-CV/TU", date(2021, 6, 9), "Tỉnh ủy Bình Định",
                      "về việc triển khai Kết luận số 01-KL/TW của Bộ Chính trị (khóa XIII)", "implements"),
        BasisDocument("ke_hoach", "11-KH/TU", date(2021, 10, 18), "Tỉnh ủy Bình Định",
                      "thực hiện Kết luận số 01-KL/TW của Bộ Chính trị về tiếp tục thực hiện Chỉ thị số 05-CT/TW",
                      "implements"),
        BasisDocument("quy_dinh", "101-QĐ/TW", date(2012, 7, 6), "Ban Bí thư khóa XI",
                      "về trách nhiệm nêu gương của cán bộ, đảng viên, nhất là cán bộ lãnh đạo chủ chốt các cấp",
                      "cited"),
    ),
    sections=(SECTION_I, SECTION_II_1, SECTION_II_2, SECTION_II_3, SECTION_IV_1_1, SECTION_IV_1_2, SECTION_IV_1_3,
              SECTION_IV_2),
    recipients=(
        Recipient("Tổng LĐLĐ Việt Nam", (NATIONAL_FEDERATION,), "for_information"),
        Recipient("Ban Dân vận Tỉnh ủy", (PROVINCIAL_MASS_MOBILISATION_BOARD,), "for_information"),
        Recipient("Ban Tuyên giáo Tỉnh ủy", (PROVINCIAL_PROPAGANDA_BOARD,), "for_information"),
        Recipient("Thường trực, các ban LĐLĐ tỉnh", (standing_committee(), units_of_kind(UnitKind.DEPARTMENT)),
                  "for_action"),
        Recipient("Các đơn vị SN trực thuộc", (units_of_kind(UnitKind.AFFILIATED_UNIT),), "for_action"),
        Recipient("Các cấp công đoàn trong tỉnh", (ALL_UNION_LEVELS,), "for_action"),
        # VT = văn thư, the records desk of the Văn phòng.
        Recipient("Lưu: VT, Ban TG-NC", (department("VAN_PHONG"), department("BAN_TGNC")), "archive"),
    ),
    signed_by={"on_behalf_of": "TM. BAN THƯỜNG VỤ", "title": "CHỦ TỊCH", "name": "Nguyễn Mạnh Hùng"},
)


__all__ = [
    "SEED_PLAN", "PLACEHOLDER_NUMBER", "OUTPUT_KINDS", "DEPARTMENTS", "PARTY_KINDS", "Plan", "Section", "PlanItem",
    "BasisDocument", "Recipient", "issuer", "units_of_kind", "department", "people_of_role", "standing_committee",
    "external", "party_cell", "ALL_UNION_LEVELS",
]
