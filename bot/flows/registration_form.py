"""The registration's Excel path: the form sent with the draft's rows, a filled one read back."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.flow import Step
from bot.core.routing import SHEET, reprompt
from bot.core.types import OutFile
from bot.flows.menu import (
    file_by_link,
    held_upload,
    hint_and_reprompt,
    keep_upload,
    receive_spreadsheet,
)
from bot.flows.registration_common import OVERVIEW, REVIEW, draft, scope
from bot.i18n import _, fmt_number
from bot.texts.problems import render
from storage import files, registrations
from storage.models import NomineeKind
from storage.registration_sheet import read_form, write_template
from storage.tabular import TableFileError

UPLOAD = "reg.upload"
UPLOADED = "reg.uploaded"
CHAT_ERRORS = 15


def send_template(ctx: Ctx) -> None:
    """Sends the form to fill, already holding the draft's rows so it can be edited and returned."""
    where = scope(ctx)
    if where is None:
        return
    folder = ctx.settings.data_dir / "forms"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"registration-{where.enterprise.id}-{ctx.conv.version}.xlsx"
    rows = registrations.nominees(session=ctx.session, registration=draft(ctx, where))
    write_template(
        path,
        regime=where.campaign.regime,
        year=where.campaign.year,
        enterprise=where.enterprise.name,
        rows=rows,
    )
    ctx.say(
        _(
            "Here is the registration form with your current rows. Fill in the sheets “Cá nhân”"
            " and “Tập thể” (the titles are in drop-down lists), then send the file back here."
        ),
        file=OutFile(
            path, f"dang-ky-thi-dua-{where.campaign.year}-{where.enterprise.tax_code}.xlsx"
        ),
    )
    reprompt(ctx)


def start_upload(ctx: Ctx) -> None:
    """Asks for the filled form."""
    ctx.goto(UPLOAD)
    prompt_upload(ctx)


def prompt_upload(ctx: Ctx) -> None:
    """Says what file to send and what it will do."""
    ctx.say(
        _(
            "Please send the filled registration form (.xlsx, at most %(mb)s MB). You will see"
            " what it holds before it replaces the rows of your draft. Type /back to return."
        )
        % {"mb": ctx.settings.import_max_mb}
        + file_by_link(ctx)
    )


def handle_upload(ctx: Ctx) -> None:
    """Reads the form; shows valid rows and refused rows; asks before replacing the draft."""
    where = scope(ctx)
    if where is None:
        hint_and_reprompt(ctx)
        return
    path = receive_spreadsheet(ctx)
    if path is None:
        return
    limit = ctx.settings.import_max_mb * 1024 * 1024
    stored = keep_upload(ctx, path, f"{files.digest(path)}.xlsx")  # content-addressed
    try:
        reading = read_form(stored, regime=where.campaign.regime, max_bytes=limit)
    except TableFileError as error:
        stored.unlink(missing_ok=True)  # a refused file is not kept
        ctx.say(render(error.code, error.params) + "\n" + _("Please send a corrected file."))
        return
    lines = [
        _(
            "The file holds %(collectives)s collectives and %(individuals)s individuals that can "
            "be registered."
        )
        % {
            "collectives": reading.count(NomineeKind.COLLECTIVE),
            "individuals": reading.count(NomineeKind.INDIVIDUAL),
        }
    ]
    if reading.errors:
        lines.append(_("%(n)s rows were refused:") % {"n": len(reading.errors)})
        lines += [
            _("Sheet “%(sheet)s”, row %(row)s: %(reason)s")
            % {"sheet": e.sheet, "row": e.row, "reason": render(e.code, e.params)}
            for e in reading.errors[:CHAT_ERRORS]
        ]
        if len(reading.errors) > CHAT_ERRORS:
            lines.append(
                _("… and %(n)s more rejected rows.")
                % {"n": fmt_number(len(reading.errors) - CHAT_ERRORS)}
            )
    if not reading.rows:
        stored.unlink(missing_ok=True)
        lines.append(_("Nothing was changed. Please correct the file and send it again."))
        ctx.say("\n".join(lines))
        return
    ctx.goto(UPLOADED, file=stored.name)
    held = len(registrations.nominees(session=ctx.session, registration=draft(ctx, where)))
    lines.append(
        _("Replace the %(held)s rows your draft holds now with these %(n)s rows?")
        % {"held": fmt_number(held), "n": fmt_number(len(reading.rows))}
        if held
        else _("Use these %(n)s rows for your draft?") % {"n": fmt_number(len(reading.rows))}
    )
    ctx.say(
        "\n".join(lines),
        [("apply", _("Yes, use this list")), ("again", _("No, I will send another file"))],
    )


def prompt_uploaded(ctx: Ctx) -> None:
    """Asks again whether to use the uploaded list."""
    ctx.say(
        _("Replace the rows of your draft with the list from the file you sent?"),
        [("apply", _("Yes, use this list")), ("again", _("No, I will send another file"))],
    )


def handle_uploaded(ctx: Ctx) -> None:
    """Replaces the draft's rows with the file's valid rows, on "yes"."""
    where = scope(ctx)
    if ctx.choice == "again":
        ctx.goto(UPLOAD)
        prompt_upload(ctx)
        return
    if ctx.choice != "apply" or where is None:
        hint_and_reprompt(ctx)
        return
    stored = held_upload(ctx)
    if stored is None:
        ctx.say(_("The file is no longer available. Please send it again."))
        ctx.goto(UPLOAD)
        prompt_upload(ctx)
        return
    reading = read_form(stored, regime=where.campaign.regime, max_bytes=stored.stat().st_size + 1)
    registrations.replace_nominees(
        session=ctx.session,
        draft=draft(ctx, where),
        rows=reading.rows,
        now=ctx.now,
        contact_id=ctx.contact.id if ctx.contact else None,
    )
    ctx.say(
        _("The draft now holds the %(n)s rows from the file. It is saved.")
        % {"n": fmt_number(len(reading.rows))}
    )
    ctx.goto(REVIEW)
    reprompt(ctx)


def take_sheet(ctx: Ctx, kind: str) -> bool:
    """A spreadsheet sent from any other step, while registration is open: read as the form
    (the person is asked before it replaces the draft, as from the upload step)."""
    where = scope(ctx) if kind == SHEET else None
    if where is None or not where.is_open(ctx.now):
        return False
    if not ctx.conv.step.startswith("reg."):
        ctx.say(_("You sent a spreadsheet: it is read as the registration form."))
    ctx.goto(UPLOAD)
    handle_upload(ctx)
    return True


STEPS = (
    Step(UPLOAD, prompt=prompt_upload, handle=handle_upload, back=OVERVIEW, files=(SHEET,)),
    Step(UPLOADED, prompt=prompt_uploaded, handle=handle_uploaded, back=UPLOAD),
)
ACTIONS = {"template": send_template, "upload": start_upload}  # offered in several steps
