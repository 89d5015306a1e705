"""The environment a test gives a `thidua` child process."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout under test


def child_env(**settings: str) -> dict[str, str]:
    """This process's environment without its THIDUA_ settings (the given ones instead), and
    this checkout's code first on the path: an editable install of another checkout (a CI copy
    sharing a virtualenv) must not run in its place."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIDUA_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(settings)
    return env
