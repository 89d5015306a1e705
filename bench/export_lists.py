"""Exports the registration list for 2,000 enterprises × 50 nominees: time and peak RSS."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ENTERPRISES, NOMINEES = 2_000, 50
NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def build(folder: Path) -> None:
    """Submitted registrations with 45 people and 5 collectives each, inserted in bulk."""
    from sqlalchemy import insert
    from sqlmodel import select

    from bot.demo import synthetic_tax_codes
    from storage import campaigns
    from storage.engine import make_engine, session_for
    from storage.migrate import upgrade
    from storage.models import Enterprise, Nominee, Registration
    from storage.text import search_key

    engine = make_engine(f"sqlite:///{folder}/bench.sqlite3")
    upgrade(engine)
    with session_for(engine) as session:
        campaign = campaigns.create_campaign(
            session=session, year=2026, board_name="Ban", now=NOW, tz=ZoneInfo("Asia/Ho_Chi_Minh")
        )
        codes = synthetic_tax_codes(ENTERPRISES, prefix="29")
        session.execute(insert(Enterprise), [
            {"tax_code": c, "name": f"Công ty {i}", "name_key": search_key(f"Công ty {i}"),
             "active": True, "created_at": NOW, "updated_at": NOW} for i, c in enumerate(codes)
        ])  # fmt: skip
        ids = session.exec(select(Enterprise.id)).all()
        session.execute(insert(Registration), [
            {"campaign_id": campaign.id, "enterprise_id": e, "version": 1, "status": "submitted",
             "revision": 1, "reference": f"DK-2026-{n:05d}", "submitted_at": NOW,
             "created_at": NOW, "updated_at": NOW} for n, e in enumerate(ids)
        ])  # fmt: skip
        registrations = session.exec(select(Registration.id)).all()
        rows = []
        for registration in registrations:
            for n in range(NOMINEES):
                person = n < NOMINEES - 5
                rows.append({
                    "registration_id": registration,
                    "kind": "individual" if person else "collective",
                    "name": f"Nguyễn Văn Người {n}" if person else f"Phân xưởng {n}",
                    "position": "Công nhân" if person else None,
                    "title_code": ("cstdcs" if n % 10 == 0 else "ldtt") if person else "tt_ldtt",
                    "award_code": "giay_khen" if n % 7 == 0 else None,
                    "initiative": f"Sáng kiến {n}" if person and n % 10 == 0 else None,
                })  # fmt: skip
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Nominee), rows[start : start + 10_000])
        session.commit()


def child(folder: str) -> None:
    """Exports in this fresh process and prints time and memory."""
    from storage import campaigns, exports
    from storage.engine import make_engine, session_for

    engine = make_engine(f"sqlite:///{folder}/bench.sqlite3")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with session_for(engine) as session:
        campaign = campaigns.get_campaign(session=session)
        assert campaign is not None
        started = time.perf_counter()
        counts = exports.export_registrations(
            session=session, campaign=campaign, path=Path(folder) / "dk.xlsx"
        )
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = counts.get("ldtt", 0) + counts.get("cstdcs", 0) + counts.get("tt_ldtt", 0)
    assert rows == ENTERPRISES * NOMINEES, rows
    size = (Path(folder) / "dk.xlsx").stat().st_size
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "peak_mb": peak / 1024,
                "baseline_mb": baseline / 1024,
                "size_mb": size / 1048576,
            }
        )
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        build(Path(folder))
        out = subprocess.run(
            [sys.executable, "-m", "bench.export_lists", "--child", folder],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    print(
        f"\nRegistration list export: {ENTERPRISES:,} enterprises × {NOMINEES} nominees"
        " (target ≤ 10 s, ≤ 300 MB)"
    )
    print("| time (s) | peak RSS (MB) | RSS before (MB) | workbook (MB) |")
    print("|---|---|---|---|")
    print(
        f"| {figures['seconds']:.2f} | {figures['peak_mb']:.0f} | {figures['baseline_mb']:.0f} |"
        f" {figures['size_mb']:.1f} |"
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main()
