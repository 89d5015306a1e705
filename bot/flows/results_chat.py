"""Closing the year in chat: the board sends out and reads back the results workbook (a
contact, its own) and looks up past awards; one enterprise's page is results_decisions'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session

from bot import offload
from bot.core.context import Ctx
from bot.core.flow import MAIN_MENU, Flow, Step
from bot.core.routing import SHEET
from bot.core.types import Kind, OutFile, Reply
from bot.flows import results_decisions
from bot.flows.menu import (
    confirm_upload,
    file_by_link,
    held_upload,
    hint_and_reprompt,
    keep_upload,
    receive_spreadsheet,
    show_menu,
)
from bot.flows.registry_chat import export_path
from bot.flows.results_decisions import (
    OWN_EXCEPT,
    campaign_or_menu,
    for_the_board,
    prompt_except,
    show_enterprise,
    show_own,
    start_own,
)
from bot.flows.roles import STAFF, refuse
from bot.i18n import _, fmt_number
from bot.texts.problems import render
from bot.texts.results import past_lines, report_lines
from storage import audit, campaigns, files, results
from storage.models import Campaign, Conferrer, Role
from storage.registry_import import Outcome
from storage.results_sheet import ResultsReport, export_results, import_results
from storage.tabular import TableFileError
from storage.text import nfc

FILE, CONFIRM, LOOKUP = "results.file", "results.confirm", "results.lookup"
SHOWN_ROWS = 40  # lines of a report or a lookup in chat; the files have them all


def results_entry(ctx: Ctx) -> None:
    """/results and the menu's button: the board's workbook (or, with a tax code, one
    enterprise's results to enter in chat), or a contact's results."""
    if ctx.is_role(Role.BOARD, Role.ADMIN) and ctx.incoming.args.strip():
        show_enterprise(ctx, ctx.incoming.args)
    elif ctx.is_role(Role.BOARD, Role.ADMIN):
        send_workbook(ctx)
    elif ctx.is_role(Role.CONTACT):
        ctx.goto(MAIN_MENU)  # from the first page
        show_own(ctx)
    else:
        show_menu(ctx)  # a chat not linked is told how to start


# --- the board: the workbook out and back --------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """Whose results a workbook holds: every enterprise's (the board), or one enterprise's
    proposals its director decides (a contact)."""

    enterprise_id: int | None = None
    tax_code: str = ""

    @property
    def conferrer(self) -> Conferrer | None:
        return Conferrer.ENTERPRISE if self.enterprise_id is not None else None


def _sheet(ctx: Ctx) -> Sheet | None:
    """The chat's scope for the workbook; None (and the person told) when it has none."""
    if ctx.is_role(*STAFF):
        return Sheet()
    if ctx.is_role(Role.CONTACT) and ctx.contact and ctx.contact.enterprise_id is not None:
        return Sheet(ctx.contact.enterprise_id, ctx.contact.tax_code or "")
    ctx.goto(MAIN_MENU)
    show_menu(ctx)
    return None


def send_workbook(ctx: Ctx) -> None:
    """Sends the proposals with empty result columns (aside), then waits for it filled: every
    proposal to the board, the director's own to a contact."""
    sheet = _sheet(ctx)
    campaign = campaign_or_menu(ctx) if sheet is not None else None
    if sheet is None or campaign is None:
        return
    path = export_path(ctx, "results", "xlsx")
    today = ctx.now.astimezone(ctx.settings.tz).date()
    year, campaign_id = campaign.year, campaign.id
    name = (
        f"ket-qua-{sheet.tax_code}-{year}.xlsx"
        if sheet.tax_code
        else f"ket-qua-khen-thuong-{year}.xlsx"
    )

    def build(session: Session) -> Reply:
        """Writes the workbook in the worker process, away from other chats' answers."""
        count = offload.run(session, write_results, campaign_id, path, today, sheet.enterprise_id)
        return Reply(
            _("Results %(year)s: %(n)s proposals. Fill in the result columns and send the file"
              " back here.") % {"year": year, "n": fmt_number(count)},
            file=OutFile(path, name),
        )  # fmt: skip

    ctx.goto(FILE)
    ctx.aside("results", build, _("Preparing the results workbook; it will be sent here."))
    prompt_file(ctx)


def write_results(
    session: Session, campaign_id: int, path: Path, today: date, enterprise_id: int | None = None
) -> int:
    """The results workbook (run by ``offload`` in the worker process)."""
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    return export_results(
        session=session, campaign=campaign, path=path, made_on=today, enterprise_id=enterprise_id,
        conferrer=Conferrer.ENTERPRISE if enterprise_id is not None else None,
    )  # fmt: skip


def prompt_file(ctx: Ctx) -> None:
    """Says what to send back."""
    if _sheet(ctx) is None:
        return
    ctx.say(
        _(
            "When the results are in, send the filled workbook here (Excel, at most %(mb)s MB):"
            " “Được công nhận” Có or Không, the decision's number and date. Rows left empty"
            " wait for later. Type /cancel to stop."
        )
        % {"mb": ctx.settings.import_max_mb}
        + file_by_link(ctx)
    )


def handle_file(ctx: Ctx) -> None:
    """Reads the filled workbook without saving, shows what it would record, asks first."""
    sheet = _sheet(ctx)
    campaign = campaign_or_menu(ctx) if sheet is not None else None
    if sheet is None or campaign is None:
        return
    path = receive_spreadsheet(ctx)
    if path is None:
        return
    # the chat in the name: another's "no" spares it
    kept = keep_upload(ctx, path, f"results-{ctx.conv.id}-{files.digest(path)}.xlsx")
    try:
        preview = import_results(
            session=ctx.session, campaign=campaign, path=kept, actor=ctx.actor, now=ctx.now,
            dry_run=True, max_bytes=ctx.settings.import_max_mb * 1024 * 1024,
            enterprise_id=sheet.enterprise_id, conferrer=sheet.conferrer,
        )  # fmt: skip
    except TableFileError as error:
        kept.unlink(missing_ok=True)
        ctx.say(render(error.code, error.params) + "\n" + _("Please send a corrected file."))
        return
    ctx.goto(CONFIRM, file=kept.name)
    lines = [_("This file would do the following; nothing is saved yet."), *_short(preview)[:-1]]
    ctx.say("\n".join(lines), [("apply", _("Yes, record them")), ("no", _("No, change nothing"))])


def _short(report: ResultsReport) -> list[str]:
    """The report's lines, the rows not taken capped for a chat."""
    lines = list(report_lines(report))
    if len(lines) > SHOWN_ROWS:
        lines = [*lines[: SHOWN_ROWS - 3], "…", *lines[-2:]]
    return lines


def prompt_confirm(ctx: Ctx) -> None:
    """Asks again whether to record the previewed file."""
    if _sheet(ctx) is None:
        return
    ctx.say(
        _("Record the results of the file you sent?"),
        [("apply", _("Yes, record them")), ("no", _("No, change nothing"))],
    )


def handle_confirm(ctx: Ctx) -> None:
    """Records the previewed file; the board's tells the enterprises whose results changed."""
    sheet = _sheet(ctx)
    if sheet is None or not confirm_upload(ctx, _("Nothing was recorded.")):
        return
    campaign = campaign_or_menu(ctx)
    if campaign is None:
        return
    kept = held_upload(ctx)
    if kept is None:
        ctx.goto(FILE)
        ctx.say(_("The file is no longer available. Please send it again."))
        prompt_file(ctx)
        return
    try:
        report = import_results(
            session=ctx.session, campaign=campaign, path=kept, actor=ctx.actor, now=ctx.now,
            max_bytes=ctx.settings.import_max_mb * 1024 * 1024,
            enterprise_id=sheet.enterprise_id, conferrer=sheet.conferrer,
        )  # fmt: skip
    except TableFileError as error:
        ctx.goto(FILE)
        ctx.say(render(error.code, error.params) + "\n" + _("Please send a corrected file."))
        return
    finally:
        kept.unlink(missing_ok=True)
    ctx.flush()
    touched = report.touched if sheet.enterprise_id is None else set()  # a contact knows
    told = results.notify(ctx.session, campaign, touched, ctx.now)
    audit.record(
        db=ctx.session, actor=ctx.actor, action="results.import", now=ctx.now,
        target=f"campaign:{campaign.year}", details={o.value: report.count(o) for o in Outcome},
    )  # fmt: skip
    ctx.goto(MAIN_MENU)
    lines = _short(report)
    if sheet.enterprise_id is None:
        lines.append(
            _("%(n)s enterprises have new results; %(told)s messages to their contacts queued.")
            % {"n": len(report.touched), "told": told}
        )
    ctx.say("\n".join(lines))
    if sheet.enterprise_id is None:
        show_menu(ctx)
    else:
        show_own(ctx)


# --- the board: past awards ----------------------------------------------------------------


def lookup(ctx: Ctx) -> None:
    """/lookup <name>: awards on record for that name across years; asks for it if not given."""
    if refuse(ctx, *STAFF):
        return
    name = nfc(ctx.incoming.args)
    if not name:
        ctx.goto(LOOKUP)
        prompt_lookup(ctx)
        return
    _answer_lookup(ctx, name)


def prompt_lookup(ctx: Ctx) -> None:
    """Asks for a name."""
    ctx.say(_("Type a name, or part of it (accents may be left out). Type /cancel to stop."))


def handle_lookup(ctx: Ctx) -> None:
    """Answers the typed name."""
    if refuse(ctx, *STAFF):
        return
    name = nfc(ctx.incoming.text) if ctx.incoming.kind == Kind.TEXT else ""
    if not name:
        hint_and_reprompt(ctx)
        return
    ctx.goto(MAIN_MENU)
    _answer_lookup(ctx, name)


def _answer_lookup(ctx: Ctx, name: str) -> None:
    campaign = campaigns.get_campaign(session=ctx.session)
    regime = campaign.regime if campaign else ""
    found = results.lookup(ctx.session, name)
    lines = [_("Awards on record for “%(name)s”:") % {"name": name}, *past_lines(found, regime)]
    if len(lines) > SHOWN_ROWS:
        lines = [*lines[:SHOWN_ROWS], _("… more: type more of the name to narrow it.")]
    ctx.say("\n".join(lines))


def own_choice(ctx: Ctx) -> None:
    """The results page's button, read in any step."""
    if ctx.choice == "res:own" and (ctx.is_role(Role.CONTACT) or for_the_board(ctx)):
        start_own(ctx)
        return
    if ctx.choice == "res:sheet" and ctx.is_role(Role.CONTACT):
        send_workbook(ctx)
        return
    wanted = ctx.choice.removeprefix("res:pg:")
    if wanted.isdigit() and ctx.conv.step in (MAIN_MENU, OWN_EXCEPT):
        ctx.set_data(page=int(wanted))
        if ctx.conv.step == OWN_EXCEPT:
            prompt_except(ctx)
        else:
            show_own(ctx)
        return
    ctx.goto(MAIN_MENU)
    show_menu(ctx)


flow = Flow(
    "results",
    steps=(
        Step(
            FILE,
            prompt=prompt_file,
            handle=handle_file,
            back=MAIN_MENU,
            files=(SHEET,),
        ),
        Step(CONFIRM, prompt=prompt_confirm, handle=handle_confirm, back=FILE),
        Step(
            LOOKUP,
            prompt=prompt_lookup,
            handle=handle_lookup,
            back=MAIN_MENU,
            free_text=True,
            roles=STAFF,
        ),
        *results_decisions.STEPS,
    ),
    commands={"results": results_entry, "lookup": lookup},
    menu={"results": results_entry},
    choices={"res": own_choice},
)
