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

    figure = Figure(figsize=(7.5, 0.6 * max(len(zones), 2) + 1.8), dpi=100)
    axes = figure.subplots()
    sent = axes.barh(list(zones), list(done), color="#2e7d32", label=labels[0])
    owing = axes.barh(list(zones), list(owed), left=list(done), color="#c62828", label=labels[1])
    for bars, counts in ((sent, done), (owing, owed)):  # the count on each bar, none on a 0
        axes.bar_label(
            bars, labels=[str(n) if n else "" for n in counts], label_type="center",
            color="white", fontweight="bold",
        )  # fmt: skip
    axes.set_title(title)
    axes.invert_yaxis()  # the first zone on top, as the list reads
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()  # the legend below the axes covers no bar
    figure.savefig(path, format="png")
