"""The main menu, help, language and the commands that leave or step back in a flow."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from bot.core.context import BUTTONS, NUMBERED, Ctx
from bot.core.flow import MAIN_MENU, Flow, Step
from bot.core.routing import DOCUMENT, SHEET, file_kind, reprompt
from bot.core.types import FileTooLarge, Kind
from bot.i18n import LANGUAGES, _, fmt_date, last_moment, use_language
from bot.texts.board import reach
from bot.texts.milestones import deadline_words, milestone_name, standing_words
from bot.texts.problems import render
from bot.texts.roles import role_name
from storage import campaigns, progress
from storage.models import ReviewState, Role
from storage.progress import Standing

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}  # each in its own language


def show_menu(ctx: Ctx) -> None:
    """Shows what this person can do now, given the campaign's dates."""
    if ctx.contact is None:
        ctx.say(not_linked_text(ctx))
        return
    lines = [
        _("Main menu — %(name)s (%(role)s)")
        % {"name": ctx.contact.full_name, "role": role_name(ctx.contact.role)}
    ]
    choices: list[tuple[str, str]] = []
    if ctx.contact.enterprise_name is not None:
        lines.append(
            _("Enterprise: %(name)s, tax code %(tax)s")
            % {"name": ctx.contact.enterprise_name, "tax": ctx.contact.tax_code}
        )
    # an extension moves this enterprise's cut-off
    schedule = campaigns.schedule(conn=ctx.conn, enterprise_id=ctx.contact.enterprise_id)
    tz = ctx.settings.tz
    if schedule is None:
        lines.append(_("The board has not opened a campaign yet."))
    else:
        lines.append(_("Emulation campaign %(year)s:") % {"year": schedule.year})
        enterprise_id = ctx.contact.enterprise_id
        done = (
            progress.standings(ctx.conn, year=schedule.year, enterprise_id=enterprise_id)
            if ctx.contact.role == Role.CONTACT and enterprise_id is not None
            else {}
        )
        for kind, due in sorted(schedule.dues.items(), key=lambda item: item[1]):
            name = milestone_name(kind)
            standing = done.get(kind)
            shown = standing_words(standing, tz) if standing else deadline_words(due, ctx.now, tz)
            lines.append(f"• {name}: {shown}")
            if ctx.contact.role == Role.CONTACT:
                choices.append((f"ms:{kind}", _milestone_label(name, due, standing, ctx)))
        if ctx.contact.role == Role.CONTACT and "registration" in done:
            choices.append(("results", _("Commendation results")))
    if ctx.is_role(Role.BOARD, Role.ADMIN):
        choices.append(("progress", _("Progress")))
        choices.append(("owing", _("Who still owes")))
        choices.append(("lists", _("Aggregated lists")))
        choices.append(("results", _("Results of the year")))
        choices.append(("export", _("Export the enterprise list")))
    if ctx.is_role(Role.ADMIN):
        choices.append(("import", _("Import an enterprise list")))
    choices.append(("help", _("Help")))
    ctx.say("\n".join(lines), choices)


def _milestone_label(name: str, due: datetime, standing: Standing | None, ctx: Ctx) -> str:
    """A milestone's button: due, submitted, to send again, or closed."""
    values = {"name": name, "date": fmt_date(last_moment(due), ctx.settings.tz)}
    if standing is not None and standing.review_state == ReviewState.RETURNED:
        return _("%(name)s — returned, to submit again") % values
    if standing is not None:
        return _("%(name)s — submitted") % values
    if ctx.now < due:
        return _("%(name)s — due %(date)s") % values
    return _("%(name)s — closed on %(date)s") % values


def not_linked_text(ctx: Ctx) -> str:
    """Tells a stranger how to get started."""
    return _(
        "This chat is not linked to any enterprise yet. To start, ask the board for an"
        " invitation code, then open the invitation link or send the code here."
        "\nContact: %(contact)s"
    ) % {"contact": reach(ctx.settings)}


def handle_home(ctx: Ctx) -> None:
    """Reads a menu choice; anything else gets a hint and the menu again."""
    action = ctx.router.menu.get(ctx.choice)
    if action is not None:
        action(ctx)
    elif ctx.choice.startswith("ms:"):
        ctx.say(
            _(
                "This part is being finished and opens in the next update. You will be told"
                " here when it opens; the deadline stays as shown."
            )
        )
        show_menu(ctx)
    elif ctx.contact is None and ctx.incoming.kind == Kind.TEXT:  # no options to point to
        ctx.say(_("I did not understand that."))
        show_menu(ctx)
    else:
        hint_and_reprompt(ctx)


def hint_and_reprompt(ctx: Ctx) -> None:
    """Explains what was not understood, then asks the current question again."""
    kind = ctx.incoming.kind
    if kind == Kind.OTHER and ctx.incoming.channel in ctx.settings.files_by_link:
        ctx.say(
            _(
                "I can only read text messages here: pictures, stickers, voice and files do not"
                " reach me. Type your answer; where a file is needed I give a link to send it."
            )
        )
    elif kind == Kind.OTHER:
        ctx.say(_("I can only read text messages, files and buttons here."))
    elif kind == Kind.FILE:
        ctx.say(_file_not_used(ctx))
    else:
        ctx.say(
            _(
                "I did not understand that. Please press one of the options, or type its number"
                " or its words."
            )
        )
    reprompt(ctx)


def _file_not_used(ctx: Ctx) -> str:
    """Why a sent file was not read, and which files the bot takes when."""
    kind = file_kind(ctx.incoming.file)
    if ctx.is_role(Role.ADMIN) and kind == SHEET:
        return _("To import enterprises from this file, type /import, then send it again.")
    if not ctx.is_role(Role.CONTACT):
        return _("No file is needed here, so it was not read.")
    lead = {
        SHEET: _("This spreadsheet was not read: registration is not open for you now."),
        DOCUMENT: _("This document was not read: no report is open for you now."),
    }.get(
        kind,
        _(
            "This file was not read: it is neither an Excel file (.xlsx) nor a PDF, DOC or DOCX"
            " document."
        ),
    )
    return (
        lead
        + " "
        + _(
            "The bot takes the filled registration form (Excel) while registration is open, and"
            " the signed report (PDF, DOC or DOCX) while a report is open."
        )
    )


def file_by_link(ctx: Ctx) -> str:
    """On a channel that cannot carry files (Zalo): where to send the file this step wants —
    a one-time link, or, without a public address, another way; "" where files come in."""
    if ctx.incoming.channel not in ctx.settings.files_by_link:
        return ""
    link = ctx.upload_link()
    if link is None:
        return "\n" + _(
            "This chat cannot carry files. Please send the file on Telegram, or to %(reach)s."
        ) % {"reach": reach(ctx.settings)}
    return "\n" + _(
        "This chat cannot carry files: open this link to send it (once, within 30 minutes):"
        " %(link)s"
    ) % {"link": link}


def menu_command(ctx: Ctx) -> None:
    """Leaves any step (data already saved stays) and shows the menu."""
    if ctx.conv.step:
        ctx.goto(MAIN_MENU)
    show_menu(ctx)


def help_command(ctx: Ctx) -> None:
    """Shows the help (the same as the menu's Help button)."""
    show_help(ctx)


def _year_in_words(ctx: Ctx) -> list[str]:
    """The enterprise's year in plain words, with this campaign's dates."""
    enterprise_id = ctx.contact.enterprise_id if ctx.contact else None
    schedule = campaigns.schedule(conn=ctx.conn, enterprise_id=enterprise_id)
    dues = schedule.dues if schedule else {}

    def by(kind: str) -> str:
        due = dues.get(kind)
        return fmt_date(last_moment(due), ctx.settings.tz) if due else "—"

    steps = [
        _(
            "Register emulation titles by %(date)s: who (people and collectives) is put forward"
            " for which title. Add them one by one here, or download the Excel form, fill it in"
            " and send the file back here."
        )
        % {"date": by("registration")}
    ]
    if "midyear" in dues:
        steps.append(
            _("The mid-year review by %(date)s: a few figures of the first six months.")
            % {"date": by("midyear")}
        )
    steps += [
        _(
            "The year-end report by %(date)s: the year's figures, then the signed report as a"
            " PDF, DOC or DOCX file."
        )
        % {"date": by("report")},
        _(
            "The board reviews what you sent. If it returns something, correct it and submit"
            " it again; its decision is sent here."
        ),
        _(
            "At the year's end: record your director's decision on the titles the enterprise"
            " confers (menu “Commendation results”); the province's results are sent here."
        ),
    ]
    return [
        _("How the year goes:"),
        *(f"{n}. {step}" for n, step in enumerate(steps, start=1)),
        _(
            "The bot reminds you before each deadline. Everything you type is saved at once: you"
            " can stop and carry on later."
        ),
    ]


def show_help(ctx: Ctx) -> None:
    """What this person does in the year, in plain words, then the commands, by role."""
    lines = [*_year_in_words(ctx), ""] if ctx.is_role(Role.CONTACT) else []
    lines += [
        _("Commands:"),
        _("/menu — main menu"),
        _("/cancel — stop the current step (what you saved is kept)"),
        _("/back — go back one step"),
        _("/lang — Tiếng Việt / English"),
        _("/help — this help"),
    ]
    if ctx.is_role(Role.BOARD, Role.ADMIN):
        lines.append(_("/progress — how many have sent each milestone, per zone"))
        lines.append(_("/owing — who still owes, and reminding them"))
        lines.append(_("/review — mark a submission received, has issues, approved or returned"))
        lines.append(_("/lists — the aggregated lists as files"))
        lines.append(
            _("/results [tax code] — the year's results: the workbook to fill and send back, or"
              " one enterprise's in chat")
        )  # fmt: skip
        lines.append(_("/lookup <name> — a person's or collective's awards of past years"))
        lines.append(_("/campaign — the deadlines (admins: extend one enterprise)"))
        lines.append(_("/export — the enterprise list as an Excel file"))
    if ctx.is_role(Role.ADMIN):
        lines.append(_("/import — import an enterprise list from an Excel file"))
        lines.append(_("/broadcast — a message to all contacts, or to those still owing"))
        lines.append(_("/invite <tax code>, /invite board, /invite admin — an invitation code"))
    if ctx.contact is None:
        lines.append(not_linked_text(ctx))
    else:
        lines.append(_("Help: %(reach)s") % {"reach": reach(ctx.settings)})
    ctx.say("\n".join(lines))
    if ctx.contact is not None and not ctx.conv.step:  # then the menu, to pick from at once
        show_menu(ctx)


def cancel(ctx: Ctx) -> None:
    """Leaves the current step; nothing saved is undone."""
    if ctx.conv.step:
        ctx.goto(MAIN_MENU)
        ctx.say(_("Stopped. Everything you had saved is kept."))
    else:
        ctx.say(_("There is nothing to stop."))
    show_menu(ctx)


def back(ctx: Ctx) -> None:
    """Returns to the previous step where the flow has one."""
    step = ctx.router.steps.get(ctx.conv.step)
    if step is None or step.back is None:
        ctx.say(_("There is no earlier step here."))
        reprompt(ctx)
        return
    target = step.back(ctx) if callable(step.back) else step.back
    kept = {k: v for k, v in ctx.conv.data.items() if k not in (BUTTONS, NUMBERED)}
    ctx.goto(target, **kept)  # what was typed so far in this flow is kept
    reprompt(ctx)


def language(ctx: Ctx) -> None:
    """Switches the chat's language (/lang en, /lang vi), or offers both."""
    wanted = ctx.incoming.args.strip().lower()[:2]
    if wanted not in LANGUAGES:
        _offer_languages(ctx)
        return
    switch_language(ctx, wanted)


def _offer_languages(ctx: Ctx) -> None:
    ctx.say(_("Choose a language:"), [(f"lang:{code}", LANGUAGE_NAMES[code]) for code in LANGUAGES])


def language_choice(ctx: Ctx) -> None:
    """Reads a language button, whatever step the chat is in; a forged code offers the two."""
    code = ctx.choice.partition(":")[2]
    if code not in LANGUAGES:
        _offer_languages(ctx)
        return
    switch_language(ctx, code)


def switch_language(ctx: Ctx, code: str) -> None:
    """Stores the chat's language and answers in it from now on."""
    ctx.conv.language = code
    if ctx.contact is not None:  # the chat's command menu follows the chosen language
        ctx.result.menu_role = ctx.contact.role
    with use_language(code):
        ctx.say(_("Language: English.") if code == "en" else _("Language: Vietnamese."))
        reprompt(ctx)


def open_from_anywhere(ctx: Ctx) -> None:
    """A reminder's button ("g:open:registration"): opens that milestone's flow, from any step."""
    action = ctx.router.menu.get("ms:" + ctx.choice.partition(":")[2])
    if action is None or ctx.contact is None:
        show_menu(ctx)
        return
    ctx.goto(MAIN_MENU)
    action(ctx)


def receive_spreadsheet(ctx: Ctx) -> Path | None:
    """Downloads the sent file within the import limit; otherwise explains and returns None."""
    file = ctx.incoming.file
    if ctx.incoming.kind != Kind.FILE or file is None:
        hint_and_reprompt(ctx)
        return None
    limit = ctx.settings.import_max_mb * 1024 * 1024
    try:
        return ctx.fetch(file, max_bytes=limit)
    except FileTooLarge as too_large:
        ctx.say(render("file_too_large", {"size": too_large.size or limit + 1, "limit": limit}))
        return None


def keep_upload(ctx: Ctx, path: Path, name: str) -> Path:
    """Moves a received file to uploads/``name`` (the step's name for it, never the sender's)
    until the step's answer; the same content kept already is kept once."""
    folder = ctx.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.exists():
        path.unlink()
    else:
        shutil.move(path, target)
    return target


def held_upload(ctx: Ctx) -> Path | None:
    """The file the step kept (named in its data), if still there; nothing outside uploads/."""
    kept = ctx.settings.data_dir / "uploads" / str(ctx.data("file", ""))
    return kept if kept.is_file() and kept.parent.name == "uploads" else None


def confirm_upload(ctx: Ctx, declined: str) -> bool:
    """Reads the answer to "record this kept file?": on "no" the file goes, ``declined`` is
    said and the menu shown; anything but "apply" is asked again; True only to go on."""
    if ctx.choice == "no":
        kept = held_upload(ctx)
        if kept is not None:
            kept.unlink()
        ctx.goto(MAIN_MENU)
        ctx.say(declined)
        show_menu(ctx)
        return False
    if ctx.choice != "apply":
        hint_and_reprompt(ctx)
        return False
    return True


flow = Flow(
    "menu",
    steps=(Step(MAIN_MENU, prompt=show_menu, handle=handle_home),),
    commands={
        "menu": menu_command,
        "help": help_command,
        "cancel": cancel,
        "back": back,
        "lang": language,
    },
    menu={"help": show_help},
    choices={"lang": language_choice, "open": open_from_anywhere},
)
