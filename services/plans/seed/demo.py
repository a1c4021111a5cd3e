"""A demo union hierarchy of a province (deterministic): the provincial federation (LĐLĐ tỉnh Bình
Định), its departments (Ban Tuyên giáo - Nữ công BAN_TGNC, Ban Tổ chức - Kiểm tra BAN_TCKT, Văn
phòng VAN_PHONG, …), two affiliated units, fifteen upper-level unions (district, town and sector
unions), grassroots unions under them (a few directly under the province), and people with roles,
Vietnamese names and e-mail addresses at example.org.

Invented data for demos and tests — not a real directory. `demo_hierarchy(grassroots=1980)` gives
the 2,000-unit hierarchy the cascade tests and the benchmark use.
"""

from __future__ import annotations

import copy
import csv
import io
import random
import unicodedata
from dataclasses import dataclass
from datetime import date

PROVINCE_ID = "ldld-bd"
PROVINCE_CODE = "LDLD_BD"
CHAIR_ID = "p-ldld-bd-chu-tich"  # Nguyễn Mạnh Hùng, who signed the seed plan
EFFECTIVE_FROM = date(2020, 1, 1)

DEPARTMENTS = [
    ("BAN_TGNC", "Ban Tuyên giáo - Nữ công"),
    ("BAN_TCKT", "Ban Tổ chức - Kiểm tra"),
    ("VAN_PHONG", "Văn phòng"),
    ("BAN_CSPL", "Ban Chính sách - Pháp luật"),
    ("UBKT", "Ủy ban Kiểm tra"),
]
AFFILIATED = [
    ("NVH_LD", "Nhà Văn hóa Lao động tỉnh Bình Định"),
    ("TT_TVPL", "Trung tâm Tư vấn pháp luật Công đoàn tỉnh Bình Định"),
]
UPPER = [
    ("LDLD_QUY_NHON", "Liên đoàn Lao động thành phố Quy Nhơn"),
    ("LDLD_AN_NHON", "Liên đoàn Lao động thị xã An Nhơn"),
    ("LDLD_HOAI_NHON", "Liên đoàn Lao động thị xã Hoài Nhơn"),
    ("LDLD_TUY_PHUOC", "Liên đoàn Lao động huyện Tuy Phước"),
    ("LDLD_PHU_CAT", "Liên đoàn Lao động huyện Phù Cát"),
    ("LDLD_PHU_MY", "Liên đoàn Lao động huyện Phù Mỹ"),
    ("LDLD_TAY_SON", "Liên đoàn Lao động huyện Tây Sơn"),
    ("LDLD_HOAI_AN", "Liên đoàn Lao động huyện Hoài Ân"),
    ("LDLD_AN_LAO", "Liên đoàn Lao động huyện An Lão"),
    ("LDLD_VAN_CANH", "Liên đoàn Lao động huyện Vân Canh"),
    ("LDLD_VINH_THANH", "Liên đoàn Lao động huyện Vĩnh Thạnh"),
    ("CDN_GIAO_DUC", "Công đoàn ngành Giáo dục tỉnh"),
    ("CDN_Y_TE", "Công đoàn ngành Y tế tỉnh"),
    ("CD_VIEN_CHUC", "Công đoàn Viên chức tỉnh"),
    ("CD_KKT", "Công đoàn các Khu kinh tế tỉnh"),
]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
            "Dương", "Lý", "Đoàn", "Trương", "Lương"]
MIDDLE = ["Văn", "Thị", "Minh", "Thanh", "Ngọc", "Hữu", "Đức", "Thu", "Quốc", "Kim", "Xuân", "Hoài", "Công", "Bảo"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hiền", "Hoa", "Hùng", "Hương", "Khánh", "Lan", "Linh",
         "Long", "Mai", "Nam", "Nga", "Nhung", "Phong", "Phúc", "Phương", "Quang", "Sơn", "Tâm", "Thảo", "Thắng",
         "Trang", "Trung", "Tuấn", "Vân", "Việt", "Yến"]
PLACES = ["Nhơn Bình", "Ghềnh Ráng", "Trần Phú", "Lê Lợi", "Bình Định", "Đập Đá", "Phước Lộc", "Cát Tiến", "Mỹ Chánh",
          "Tam Quan", "Bồng Sơn", "Ân Hảo", "Tây Vinh", "Phú Phong", "Canh Vinh", "An Hòa", "Vĩnh Quang", "Nhơn Hội",
          "Phước Sơn", "Cát Hanh", "Mỹ Thọ", "Hoài Hảo", "Ân Tín", "Bình Tân", "Nhơn Tân"]
COMPANIES = ["Dược - Trang thiết bị Y tế", "Gỗ Đức Thành", "May Tam Quan", "Thủy sản Hoài Nhơn", "Xây dựng Quy Nhơn",
             "Điện lực Bình Định", "Cấp thoát nước", "Đường sắt Nghĩa Bình", "Phân bón Bình Định", "Vận tải biển",
             "Cơ khí Phú Tài", "Khoáng sản Bình Định", "Thực phẩm Bình Tây", "Giày da Phước Lộc", "Lâm nghiệp Sông Kôn"]


@dataclass(frozen=True)
class DemoUnit:
    unit_id: str
    code: str
    name: str
    kind: str
    parent_code: str | None


@dataclass(frozen=True)
class DemoPerson:
    person_id: str
    unit_id: str
    full_name: str
    roles: tuple[str, ...]
    email: str
    phone: str


def _ascii(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _slug(text: str) -> str:
    return "-".join(_ascii(text).lower().split())


def demo_hierarchy(grassroots: int = 240, seed: int = 2021) -> tuple[list[DemoUnit], list[DemoPerson]]:
    """Units (parents before children) and people of the demo province."""
    rng = random.Random(seed)
    units: list[DemoUnit] = [DemoUnit(PROVINCE_ID, PROVINCE_CODE, "Liên đoàn Lao động tỉnh Bình Định",
                                      "provincial_federation", None)]
    for code, name in DEPARTMENTS:
        units.append(DemoUnit(f"{PROVINCE_ID}-{code.lower().replace('_', '-')}", code, name, "department",
                              PROVINCE_CODE))
    for code, name in AFFILIATED:
        units.append(DemoUnit(f"{PROVINCE_ID}-{code.lower().replace('_', '-')}", code, name, "affiliated_unit",
                              PROVINCE_CODE))
    for code, name in UPPER:
        units.append(DemoUnit(f"cd-{code.lower().replace('_', '-')}", code, name, "upper_level_union", PROVINCE_CODE))
    for i in range(1, grassroots + 1):
        parent_code = PROVINCE_CODE if i % 20 == 0 else UPPER[(i * 7) % len(UPPER)][0]
        kind = rng.random()
        place = rng.choice(PLACES)
        if kind < 0.35:
            name = f"Công đoàn cơ sở Trường {rng.choice(['Tiểu học', 'THCS', 'THPT', 'Mầm non'])} {place} số {i}"
        elif kind < 0.7:
            name = f"Công đoàn cơ sở Công ty {rng.choice(['TNHH', 'Cổ phần'])} {rng.choice(COMPANIES)} số {i}"
        elif kind < 0.85:
            name = f"Công đoàn cơ sở cơ quan UBND xã {place} số {i}"
        else:
            name = f"Công đoàn cơ sở Trạm Y tế {place} số {i}"
        units.append(DemoUnit(f"cdcs-{i:05d}", f"CDCS_{i:05d}", name, "grassroots_union", parent_code))

    people: list[DemoPerson] = []
    used: set[str] = set()

    def person(unit: DemoUnit, n: int, roles: tuple[str, ...], full_name: str | None = None,
               person_id: str | None = None) -> None:
        name = full_name or f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        pid = person_id or f"p-{unit.unit_id}-{n}"
        local = f"{_slug(name).replace('-', '.')}.{unit.unit_id.split('-')[-1]}{n}"
        while local in used:
            local += "x"
        used.add(local)
        phone = f"+84 9{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
        people.append(DemoPerson(pid, unit.unit_id, name, roles, f"{local}@example.org", phone))

    for u in units:
        if u.kind == "provincial_federation":
            person(u, 1, ("chairperson", "executive_member", "head_of_unit"), "Nguyễn Mạnh Hùng", CHAIR_ID)
            for n in range(2, 4):
                person(u, n, ("executive_member", "cadre"))  # Phó Chủ tịch
            for n in range(4, 10):
                person(u, n, ("executive_member",))  # Ủy viên BCH
        elif u.kind in ("department", "affiliated_unit"):
            person(u, 1, ("head_of_unit", "cadre"))
            person(u, 2, ("cadre",))
        elif u.kind == "upper_level_union":
            person(u, 1, ("chairperson", "executive_member", "head_of_unit"))
            person(u, 2, ("executive_member", "cadre"))
            person(u, 3, ("cadre",))
        else:
            person(u, 1, ("chairperson", "executive_member", "head_of_unit"))
            person(u, 2, ("executive_member",))
            person(u, 3, ("member",))
    return units, people


def units_csv(units: list[DemoUnit], effective_from: date | None = EFFECTIVE_FROM) -> str:
    """The import file of these units (the format of the import_units endpoint)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["unit_id", "code", "name", "kind", "parent_code", "effective_from"])
    for u in units:
        w.writerow([u.unit_id, u.code, u.name, u.kind, u.parent_code or "",
                    effective_from.isoformat() if effective_from else ""])
    return buf.getvalue()


__all__ = ["PROVINCE_ID", "PROVINCE_CODE", "CHAIR_ID", "EFFECTIVE_FROM", "DemoUnit", "DemoPerson", "demo_hierarchy",
           "units_csv"]


# --- the seed plan, as the demo loads it ------------------------------------------------------

DEMO_LABEL = "Dữ liệu minh hoạ"
REPORT_MONTH_DAY = (11, 30)  # the annual results report, "trước ngày 30/11 hàng năm"


def demo_cycle_year(today: date) -> int:
    """The year whose campaign a newcomer should see: this year until its 30/11 report is due,
    next year once it has passed (issued in December, this year's report would be overdue at once)."""
    return today.year if (today.month, today.day) <= REPORT_MONTH_DAY else today.year + 1


def demo_plan_document(document: dict[str, object], today: date) -> dict[str, object]:
    """The seed plan (written in 2021) with its cycle placed in the demo's year: the first year its
    yearly items apply to, its one-off items (quý IV/2021, tháng 12/2021) and "chuyên đề năm 2021"
    moved to that year, no "not before" date (it is issued on the clock's today), and the title
    saying it is demo data ("(Dữ liệu minh hoạ)"). The documents it implements keep their real dates."""
    year = demo_cycle_year(today)
    seed_year = int(document.get("first_year") or 2021)  # type: ignore[call-overload]
    doc = copy.deepcopy(document)
    doc["first_year"] = year
    doc["issued_not_before"] = None
    doc["issued_on"] = None
    doc["title"] = f"{document['title']} ({DEMO_LABEL})"
    for section in doc.get("sections", []):  # type: ignore[attr-defined]
        for item in section["items"]:
            timing = item.get("timing") or {}
            if timing.get("year") == seed_year:
                timing["year"] = year
            if item.get("timing_text"):
                item["timing_text"] = item["timing_text"].replace(f"/{seed_year}", f"/{year}")
            item["content"] = item["content"].replace(f"năm {seed_year}", f"năm {year}")
    return doc
