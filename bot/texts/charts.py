"""The board's PNG chart: sent vs still owing, per zone (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def zone_chart(
    path: Path,
    *,
    title: str,
    zones: Sequence[str],
    done: Sequence[int],
    owed: Sequence[int],
    labels: tuple[str, str],
) -> None:
    """Writes a stacked horizontal bar per zone.

    A ``Figure`` of its own rather than pyplot's global state: the core's threads may draw two
    charts at once.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(7, 0.6 * max(len(zones), 2) + 1.2), dpi=100)
    axes = figure.subplots()
    axes.barh(list(zones), list(done), color="#2e7d32", label=labels[0])
    axes.barh(list(zones), list(owed), left=list(done), color="#c62828", label=labels[1])
    axes.set_title(title)
    axes.invert_yaxis()
    axes.legend(loc="lower right")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    figure.savefig(path, format="png")
