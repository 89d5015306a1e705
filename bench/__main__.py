"""Runs the named benchmarks (all by default) and prints their Markdown rows."""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS = [
    "registry_import",
    "registration_upload",
    "hostile_files",
    "document_store",
    "reminders_rate",
    "updates",
    "surge",
    "export_surge",
    "workers",
]


def main() -> None:
    parser = argparse.ArgumentParser(prog="./dev bench")
    parser.add_argument("names", nargs="*", help=f"any of {BENCHMARKS}")
    args = parser.parse_args()
    for name in args.names or BENCHMARKS:
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main()
