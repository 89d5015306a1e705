"""Imports a 10,000-row registry workbook into SQLite and PostgreSQL: wall time and peak RSS.

Each backend runs in a fresh child process so its peak memory is its own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 10_000


def child(url: str, workbook: str) -> None:
    """Runs one import in this (fresh) process and prints its figures as JSON."""
    from storage import registry
    from storage.engine import make_engine, session_for
    from storage.migrate import upgrade
    from storage.registry_import import Outcome, import_enterprises
    from storage.types import utcnow

    engine = make_engine(url)
    upgrade(engine)
    with session_for(engine) as session:
        for zone in ("KCN Quế Võ", "KCN Yên Phong"):
            registry.add_zone(session=session, name=zone)
        session.commit()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with session_for(engine) as session:
        started = time.perf_counter()
        report = import_enterprises(session=session, path=Path(workbook), now=utcnow())
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert report.count(Outcome.CREATED) == ROWS, report.count(Outcome.REJECTED)
    print(json.dumps({"seconds": elapsed, "peak_mb": peak / 1024, "baseline_mb": baseline / 1024}))


def _run(url: str, workbook: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.registry_import", "--child", url, str(workbook)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    from tests.conftest import create_pg_database, drop_pg_database, pg_available
    from tests.factories import registry_rows, write_xlsx

    with tempfile.TemporaryDirectory() as folder:
        workbook = write_xlsx(Path(folder) / "registry.xlsx", registry_rows(ROWS), title_rows=3)
        size_kb = workbook.stat().st_size / 1024
        results = {"SQLite": _run(f"sqlite:///{folder}/bench.sqlite3", workbook)}
        if pg_available() is None:
            url = create_pg_database()
            try:
                results["PostgreSQL"] = _run(url, workbook)
            finally:
                drop_pg_database(url)
    print(f"\nRegistry import: {ROWS:,} rows, workbook {size_kb:,.0f} KB (target ≤ 3 s on SQLite)")
    print("| backend | time (s) | peak RSS (MB) | RSS before import (MB) |")
    print("|---|---|---|---|")
    for backend, figures in results.items():
        print(
            f"| {backend} | {figures['seconds']:.2f} | {figures['peak_mb']:.0f} |"
            f" {figures['baseline_mb']:.0f} |"
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
