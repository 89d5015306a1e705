"""The enterprise registry in chat: admins import a list, the board exports it."""

from __future__ import annotations

import time
from pathlib import Path

from sqlmodel import Session

from bot import offload
from bot.core.context import Ctx
from bot.core.flow import MAIN_MENU, Flow, Step
from bot.core.routing import SHEET
from bot.core.types import OutFile, Reply
from bot.flows.menu import (
    confirm_upload,
    file_by_link,
    held_upload,
    keep_upload,
    receive_spreadsheet,
    show_menu,
)
from bot.flows.roles import ADMINS, refuse
from bot.i18n import _, fmt_number
from bot.texts.problems import render
from bot.texts.registry import (
    export_registry,
    held_by_zone,
    row_line,
    unknown_zones,
    zones_line,
)
from storage import audit, files
from storage.models import Role
from storage.registry_import import ImportReport, Outcome, import_enterprises
from storage.tabular import TableFileError

IMPORT, CONFIRM = "registry.import", "registry.confirm"
CHAT_ROW_LINES = 20  # rejected rows listed in chat; the CLI lists all of them
EXPORT_KEEP_SECONDS = 24 * 3600


def export(ctx: Ctx) -> None:
    """Sends the enterprise list as a workbook (board and admins)."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    path = export_path(ctx, "registry", "xlsx")
    day = ctx.now.astimezone(ctx.settings.tz).strftime("%Y-%m-%d")

    def build(session: Session) -> Reply:
        """Writes the workbook in the worker process, away from other chats' answers."""
        count = offload.run(session, export_registry, path)
        return Reply(
            _("The enterprise list (%(n)s enterprises) is attached.") % {"n": fmt_number(count)},
            file=OutFile(path, f"doanh-nghiep-kcn-{day}.xlsx"),
        )

    audit.record(
        db=ctx.session,
        actor=ctx.actor,
        action="export.registry",
        now=ctx.now,
    )
    started = _("Preparing the enterprise list; it will be sent here when it is ready.")
    ctx.aside("registry", build, started)


def export_path(ctx: Ctx, kind: str, suffix: str) -> Path:
    """A fresh file under data/exports; exports older than a day (long sent) are deleted."""
    folder = ctx.settings.data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    limit = time.time() - EXPORT_KEEP_SECONDS
    for old in folder.iterdir():
        if old.is_file() and old.stat().st_mtime < limit:
            old.unlink(missing_ok=True)
    return folder / f"{kind}-{ctx.conv.id}-{time.time_ns()}.{suffix}"


def start_import(ctx: Ctx) -> None:
    """Asks an admin for the enterprise list file."""
    if refuse(ctx, Role.ADMIN):
        return
    ctx.goto(IMPORT)
    prompt_import(ctx)


def prompt_import(ctx: Ctx) -> None:
    """Says what file to send."""
    ctx.say(
        _(
            "Please send the enterprise list as an Excel (.xlsx) or CSV file of at most"
            " %(mb)s MB, with the columns “Tên doanh nghiệp” and “Mã số thuế”. Type /cancel"
            " to stop."
        )
        % {"mb": ctx.settings.import_max_mb}
        + file_by_link(ctx)
    )


def handle_import(ctx: Ctx) -> None:
    """Reads the sent file without saving, shows what it would do, and asks before applying."""
    if refuse(ctx, Role.ADMIN):
        return
    path = receive_spreadsheet(ctx)
    if path is None:
        return
    file = ctx.incoming.file
    assert file is not None
    limit = ctx.settings.import_max_mb * 1024 * 1024
    kept = keep_upload(ctx, path, f"registry-{files.digest(path)}{_suffix(file.name)}")
    try:
        preview = import_enterprises(
            session=ctx.session, path=kept, now=ctx.now, max_bytes=limit, dry_run=True,
            commit=False,
        )  # fmt: skip
    except TableFileError as error:
        kept.unlink(missing_ok=True)
        ctx.say(render(error.code, error.params) + "\n" + _("Please send a corrected file."))
        return
    ctx.goto(CONFIRM, file=kept.name, name=file.name or "")
    ctx.say(
        _("This file would do the following; nothing is saved yet.")
        + "\n"
        + _import_summary(preview, preview=True),
        [("apply", _("Yes, import it")), ("no", _("No, change nothing"))],
    )


def prompt_confirm(ctx: Ctx) -> None:
    """Asks again whether to apply the previewed file."""
    ctx.say(
        _("Import the file you sent?"),
        [("apply", _("Yes, import it")), ("no", _("No, change nothing"))],
    )


def handle_confirm(ctx: Ctx) -> None:
    """Applies the previewed file on "yes", in this update's transaction."""
    if refuse(ctx, Role.ADMIN) or not confirm_upload(ctx, _("Nothing was imported.")):
        return
    kept = held_upload(ctx)
    if kept is None:
        ctx.goto(IMPORT)
        ctx.say(_("The file is no longer available. Please send it again."))
        prompt_import(ctx)
        return
    limit = ctx.settings.import_max_mb * 1024 * 1024
    try:
        report = import_enterprises(
            session=ctx.session, path=kept, now=ctx.now, max_bytes=limit, commit=False
        )
    except TableFileError as error:
        ctx.say(render(error.code, error.params) + "\n" + _("Please send a corrected file."))
        return
    finally:
        kept.unlink(missing_ok=True)
    audit.record(
        db=ctx.session,
        actor=ctx.actor,
        action="enterprises.import",
        now=ctx.now,
        target=str(ctx.data("name", "")),
        details={o.value: report.count(o) for o in Outcome},
    )
    ctx.goto(MAIN_MENU)
    ctx.say(_import_summary(report))
    show_menu(ctx)


def _suffix(name: str | None) -> str:
    """The sent file's type, kept so the reader knows it (never its name)."""
    suffix = Path(name or "").suffix.lower()
    return suffix if suffix in (".xlsx", ".xlsm", ".csv", ".xls") else ".xlsx"


def _import_summary(report: ImportReport, *, preview: bool = False) -> str:
    """Totals, what would change (a preview), then the rejected rows with their reasons."""
    unknown = unknown_zones(report)
    rejected = [
        r
        for r in report.rows
        if r.outcome == Outcome.REJECTED and not (unknown and held_by_zone(r))
    ]  # rows held back only by a missing zone are said once, below
    finished = _(
        "Import finished: %(created)s created, %(updated)s updated, %(unchanged)s"
        " unchanged, %(rejected)s rejected."
    )
    would = _(
        "It would create %(created)s, update %(updated)s, leave %(unchanged)s unchanged and"
        " reject %(rejected)s."
    )
    lines = [
        (would if preview else finished) % {o.value: fmt_number(report.count(o)) for o in Outcome}
    ]
    if preview:  # which enterprises a yes would create or change, and how
        changing = [r for r in report.rows if r.outcome in (Outcome.CREATED, Outcome.UPDATED)]
        lines += [row_line(r) for r in changing[:CHAT_ROW_LINES]]
    lines += [row_line(r) for r in rejected[:CHAT_ROW_LINES]]
    if len(rejected) > CHAT_ROW_LINES:
        lines.append(
            _("… and %(n)s more rejected rows.") % {"n": fmt_number(len(rejected) - CHAT_ROW_LINES)}
        )
    if unknown:
        lines.append(zones_line(unknown))
    if (rejected or unknown) and not preview:
        lines.append(_("Correct the rejected rows and send the file again; saved rows stay."))
    return "\n".join(lines)


flow = Flow(
    "registry",
    steps=(
        Step(
            IMPORT,
            prompt=prompt_import,
            handle=handle_import,
            back=MAIN_MENU,
            roles=ADMINS,
            files=(SHEET,),
        ),
        Step(CONFIRM, prompt=prompt_confirm, handle=handle_confirm, back=IMPORT, roles=ADMINS),
    ),
    commands={"export": export, "import": start_import},
    menu={"export": export, "import": start_import},
)
