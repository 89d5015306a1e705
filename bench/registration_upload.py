"""Parses, validates and stores an uploaded 2,000-row registration form: time and peak RSS.

Runs in a fresh child process so the peak memory is the upload's own (plus the interpreter).
"""

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

ROWS = 2_000
NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def build_form(path: Path, rows: int) -> None:
    """A filled form as enterprises send it: people with positions, titles and awards."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    people = book.create_sheet("Cá nhân")
    people.append(["DANH SÁCH ĐĂNG KÝ DANH HIỆU THI ĐUA NĂM 2026"])
    people.append(
        [
            "STT",
            "Họ và tên",
            "Chức vụ, đơn vị",
            "Danh hiệu thi đua",
            "Hình thức khen thưởng đề nghị",
            "Tên sáng kiến",
        ]
    )
    for index in range(rows):
        cstdcs = index % 10 == 0
        people.append(
            [
                index + 1,
                f"Nguyễn Văn Người {index}",
                f"Công nhân, Tổ {index % 40}",
                "Chiến sĩ thi đua cơ sở" if cstdcs else "Lao động tiên tiến",
                "Giấy khen" if index % 7 == 0 else "",
                f"Sáng kiến {index}" if cstdcs else "",
            ]
        )
    groups = book.create_sheet("Tập thể")
    groups.append(["STT", "Tên tập thể", "Danh hiệu thi đua", "Hình thức khen thưởng đề nghị"])
    for index in range(20):
        groups.append([index + 1, f"Phân xưởng {index}", "Tập thể lao động tiên tiến", ""])
    book.save(path)


def child(url: str, form: str) -> None:
    """Reads the form and replaces a draft's rows with it, in this fresh process."""
    from storage import campaigns, registrations, registry
    from storage.engine import make_engine, session_for
    from storage.migrate import upgrade
    from storage.registration_sheet import read_form

    engine = make_engine(url)
    upgrade(engine)
    with session_for(engine) as session:
        campaign = campaigns.create_campaign(
            session=session, year=2026, board_name="Ban", now=NOW, tz=ZoneInfo("Asia/Ho_Chi_Minh")
        )
        enterprise = registry.add_enterprise(
            session=session, tax_code="0100109106", name="A", now=NOW
        )
        session.commit()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with session_for(engine) as session:
        started = time.perf_counter()
        reading = read_form(Path(form), regime=campaign.regime, max_bytes=20 * 1024 * 1024)
        draft = registrations.open_draft(
            session=session, campaign=campaign, enterprise=enterprise, now=NOW, contact_id=None
        )
        registrations.replace_nominees(
            session=session, draft=draft, rows=reading.rows, now=NOW, contact_id=None
        )
        session.commit()
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert len(reading.rows) == ROWS + 20 and not reading.errors
    print(json.dumps({"seconds": elapsed, "peak_mb": peak / 1024, "baseline_mb": baseline / 1024}))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        form = Path(folder) / "form.xlsx"
        build_form(form, ROWS)
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.registration_upload",
                "--child",
                f"sqlite:///{folder}/bench.sqlite3",
                str(form),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        size_kb = form.stat().st_size / 1024
    print(
        f"\nRegistration upload: {ROWS:,} people + 20 collectives, form {size_kb:,.0f} KB"
        " (target ≤ 2 s and ≤ 200 MB)"
    )
    print("| backend | time (s) | peak RSS (MB) | RSS before the upload (MB) |")
    print("|---|---|---|---|")
    print(
        f"| SQLite | {figures['seconds']:.2f} | {figures['peak_mb']:.0f} |"
        f" {figures['baseline_mb']:.0f} |"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
