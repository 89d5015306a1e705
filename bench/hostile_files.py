"""The hostile set (tests/hostile.py): how long each file takes to be refused, and the memory
its reading takes, as the registration form (a contact's upload) and as the registry import
(an admin's, with room for 50,000 rows).

Each reading runs in a fresh child process: its peak RSS less the RSS once everything is
imported is the reading's own memory. Goal: refused within 2 s, under 100 MB extra.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(path: str, kind: str) -> None:
    """Reads one file in this fresh process; prints seconds, extra MB and the outcome."""
    from storage.models import Regime
    from storage.registration_sheet import read_form
    from storage.tabular import TableFileError, read_sheets

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    try:
        if kind == "form":
            read_form(Path(path), regime=Regime.ND98_2023.value, max_bytes=20 * 1024 * 1024)
        else:
            for _sheet, rows in read_sheets(Path(path), max_bytes=20 * 1024 * 1024):
                for _row in rows:
                    pass
        outcome = "accepted"
    except TableFileError as error:
        outcome = error.code
    took = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": took, "mb": (peak - base) / 1024, "outcome": outcome}))


def main() -> None:
    from tests.hostile import HOSTILE

    print("\nHostile files: time to refuse and the reading's own peak memory (fresh process).")
    print("| file | size (KB) | form: s, MB, refusal | registry: s, MB, refusal |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name, make in HOSTILE.items():
            path = Path(folder) / "hostile.xlsx"
            make(path)
            cells = []
            for kind in ("form", "registry"):
                run = subprocess.run(
                    [sys.executable, "-m", "bench.hostile_files", "--child", str(path), kind],
                    capture_output=True, text=True, timeout=600,
                )  # fmt: skip
                if run.returncode != 0:
                    raise RuntimeError(run.stderr[-3000:])
                got = json.loads(run.stdout)
                cells.append(f"{got['seconds']:.2f} / {got['mb']:.0f} / {got['outcome']}")
            size = path.stat().st_size / 1024
            print(f"| {name} | {size:,.0f} | {cells[0]} | {cells[1]} |")
            path.unlink()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
    else:
        main()
