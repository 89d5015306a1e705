"""A milestone's progress in words and as a chart, for the digest and the board's /progress."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from uuid import uuid4

from bot.i18n import _, fmt_date, fmt_number
from bot.settings import Settings
from bot.texts.charts import zone_chart
from bot.texts.milestones import milestone_name
from storage.models import Milestone
from storage.progress import Progress
from storage.text import vi_sort_key


def zone_lines(state: Progress) -> list[str]:
    """ "• KCN Quế Võ: 12 sent, 3 still owing", zones in order."""
    return [
        _("• %(zone)s: %(done)s sent, %(owed)s still owing")
        % {"zone": zone or _("(no zone)"), "done": done, "owed": owed}
        for zone, (done, owed) in sorted(
            state.per_zone.items(), key=lambda item: (item[0] is None, vi_sort_key(item[0] or ""))
        )
    ]


def owing_lines(state: Progress, limit: int) -> list[str]:
    """The enterprises still owing, the first ``limit`` of them."""
    if not state.owing:
        return []
    lines = [_("Still owing:")]
    lines += [f"{e.name} ({e.tax_code})" for e in state.owing[:limit]]
    if len(state.owing) > limit:
        lines.append(_("… and %(n)s more.") % {"n": fmt_number(len(state.owing) - limit)})
    return lines


def milestone_chart(
    settings: Settings, milestone: Milestone, state: Progress, now: datetime
) -> Path:
    """A PNG bar chart of sent and owing per zone, under the data directory."""
    folder = settings.data_dir / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    # unique: two board members asking in the same second must not share (or half-read) a file
    path = folder / f"milestone-{milestone.id}-{now.strftime('%Y%m%d%H%M%S')}-{uuid4().hex}.png"
    zones = sorted(state.per_zone, key=lambda zone: (zone is None, vi_sort_key(zone or "")))
    zone_chart(
        path,
        title=_("%(name)s — as of %(date)s")
        % {"name": milestone_name(milestone.kind), "date": fmt_date(now, settings.tz)},
        zones=[zone or _("(no zone)") for zone in zones],
        done=[state.per_zone[zone][0] for zone in zones],
        owed=[state.per_zone[zone][1] for zone in zones],
        labels=(_("Sent"), _("Still owing")),
    )
    return path
