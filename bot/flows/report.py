"""The year-end (and mid-year) report: figures one by one, the signed document, submit."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.context import NUMBERED, Ctx
from bot.core.flow import MAIN_MENU, Flow, Step
from bot.core.routing import DOCUMENT as DOCUMENT_FILE
from bot.core.routing import reprompt, typed_number
from bot.core.types import FileRef, FileTooLarge, Kind, OutFile, Reply
from bot.flows.menu import file_by_link, hint_and_reprompt, show_menu
from bot.flows.registration_common import own_milestone
from bot.i18n import _, fmt_instant, last_moment
from bot.texts.board import reach
from bot.texts.milestones import deadline_words, milestone_name, milestone_title, standing_words
from bot.texts.problems import render
from bot.texts.report import CHOICES, EXAMPLES, label, value_text
from storage import audit, files, registrations, reports, reviews
from storage.files import FileRefused
from storage.models import (
    Campaign,
    Enterprise,
    MilestoneKind,
    Report,
    StoredFile,
    SubmissionStatus,
)
from storage.progress import Standing
from storage.report_figures import (
    FigureError,
    FigureKind,
    check_form,
    figures_for,
    read_figure,
)
from storage.versions import SubmissionError

OVERVIEW, FIGURE, DOCUMENT, EXTRA, REVIEW, WHICH = (
    "rep.home", "rep.figure", "rep.document", "rep.extra", "rep.review", "rep.which",
)  # fmt: skip
DOCUMENT_LIMIT = 20 * 1024 * 1024  # what a bot may download from Telegram


@dataclass
class Where:
    """The report a contact acts on, derived from the contact and the chosen milestone."""

    campaign: Campaign
    enterprise: Enterprise
    kind: str
    cutoff: object


def _where(ctx: Ctx, kind: str | None = None) -> Where | None:
    kind = kind or str(ctx.data("kind", MilestoneKind.REPORT.value))
    found = own_milestone(ctx, MilestoneKind(kind))
    if found is None:
        return None
    campaign, enterprise, cutoff = found
    return Where(campaign, enterprise, kind, cutoff)


def _draft(ctx: Ctx, where: Where) -> Report:
    return reports.open_draft(
        session=ctx.session, campaign=where.campaign, enterprise=where.enterprise, kind=where.kind,
        now=ctx.now, contact_id=ctx.contact.id if ctx.contact else None,
    )  # fmt: skip


def _open(where: Where, ctx: Ctx) -> bool:
    """Before the cut-off, or sent back by the board (open until sent again)."""
    latest = reports.latest_submitted(
        session=ctx.session, campaign=where.campaign, enterprise=where.enterprise, kind=where.kind
    )
    if reviews.is_returned(latest):
        return True
    return where.cutoff is not None and ctx.now < where.cutoff  # type: ignore[operator]


def open_report(ctx: Ctx, kind: str) -> None:
    """Entry from the menu: the overview, or why it is closed."""
    where = _where(ctx, kind)
    if where is None:
        ctx.say(
            _(
                "Only a linked enterprise contact can send reports, once the board has opened a "
                "campaign."
            )
        )
        show_menu(ctx)
        return
    if not _open(where, ctx):
        when = fmt_instant(last_moment(where.cutoff), ctx.settings.tz) if where.cutoff else "—"  # type: ignore[arg-type]
        ctx.say(
            _(
                "The %(name)s closed at %(when)s. To ask for an extension, please contact "
                "%(contact)s."
            )
            % {
                "name": milestone_name(kind).lower(),
                "when": when,
                "contact": reach(ctx.settings),
            }
        )
        show_menu(ctx)
        return
    ctx.goto(OVERVIEW, kind=kind)
    prompt_home(ctx)


def prompt_home(ctx: Ctx) -> None:
    """The overview: deadline, figures given, documents, what was submitted."""
    where = _where(ctx)
    if where is None:
        ctx.goto(MAIN_MENU)
        show_menu(ctx)
        return
    draft = _draft(ctx, where)
    fields = figures_for(where.kind)
    given = sum(1 for f in fields if f.key in draft.figures)
    docs = reports.documents(session=ctx.session, report=draft)
    lines = [
        _("%(title)s — %(enterprise)s")
        % {
            "title": milestone_title(where.kind, where.campaign.year),
            "enterprise": where.enterprise.name,
        },
        deadline_words(where.cutoff, ctx.now, ctx.settings.tz),  # type: ignore[arg-type]
        _("Figures given: %(given)s of %(total)s. Documents: %(docs)s.")
        % {"given": given, "total": len(fields), "docs": len(docs)},
    ]
    done = reports.latest_submitted(
        session=ctx.session, campaign=where.campaign, enterprise=where.enterprise, kind=where.kind
    )
    if done is not None:
        lines.append(
            _("Status: %(status)s") % {"status": standing_words(Standing.of(done), ctx.settings.tz)}
        )
    ctx.say(
        "\n".join(lines),
        [
            ("figures", _("Enter the figures")),
            ("document", _("Send the signed report")),
            ("extra", _("Send supporting documents")),
            ("review", _("Review and submit")),
            ("menu", _("Main menu")),
        ],
    )


def handle_home(ctx: Ctx) -> None:
    """Reads a choice of the overview."""
    kind = str(ctx.data("kind"))
    if ctx.choice == "figures":
        ctx.goto(FIGURE, kind=kind, index=_first_missing(ctx))
    elif ctx.choice in ("document", "extra", "review"):
        ctx.goto({"document": DOCUMENT, "extra": EXTRA, "review": REVIEW}[ctx.choice], kind=kind)
    elif ctx.choice == "menu":
        ctx.goto(MAIN_MENU)
        show_menu(ctx)
        return
    else:
        hint_and_reprompt(ctx)
        return
    reprompt(ctx)


def _first_missing(ctx: Ctx) -> int:
    """Where "Enter the figures" resumes: the first figure not given yet (else the first)."""
    where = _where(ctx)
    if where is None:
        return 0
    given = _draft(ctx, where).figures
    fields = figures_for(where.kind)
    return next((n for n, f in enumerate(fields) if f.key not in given), 0)


def _back_from_figure(ctx: Ctx) -> str:
    """/back in a figure: the previous figure, or where the figure was opened from."""
    if ctx.data("from_review"):
        return REVIEW
    if _index(ctx) > 0:
        ctx.set_data(index=_index(ctx) - 1)
        return FIGURE
    return OVERVIEW


def _index(ctx: Ctx) -> int:
    raw = ctx.data("index", 0)
    return raw if isinstance(raw, int) else 0


def prompt_figure(ctx: Ctx) -> None:
    """Asks one figure: "Bước 3/16", its label, an example, the current value to keep."""
    where = _where(ctx)
    if where is None:
        return
    fields = figures_for(where.kind)
    figure = fields[_index(ctx)]
    current = _draft(ctx, where).figures.get(figure.key)
    lines = [
        _("Step %(n)s/%(total)s: %(label)s")
        % {"n": _index(ctx) + 1, "total": len(fields), "label": label(figure)},
        _(EXAMPLES[figure.kind]),
    ]
    choices: list[tuple[str, str]] = []
    if figure.kind == FigureKind.CHOICE:
        choices = [(f"c:{key}", _(CHOICES[key])) for key in figure.choices]
    if current is not None and current != "":
        choices.append(("keep", _("Keep: %(value)s") % {"value": value_text(figure, current)[:40]}))
    if not figure.required:
        choices.append(("skip", _("Skip")))
    ctx.say("\n".join(lines), choices, numbered=figure.kind == FigureKind.CHOICE)


def handle_figure(ctx: Ctx) -> None:
    """Checks and saves one figure at once, echoes it formatted, and asks the next."""
    where = _where(ctx)
    if where is None:
        return
    fields = figures_for(where.kind)
    figure = fields[_index(ctx)]
    draft = _draft(ctx, where)
    listed = ctx.data(NUMBERED, [])
    number = typed_number(ctx.incoming.text) if ctx.incoming.kind == Kind.TEXT else None
    if figure.kind == FigureKind.CHOICE and not ctx.choice and number and isinstance(listed, list):
        ctx.choice = str(listed[number - 1]) if number <= len(listed) else ""
    if ctx.choice not in ("keep", "skip"):  # pressed, or its words or number typed
        if figure.kind == FigureKind.CHOICE:
            typed = ctx.choice[2:] if ctx.choice.startswith("c:") else ""
        elif ctx.incoming.kind == Kind.TEXT and not ctx.choice:
            typed = ctx.incoming.text
        else:
            hint_and_reprompt(ctx)
            return
        try:
            value = read_figure(figure, typed, draft.figures)
        except FigureError as error:
            ctx.say(render(error.code, error.params))
            prompt_figure(ctx)
            return
        reports.set_figure(
            session=ctx.session,
            report=draft,
            key=figure.key,
            value=value,
            now=ctx.now,
            contact_id=ctx.contact.id if ctx.contact else None,
        )
        ctx.say(
            _("Saved: %(label)s = %(value)s")
            % {"label": label(figure), "value": value_text(figure, value)}
        )
    elif ctx.choice == "skip":  # a pressed "skip" button
        reports.set_figure(
            session=ctx.session,
            report=draft,
            key=figure.key,
            value="",
            now=ctx.now,
            contact_id=ctx.contact.id if ctx.contact else None,
        )
    if ctx.data("from_review"):  # changed by its number from the review: back there
        ctx.goto(REVIEW, kind=where.kind)
    elif _index(ctx) + 1 < len(fields):
        ctx.goto(FIGURE, kind=where.kind, index=_index(ctx) + 1)
    elif not any(d.signed for d in reports.documents(session=ctx.session, report=draft)):
        ctx.goto(DOCUMENT, kind=where.kind)
    else:
        ctx.goto(REVIEW, kind=where.kind)
    reprompt(ctx)


def prompt_document(ctx: Ctx) -> None:
    """Asks for the signed report."""
    ctx.say(
        _(
            "Please send the signed report as a file: PDF, DOC or DOCX, at most 20 MB. Type /back "
            "to return."
        )
        + file_by_link(ctx)
    )


def _receive(ctx: Ctx, *, signed: bool) -> bool:
    """Fetches, checks, stores and attaches a sent document; says what went wrong and returns
    False."""
    where = _where(ctx)
    kept = _store_sent(ctx) if where is not None else None
    if where is None or kept is None:
        return False
    stored, file = kept
    _attach(ctx, where, stored, file.name, file.file_id, signed=signed)
    return True


def _store_sent(ctx: Ctx) -> tuple[StoredFile, FileRef] | None:
    """The sent document, checked for what it is and kept by content; None, said why."""
    file = ctx.incoming.file
    if ctx.incoming.kind == Kind.OTHER:
        ctx.say(
            _(
                "The report has to be sent as a file (Attach › File), not as a photo. Please send "
                "the PDF, DOC or DOCX file."
            )
        )
        return None
    if ctx.incoming.kind != Kind.FILE or file is None:
        hint_and_reprompt(ctx)
        return None
    if file.size == 0:
        ctx.say(render("document_empty"))
        return None
    try:
        path = ctx.fetch(file, max_bytes=DOCUMENT_LIMIT)
    except FileTooLarge as too_large:
        ctx.say(
            render(
                "document_too_large",
                {"size": too_large.size or DOCUMENT_LIMIT + 1, "limit": DOCUMENT_LIMIT},
            )
            + "\n"
            + _("The board: %(reach)s") % {"reach": reach(ctx.settings)}
        )
        return None
    try:
        stored = files.store_document(
            session=ctx.session, source=path, root=ctx.settings.data_dir / "files", now=ctx.now
        )
    except FileRefused as refused:
        ctx.say(render(refused.code, refused.params))
        return None
    return stored, file


def _attach(
    ctx: Ctx, where: Where, stored: StoredFile, name: str | None, file_id: str | None,
    *, signed: bool,
) -> None:  # fmt: skip
    """Attaches a stored document to the draft and says what was received."""
    reports.attach(
        session=ctx.session,
        report=_draft(ctx, where),
        stored=stored,
        signed=signed,
        name=name or f"{stored.sha256[:12]}.{stored.content_type}",
        channel=ctx.incoming.channel,
        channel_file_id=file_id,
        now=ctx.now,
        contact_id=ctx.contact.id if ctx.contact else None,
    )
    ctx.say(
        (_("Received the signed report %(name)s (%(type)s, %(kb)s KB).") if signed
         else _("Received the supporting document %(name)s (%(type)s, %(kb)s KB)."))
        % {
            "name": name or "—",
            "type": stored.content_type.upper(),
            "kb": max(1, stored.size // 1024),
        }
    )  # fmt: skip


def take_document(ctx: Ctx, kind: str) -> bool:
    """A PDF, DOC or DOCX sent from any other step while a report is open: the signed report
    if none is attached yet, else the person is asked which it is."""
    where = _open_report_for(ctx) if kind == DOCUMENT_FILE else None
    if where is None:
        return False
    if not ctx.conv.step.startswith("rep."):
        ctx.say(
            _("You sent a document: it is taken for the %(name)s.")
            % {"name": milestone_name(where.kind).lower()}
        )
    signed = any(
        d.signed for d in reports.documents(session=ctx.session, report=_draft(ctx, where))
    )
    if not signed:
        ctx.goto(DOCUMENT, kind=where.kind)
        handle_document(ctx)
        return True
    ctx.goto(OVERVIEW, kind=where.kind)
    kept = _store_sent(ctx)
    if kept is None:
        reprompt(ctx)
        return True
    stored, file = kept
    ctx.goto(WHICH, kind=where.kind, file=stored.id, name=file.name, file_id=file.file_id)
    reprompt(ctx)
    return True


def _open_report_for(ctx: Ctx) -> Where | None:
    """The report a sent document is for: the one in progress, else the open one due first
    that is not yet submitted, else the open one due first."""
    if ctx.conv.step.startswith("rep."):
        kinds = [str(ctx.data("kind", MilestoneKind.REPORT.value))]
    else:
        kinds = [MilestoneKind.MIDYEAR.value, MilestoneKind.REPORT.value]
    found = [w for k in kinds if (w := _where(ctx, k)) is not None and _open(w, ctx)]
    pending = [
        w
        for w in found
        if reports.latest_submitted(
            session=ctx.session, campaign=w.campaign, enterprise=w.enterprise, kind=w.kind
        )
        is None
    ]
    chosen = pending or found
    return chosen[0] if chosen else None


def prompt_which(ctx: Ctx) -> None:
    """Asks whether a document sent while a signed report is attached replaces it."""
    ctx.say(
        _(
            "A signed report is already attached. Is %(name)s the signed report (it replaces the"
            " one attached) or a supporting document?"
        )
        % {"name": str(ctx.data("name") or "—")},
        [("signed", _("The signed report")), ("extra", _("A supporting document"))],
    )


def handle_which(ctx: Ctx) -> None:
    """Attaches the held document as the person says."""
    where = _where(ctx)
    stored = ctx.session.get(StoredFile, ctx.data("file") or 0)
    if where is None or stored is None or ctx.choice not in ("signed", "extra"):
        hint_and_reprompt(ctx)
        return
    name, file_id = ctx.data("name"), ctx.data("file_id")
    _attach(
        ctx, where, stored, str(name) if name else None, str(file_id) if file_id else None,
        signed=ctx.choice == "signed",
    )  # fmt: skip
    ctx.goto(EXTRA, kind=where.kind)
    reprompt(ctx)


def handle_document(ctx: Ctx) -> None:
    """Stores the signed report, then offers supporting files."""
    if _receive(ctx, signed=True):
        ctx.goto(EXTRA, kind=str(ctx.data("kind")))
        reprompt(ctx)


def prompt_extra(ctx: Ctx) -> None:
    """Offers to add supporting documents."""
    ctx.say(
        _("You may send supporting documents (PDF, DOC, DOCX), or go on to the review.")
        + file_by_link(ctx),
        [("done", _("Go to the review"))],
    )


def handle_extra(ctx: Ctx) -> None:
    """Stores a supporting file, or moves on to the review."""
    if ctx.choice == "done":
        ctx.goto(REVIEW, kind=str(ctx.data("kind")))
        reprompt(ctx)
    elif _receive(ctx, signed=False):
        prompt_extra(ctx)


def _figures_text(where: Where, report: Report) -> str:
    """Every figure, numbered so that typing its number changes it."""
    return "\n".join(
        f"{n}. {label(f)}: {value_text(f, report.figures.get(f.key))}"
        for n, f in enumerate(figures_for(where.kind), start=1)
    )


def prompt_review(ctx: Ctx) -> None:
    """The figures, the documents, what is missing; submit when complete."""
    where = _where(ctx)
    if where is None:
        return
    draft = _draft(ctx, where)
    docs = reports.documents(session=ctx.session, report=draft)
    lines = [
        _("Review: %(name)s") % {"name": milestone_name(where.kind)},
        _figures_text(where, draft),
    ]
    lines += [("✍ " if d.signed else "📎 ") + d.name for d in docs]
    gaps = reports.missing(draft, session=ctx.session)
    if gaps:
        names = [
            _("the signed report")
            if g == "signed"
            else label(next(f for f in figures_for(where.kind) if f.key == g))
            for g in gaps
        ]
        lines.append(_("Still missing: %(items)s.") % {"items": "; ".join(names)})
    findings = check_form(where.kind, draft.figures)
    numbers = {f.key: n for n, f in enumerate(figures_for(where.kind), start=1)}
    blocking = [f for f in findings if f.blocking]
    if blocking:
        lines.append(_("To fix before submitting:"))
    lines += [
        f"• {render(f.code, f.params)} "
        + _("(figure %(n)s: type %(n)s to change it)") % {"n": numbers[f.key]}
        for f in sorted(findings, key=lambda f: not f.blocking)
    ]
    lines.append(_("To change a figure, type its number."))
    ctx.set_data(revision=draft.revision, draft=draft.id)
    choices = [] if gaps or blocking else [("submit", _("Confirm and submit"))]
    ctx.say("\n".join(lines), [*choices, ("edit", _("Back to editing"))])


def handle_review(ctx: Ctx) -> None:
    """Submits what was reviewed; a draft changed or submitted meanwhile is shown again."""
    where = _where(ctx)
    if where is None:
        return
    if ctx.choice == "edit":
        ctx.goto(OVERVIEW, kind=where.kind)
        reprompt(ctx)
        return
    number = typed_number(ctx.incoming.text) if ctx.incoming.kind == Kind.TEXT else None
    if not ctx.choice and number is not None:
        if 1 <= number <= len(figures_for(where.kind)):
            ctx.goto(FIGURE, kind=where.kind, index=number - 1, from_review=True)
        else:
            ctx.say(
                _("There is no figure %(n)s: the figures are numbered 1 to %(total)s.")
                % {"n": number, "total": len(figures_for(where.kind))}
            )
        reprompt(ctx)
        return
    if ctx.choice != "submit":
        hint_and_reprompt(ctx)
        return
    if not _open(where, ctx):
        ctx.goto(MAIN_MENU)
        open_report(ctx, where.kind)
        return
    reviewed = ctx.session.get(Report, ctx.data("draft") or 0)
    if reviewed is not None and reviewed.status != SubmissionStatus.DRAFT:
        ctx.say(render("registration_already_submitted", {"version": reviewed.version}))
        prompt_review(ctx)
        return
    revision = ctx.data("revision")
    previous = reports.latest_submitted(
        session=ctx.session, campaign=where.campaign, enterprise=where.enterprise, kind=where.kind
    )
    try:
        done = reports.submit(
            session=ctx.session, draft=_draft(ctx, where), campaign=where.campaign,
            expected_revision=revision if isinstance(revision, int) else -1, now=ctx.now,
            contact_id=ctx.contact.id if ctx.contact else None,
        )  # fmt: skip
    except SubmissionError as error:
        ctx.say(render(error.code, error.params))
        prompt_review(ctx)
        return
    _receipt(ctx, where, done, previous)


def _receipt(ctx: Ctx, where: Where, done: Report, previous: Report | None) -> None:
    """The receipt for the contact; the key figures and the signed document for the board."""
    audit.record(
        db=ctx.session, actor=ctx.actor,
        action=f"{where.kind}.submit" if previous is None else f"{where.kind}.resubmit",
        now=ctx.now, target=str(done.reference),
        details={"version": done.version, "enterprise": where.enterprise.tax_code},
    )  # fmt: skip
    ctx.goto(MAIN_MENU)
    when = fmt_instant(done.submitted_at, ctx.settings.tz) if done.submitted_at else "—"
    ctx.say(
        _("Submitted. Receipt %(reference)s, version %(version)s, at %(when)s.")
        % {"reference": done.reference, "version": done.version, "when": when}
    )
    reported = reports.enterprises_reported(
        session=ctx.session, campaign=where.campaign, kind=where.kind
    )
    expected = registrations.active_enterprises(session=ctx.session)
    keys = ("workers_total", "revenue", "profit", "budget_paid", "income_avg", "accidents")
    shown = [f for f in figures_for(where.kind) if f.key in keys]
    values = {
        "name": milestone_name(where.kind).lower(),
        "reference": done.reference,
        "version": done.version,
        "enterprise": where.enterprise.name,
        "tax": where.enterprise.tax_code,
        "previous": previous.reference if previous else "—",
    }
    first = _(
        "New %(name)s %(reference)s (version %(version)s) from %(enterprise)s, tax code %(tax)s."
    )
    again = _(
        "%(enterprise)s (tax code %(tax)s) sent its %(name)s again: version %(version)s,"
        " receipt %(reference)s, in place of %(previous)s."
    )
    if reviews.is_returned(previous):
        again += " " + _("The board had returned it for correction.")
    notice = [
        (first if previous is None else again) % values,
        *[f"• {label(f)}: {value_text(f, done.figures.get(f.key))}" for f in shown],
        _("%(done)s/%(total)s enterprises have sent it.") % {"done": reported, "total": expected},
    ]
    attachment = signed_copy(ctx, done, where.enterprise.tax_code)
    ctx.result.board.append(Reply("\n".join(notice), file=attachment))
    show_menu(ctx)


def signed_copy(ctx: Ctx, report: Report, tax_code: str) -> OutFile | None:
    """A report's signed document, sent from our copy under a name of ours (not the sender's);
    None when there is none, or it was removed."""
    signed = next(
        (d for d in reports.documents(session=ctx.session, report=report) if d.signed), None
    )
    stored = ctx.session.get(StoredFile, signed.file_id) if signed else None
    if stored is None or stored.removed_at is not None:
        return None
    return OutFile(
        files.path_of(stored, ctx.settings.data_dir / "files"),
        f"{report.reference}-{tax_code}-bao-cao-da-ky.{stored.content_type}",
    )


flow = Flow(
    "report",
    steps=(
        Step(OVERVIEW, prompt=prompt_home, handle=handle_home, back=MAIN_MENU),
        Step(
            FIGURE,
            prompt=prompt_figure,
            handle=handle_figure,
            back=_back_from_figure,
            free_text=True,
        ),
        Step(
            DOCUMENT,
            prompt=prompt_document,
            handle=handle_document,
            back=OVERVIEW,
            files=(DOCUMENT_FILE,),
        ),
        Step(
            EXTRA, prompt=prompt_extra, handle=handle_extra, back=DOCUMENT, files=(DOCUMENT_FILE,)
        ),
        Step(WHICH, prompt=prompt_which, handle=handle_which, back=OVERVIEW),
        Step(REVIEW, prompt=prompt_review, handle=handle_review, back=OVERVIEW, free_text=True),
    ),
    menu={
        f"ms:{MilestoneKind.REPORT.value}": lambda ctx: open_report(ctx, MilestoneKind.REPORT),
        f"ms:{MilestoneKind.MIDYEAR.value}": lambda ctx: open_report(ctx, MilestoneKind.MIDYEAR),
    },
    file_takers=(take_document,),
)
