"""The board's view of the campaign: progress per milestone and who still owes, with reminders."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import offload
from bot.core.context import Ctx
from bot.core.flow import MAIN_MENU, Flow, Step
from bot.core.types import Aside, OutFile, Reply
from bot.flows.menu import hint_and_reprompt, show_menu
from bot.flows.registry_chat import export_path
from bot.flows.roles import STAFF, refuse
from bot.i18n import _
from bot.texts.milestones import deadline_words, milestone_name
from bot.texts.progress import milestone_chart, zone_lines
from storage import audit, campaigns, document_archive, dossier, exports, links, outbox, statistics
from storage.identifiers import display_phone
from storage.models import Campaign, Milestone, Role
from storage.progress import progress

OWING = "board.owing"
LISTS = "board.lists"
OWING_LISTED = 40


def _milestones(ctx: Ctx) -> list[Milestone]:
    campaign = campaigns.get_campaign(session=ctx.session)
    return campaigns.milestones(session=ctx.session, campaign=campaign) if campaign else []


def show_progress(ctx: Ctx) -> None:
    """Counts per milestone and zone, and the chart of the nearest open milestone."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    stones = _milestones(ctx)
    if not stones:
        ctx.say(_("The board has not opened a campaign yet."))
        return
    tz = ctx.settings.tz
    lines: list[str] = []
    for stone in stones:
        state = progress(ctx.session, stone)
        share = round(100 * state.sent / state.total) if state.total else 0
        lines.append(
            _("%(name)s: %(done)s/%(total)s sent (%(share)s%%); %(deadline)s")
            % {"name": milestone_name(stone.kind), "done": state.sent, "total": state.total,
               "share": share, "deadline": deadline_words(stone.due_at, ctx.now, tz)}
        )  # fmt: skip
        lines += zone_lines(state)
    ctx.say("\n".join(lines))
    nearest = next((s for s in stones if ctx.now < s.due_at), stones[-1])
    settings, now, name = ctx.settings, ctx.now, milestone_name(nearest.kind)

    def draw(session: Session) -> Reply:
        """The chart, drawn after the figures were answered (matplotlib takes a moment)."""
        chart = milestone_chart(settings, nearest, progress(session, nearest), now)
        return Reply(_("%(name)s by zone") % {"name": name}, file=OutFile(chart, chart.name))

    ctx.aside("chart", draw, _("The chart by zone follows in a moment."))


def start_owing(ctx: Ctx) -> None:
    """Asks which milestone, then lists who still owes it."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    ctx.goto(OWING)
    prompt_owing(ctx)


def prompt_owing(ctx: Ctx) -> None:
    """Offers the campaign's milestones."""
    stones = _milestones(ctx)
    if not stones:
        ctx.goto(MAIN_MENU)
        ctx.say(_("The board has not opened a campaign yet."))
        return
    choices = [(f"m:{s.id}", milestone_name(s.kind)) for s in stones]
    ctx.say(_("Who still owes which milestone?"), choices)


def handle_owing(ctx: Ctx) -> None:
    """Lists the owing enterprises with their contacts' reachability; offers to remind them."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    if ctx.choice == "remind":
        _remind(ctx)
        return
    stone = ctx.session.get(Milestone, int(ctx.choice[2:])) if ctx.choice.startswith("m:") else None
    if stone is None:
        hint_and_reprompt(ctx)
        return
    state = progress(ctx.session, stone)
    owing_ids = [e.id for e in state.owing if e.id]
    reach: dict[int, list[str]] = {}
    reachable: set[int] = set()
    for contact, link in links.contacts_and_chats(session=ctx.session, enterprise_ids=owing_ids):
        if link is None:
            mark = _("not linked")
        elif link.reachable:
            mark = _("linked")
            reachable.add(contact.enterprise_id or 0)
        else:
            mark = _("blocked the bot")
        phone = f", {display_phone(contact.phone)}" if contact.phone else ""
        person = f"{contact.full_name} ({mark}{phone})"
        if person not in reach.setdefault(contact.enterprise_id or 0, []):
            reach[contact.enterprise_id or 0].append(person)
    lines = [
        _("%(name)s: %(n)s enterprises still owe it.")
        % {"name": milestone_name(stone.kind), "n": len(state.owing)}
    ]
    for enterprise in state.owing[:OWING_LISTED]:
        people = ", ".join(reach.get(enterprise.id or 0, [])) or _("no contact")
        lines.append(f"• {enterprise.name} ({enterprise.tax_code}) — {people}")
    if len(state.owing) > OWING_LISTED:
        lines.append(_("… and %(n)s more.") % {"n": len(state.owing) - OWING_LISTED})
    unreached = sum(1 for e in owing_ids if e not in reachable)
    if unreached:
        lines.append(_unreached_text(unreached))
    ctx.set_data(milestone=stone.id)
    choices = [("remind", _("Remind them all now"))] if state.owing else []
    ctx.say("\n".join(lines), choices)


def _remind(ctx: Ctx) -> None:
    """Queues a reminder now to every reachable contact of every enterprise still owing."""
    stone = ctx.session.get(Milestone, ctx.data("milestone") or 0)
    if stone is None:
        prompt_owing(ctx)
        return
    minute = ctx.now.strftime("%Y%m%d%H%M")  # a second tap in the same minute adds nothing
    queued = 0
    owing = [e.id for e in progress(ctx.session, stone).owing if e.id]
    chats = links.one_chat_each(links.reachable_chats(session=ctx.session, enterprise_ids=owing))
    for chat in chats:
        queued += outbox.enqueue_reminder(
            session=ctx.session, milestone_id=stone.id or 0, enterprise_id=chat.enterprise_id,
            contact_id=chat.contact_id, target=chat.target,
            key=f"manual:{stone.id}:{chat.enterprise_id}:{chat.contact_id}:{chat.target}:{minute}",
            now=ctx.now,
        )  # fmt: skip
    audit.record(
        db=ctx.session, actor=ctx.actor,
        action="reminders.manual", now=ctx.now, target=f"milestone:{stone.id}",
        details={"queued": queued},
    )  # fmt: skip
    ctx.goto(MAIN_MENU)
    reached = {chat.enterprise_id for chat in chats}
    unreached = sum(1 for e in owing if e not in reached)
    text = _("%(n)s reminders are queued and go out within a minute.") % {"n": queued}
    ctx.say(text + ("\n" + _unreached_text(unreached) if unreached else ""))
    show_menu(ctx)


def _unreached_text(count: int) -> str:
    """How many owing enterprises no chat reaches, and how to invite them."""
    return _(
        "%(n)s of them have no linked chat, so no reminder reaches them: invite them with"
        " /invite <tax code>, or all at once with `thidua invite create --all-unlinked`."
    ) % {"n": count}


def start_lists(ctx: Ctx) -> None:
    """Offers the aggregated lists the board sends upward."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    ctx.goto(LISTS)
    prompt_lists(ctx)


def prompt_lists(ctx: Ctx) -> None:
    """Which list to send."""
    ctx.say(
        _("Which list? Each holds every enterprise's newest submitted version."),
        [
            ("registrations", _("Registrations of titles (official layout)")),
            ("figures", _("Year-end report figures")),
            ("documents", _("Year-end report documents (zip)")),
            ("dossier", _("Dossier upward: draft tờ trình and its list")),
            ("statistics", _("Statistics form (Biểu 0603.N)")),
        ],
    )


def handle_lists(ctx: Ctx) -> None:
    """Builds the chosen list and sends it as a file."""
    if refuse(ctx, Role.BOARD, Role.ADMIN):
        return
    campaign = campaigns.get_campaign(session=ctx.session)
    kinds = ("registrations", "figures", "documents", "dossier", "statistics")
    if campaign is None or ctx.choice not in kinds:
        hint_and_reprompt(ctx)
        return
    if ctx.choice == "dossier":
        _dossier(ctx, campaign)
        prompt_lists(ctx)
        return
    year, kind = campaign.year, ctx.choice
    path = export_path(ctx, kind, "zip" if kind == "documents" else "xlsx")
    files_root = ctx.settings.data_dir / "files"
    today = ctx.now.astimezone(ctx.settings.tz).date()
    salaries = ctx.settings.salary_table

    def build(session: Session) -> Reply:
        """Writes the list in the worker process (a 100,000-row list takes seconds of CPU)."""
        campaign_id = campaign.id
        if kind == "registrations":
            counts = offload.run(session, write_registrations, campaign_id, path, today, salaries)
            text = _("Registrations %(year)s: %(n)s rows.") % {"year": year, "n": sum(
                n for code, n in counts.items() if not code.startswith(("bk", "giay"))
            )}  # fmt: skip
            return Reply(text, file=OutFile(path, f"dang-ky-thi-dua-{year}.xlsx"))
        if kind == "statistics":
            offload.run(session, write_statistics, campaign_id, path, today)
            text = _("Statistics %(year)s, as Biểu 0603.N asks them.") % {"year": year}
            return Reply(text, file=OutFile(path, f"thong-ke-khen-thuong-{year}.xlsx"))
        if kind == "figures":
            rows = offload.run(session, write_report_figures, campaign_id, path, today)
            text = _("Year-end report figures %(year)s: %(n)s enterprises.") % {
                "year": year, "n": rows,
            }  # fmt: skip
            return Reply(text, file=OutFile(path, f"so-lieu-bao-cao-{year}.xlsx"))
        files = offload.run(
            session, write_documents, campaign_id, files_root, path, today,
            ctx.settings.timezone,
        )  # fmt: skip
        text = _("Year-end report documents %(year)s: %(n)s files.") % {"year": year, "n": files}
        return Reply(text, file=OutFile(path, f"bao-cao-tong-ket-{year}.zip"))

    audit.record(
        db=ctx.session, actor=ctx.actor,
        action=f"export.{kind}", now=ctx.now, target=f"campaign:{year}",
    )  # fmt: skip
    ctx.aside("lists", build, _("Preparing the list; it will be sent here when it is ready."))
    prompt_lists(ctx)


def _dossier(ctx: Ctx, campaign: Campaign) -> None:
    """The tờ trình (.docx) and the list it covers (.xlsx), built aside, sent as two files."""
    year, campaign_id = campaign.year, campaign.id
    path, listed = export_path(ctx, "dossier", "docx"), export_path(ctx, "dossier-list", "xlsx")
    today = ctx.now.astimezone(ctx.settings.tz).date()
    place, template = ctx.settings.dossier_place, ctx.settings.dossier_template

    def build(session: Session) -> Reply:
        covered = offload.run(session, write_dossier, campaign_id, path, today, place, template)
        text = _(
            "Draft tờ trình %(year)s: %(n)s proposals of %(enterprises)s enterprises whose lists"
            " the board approved. Edit it in Word before signing."
        ) % {"year": year, "n": covered[0], "enterprises": covered[1]}
        if covered[2]:
            text += "\n" + _(
                "%(n)s enterprises' lists are not approved yet and are not included."
            ) % {"n": covered[2]}
        return Reply(text, file=OutFile(path, f"to-trinh-khen-thuong-{year}.docx"))

    def attach(session: Session) -> Reply:
        offload.run(session, write_dossier_list, campaign_id, listed, today)
        return Reply(
            _("The list attached to the tờ trình."),
            file=OutFile(listed, f"danh-sach-de-nghi-khen-thuong-{year}.xlsx"),
        )

    audit.record(
        db=ctx.session, actor=ctx.actor,
        action="export.dossier", now=ctx.now, target=f"campaign:{year}",
    )  # fmt: skip
    started = _("Preparing the tờ trình and its list; they will be sent here.")
    ctx.aside("dossier", build, started, Aside("dossier-list", attach))


def write_dossier(
    session: Session, campaign_id: int, path: Path, today: date, place: str,
    template: Path | None,
) -> tuple[int, int, int]:  # fmt: skip
    """The tờ trình (run by ``offload``): how many proposals, enterprises, and left out."""
    covered = dossier.write_letter(
        session=session, campaign=_campaign(session, campaign_id), path=path, made_on=today,
        place=place, template=template,
    )  # fmt: skip
    return len(covered.proposals), covered.enterprises, covered.left_out


def write_dossier_list(session: Session, campaign_id: int, path: Path, today: date) -> None:
    """The list attached to the tờ trình (run by ``offload``)."""
    campaign = _campaign(session, campaign_id)
    dossier.write_list(dossier.upward(session, campaign), campaign, path, today)


def write_statistics(session: Session, campaign_id: int, path: Path, today: date) -> None:
    """The statistics form (run by ``offload``)."""
    statistics.write_statistics(
        session=session, campaign=_campaign(session, campaign_id), path=path, made_on=today
    )


def write_registrations(
    session: Session, campaign_id: int, path: Path, today: date | None = None,
    salaries: tuple[tuple[date, int], ...] = (),
) -> dict[str, int]:  # fmt: skip
    """The registrations list (run by ``offload`` in the worker process)."""
    return exports.export_registrations(
        session=session, campaign=_campaign(session, campaign_id), path=path, made_on=today,
        salaries=salaries,
    )  # fmt: skip


def write_report_figures(
    session: Session, campaign_id: int, path: Path, today: date | None = None
) -> int:
    """The year-end figures list (run by ``offload``)."""
    return exports.export_report_figures(
        session=session, campaign=_campaign(session, campaign_id), path=path, made_on=today
    )


def write_documents(
    session: Session, campaign_id: int, root: Path, path: Path, today: date | None = None,
    timezone: str = "Asia/Ho_Chi_Minh",
) -> int:  # fmt: skip
    """The zip of the year-end documents with its index (run by ``offload``)."""
    return document_archive.zip_documents(
        session=session, campaign=_campaign(session, campaign_id), root=root, path=path,
        made_on=today, tz=ZoneInfo(timezone),
    )  # fmt: skip


def _campaign(session: Session, campaign_id: int) -> Campaign:
    found = session.get(Campaign, campaign_id)
    assert found is not None  # campaigns are never deleted
    return found


_ENTRIES = {"progress": show_progress, "owing": start_owing, "lists": start_lists}
flow = Flow(
    "board",
    steps=(
        Step(OWING, prompt=prompt_owing, handle=handle_owing, back=MAIN_MENU, roles=STAFF),
        Step(LISTS, prompt=prompt_lists, handle=handle_lists, back=MAIN_MENU, roles=STAFF),
    ),
    commands=_ENTRIES,
    menu=_ENTRIES,
)
