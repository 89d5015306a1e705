"""A small, realistic registry so a newcomer sees the product on the first run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select
from stdnum.vn import mst

from storage import campaigns, registry
from storage.models import Enterprise, MilestoneKind, Role

ZONES = ("KCN Quế Võ", "KCN Yên Phong", "KCN Vân Trung", "KCN Đình Trám")
PREFIXES = ("Công ty TNHH", "Công ty Cổ phần", "Công ty TNHH MTV")
NAMES = (
    "Điện tử Hoà Bình",
    "Cơ khí chính xác Bắc Ninh",
    "May mặc Thuỷ Tiên",
    "Linh kiện Quang Minh",
    "Bao bì Đông Á",
    "Thực phẩm Sao Mai",
    "Nhựa kỹ thuật Việt Hàn",
    "Dệt kim Phú Lâm",
    "Vật liệu mới Kinh Bắc",
    "Thiết bị y tế An Phát",
    "Ô tô phụ tùng Tân Dân",
    "Gỗ nội thất Hưng Thịnh",
    "Hoá chất Đại Việt",
    "Pin năng lượng Ánh Dương",
    "Kính quang học Minh Châu",
    "Dược phẩm Trường Sơn",
    "Giày da Hoàng Long",
    "In ấn Ngọc Khánh",
    "Cáp điện Thành Công",
    "Logistics Cửa Ngõ Bắc",
)
PEOPLE = (
    "Nguyễn Thị Hoà",
    "Trần Văn Đức",
    "Lê Thị Thuỷ",
    "Phạm Quang Huy",
    "Hoàng Thị Ánh",
    "Vũ Minh Châu",
    "Đặng Văn Lâm",
    "Bùi Thị Ngọc",
    "Đỗ Quốc Khánh",
    "Ngô Thị Lan",
)


@dataclass(frozen=True)
class DemoSummary:
    """What the seed created (zero when the registry already had data)."""

    enterprises: int
    contacts: int
    campaign_year: int | None


def synthetic_tax_codes(count: int, *, prefix: str = "23009") -> list[str]:
    """Valid, clearly made-up MSTs: prefix + serial + check digit (serials with none skipped)."""
    codes: list[str] = []
    serial = 0
    while len(codes) < count:
        serial += 1
        body = f"{prefix}{serial:0{9 - len(prefix)}d}"
        check = mst.calc_check_digit(body)
        if len(check) == 1:
            codes.append(body + check)
    return codes


DEMO_DAYS = {  # days from today: whenever the demo runs, registration is open
    MilestoneKind.REGISTRATION: 14,
    MilestoneKind.MIDYEAR: 45,
    MilestoneKind.REPORT: 90,
}


def demo_cutoffs(now: datetime, tz: ZoneInfo) -> dict[MilestoneKind, datetime | None]:
    """The demo campaign's cut-offs, relative to the day it is seeded (the plan's own dates
    would leave a newcomer in December facing a closed registration)."""
    today = now.astimezone(tz).date()
    return {
        kind: campaigns.local_midnight(today + timedelta(days=days + 1), tz)
        for kind, days in DEMO_DAYS.items()
    }


def seed_demo(*, session: Session, now: datetime, tz: ZoneInfo, board_name: str) -> DemoSummary:
    """Creates this year's campaign, four zones and twenty enterprises with one contact each."""
    year = now.astimezone(tz).year
    created_year = None
    if campaigns.get_campaign(session=session, year=year) is None:
        campaigns.create_campaign(
            session=session, year=year, board_name=board_name, now=now, tz=tz,
            cutoffs=demo_cutoffs(now, tz),
        )  # fmt: skip
        created_year = year
    if session.exec(select(Enterprise.id)).first() is not None:
        session.commit()
        return DemoSummary(0, 0, created_year)
    zones = [registry.add_zone(session=session, name=name) for name in ZONES]
    for index, (name, tax_code) in enumerate(
        zip(NAMES, synthetic_tax_codes(len(NAMES)), strict=True)
    ):
        enterprise = registry.add_enterprise(
            session=session,
            tax_code=tax_code,
            name=f"{PREFIXES[index % len(PREFIXES)]} {name}",
            now=now,
            zone=zones[index % len(zones)],
            address=f"Lô {chr(65 + index % 8)}{index + 1}, {zones[index % len(zones)].name}",
        )
        registry.add_contact(
            session=session,
            full_name=PEOPLE[index % len(PEOPLE)],
            now=now,
            enterprise=enterprise,
            phone=f"09{12345000 + index:08d}",
            role=Role.CONTACT,
        )
    session.commit()
    return DemoSummary(len(NAMES), len(NAMES), created_year)
