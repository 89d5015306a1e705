"""One enterprise's results in chat, paged: a contact's own, where it records its director's
decision, or the board's view of one enterprise (/results <MST>), where it records the
province's; one decision at a time, for the proposals still awaiting one."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date

from bot.core.context import Ctx
from bot.core.flow import MAIN_MENU, Step
from bot.core.types import Kind
from bot.flows.menu import hint_and_reprompt, show_menu
from bot.flows.roles import STAFF, refuse
from bot.i18n import _, fmt_day
from bot.texts.problems import render
from bot.texts.results import standing_lines
from storage import audit, campaigns, catalogue, registry, results
from storage.identifiers import IdentifierError, parse_tax_code
from storage.models import AwardResult, Campaign, Conferrer, Enterprise, Role
from storage.results import Decision, Key, Proposal
from storage.text import nfc, parse_day

OWN_NUMBER, OWN_DAY = "results.own_number", "results.own_day"
OWN_EXCEPT, OWN_CONFIRM = "results.own_except", "results.own_confirm"
PAGE = 25  # proposals per page of an enterprise's results
_NUMBERS = re.compile(r"\d+")


def campaign_or_menu(ctx: Ctx) -> Campaign | None:
    """The current campaign; None, the person told and back at the menu, when there is none."""
    campaign = campaigns.get_campaign(session=ctx.session)
    if campaign is None:
        ctx.goto(MAIN_MENU)
        ctx.say(_("The board has not opened a campaign yet."))
        show_menu(ctx)
    return campaign


def for_the_board(ctx: Ctx) -> bool:
    """Whether the board is entering an enterprise's results (else a contact its own)."""
    return ctx.data("enterprise") is not None


def _own(ctx: Ctx) -> tuple[Campaign, Enterprise] | None:
    """The enterprise acted on — the contact's own, or the one the board chose — and the
    current campaign; None (and the person told) when this chat may not act on it."""
    if for_the_board(ctx):
        if refuse(ctx, *STAFF):
            return None
        enterprise_id = int(str(ctx.data("enterprise")))
    elif ctx.is_role(Role.CONTACT) and ctx.contact and ctx.contact.enterprise_id is not None:
        enterprise_id = ctx.contact.enterprise_id
    else:
        ctx.goto(MAIN_MENU)
        show_menu(ctx)
        return None
    campaign = campaign_or_menu(ctx)
    enterprise = ctx.session.get(Enterprise, enterprise_id)
    if campaign is None or enterprise is None:
        return None
    return campaign, enterprise


def show_enterprise(ctx: Ctx, tax_code: str) -> None:
    """The board's view of one enterprise's results, to enter the province's decisions."""
    if refuse(ctx, *STAFF):
        return
    try:
        enterprise = registry.get_enterprise(
            session=ctx.session, tax_code=parse_tax_code(tax_code.strip()).value
        )
    except IdentifierError as error:
        ctx.say(render(error.code, {"value": error.value}))
        return
    if enterprise is None:
        ctx.say(render("result_enterprise_unknown", {"value": tax_code.strip()}))
        return
    ctx.goto(MAIN_MENU, enterprise=enterprise.id)
    show_own(ctx)


def show_own(ctx: Ctx) -> None:
    """The enterprise's results: counts, decisions, and each proposal's result."""
    own = _own(ctx)
    if own is None:
        return
    campaign, enterprise = own
    assert enterprise.id is not None
    upward = for_the_board(ctx)
    items = results.proposals(ctx.session, campaign, [enterprise.id])
    page = _page(ctx, len(items))
    ctx.goto(MAIN_MENU, enterprise=enterprise.id if upward else None, page=page)
    if not items:
        ctx.say(
            _("Your enterprise has no submitted registration in %(year)s, so it has no results.")
            % {"year": campaign.year}
        )
        show_menu(ctx)
        return
    known = results.recorded(ctx.session, campaign, [enterprise.id])
    found = results.standing(ctx.session, campaign, enterprise.id, items, known)
    lines = standing_lines(campaign.regime, campaign.year, enterprise.name, found)
    shown = list(enumerate(items, 1))[page * PAGE : (page + 1) * PAGE]
    lines += [_item_line(campaign, n, p, known.get(p.key)) for n, p in shown]
    choices = [*_pages(page, len(items)), ("res:menu", _("Back to the menu"))]
    level = Conferrer.PROVINCE if upward else Conferrer.ENTERPRISE
    waiting = any(p.conferrer == level and p.key not in known for p in items)
    if upward:
        lines.append(
            _("The province's decisions are recorded here, one decision at a time, for the"
              " proposals still awaiting one; the whole year at once, corrections and the"
              " forms decided above the province go by /results and its workbook.")
        )  # fmt: skip
        if waiting:
            choices.insert(0, ("res:own", _("Record the province's decision")))
    elif any(p.conferrer == level for p in items):
        choices.insert(0, ("res:sheet", _("Our results as a workbook")))
        if waiting:
            choices.insert(0, ("res:own", _("Record our director's decision")))
        lines.append(
            _("Titles your director confers (LĐTT, CSTĐCS, TT LĐTT, Giấy khen) are recorded"
              " by you: press the button below once the decision is signed; a correction goes"
              " by the workbook.")
        )  # fmt: skip
    ctx.say("\n".join(lines), choices)


def _item_line(campaign: Campaign, number: int, item: Proposal, row: AwardResult | None) -> str:
    who = item.name + (f" ({item.position})" if item.position else "")
    what = catalogue.short_name(campaign.regime, item.code)
    if row is None:
        state = _("awaiting a decision")
    elif row.recognised:
        state = _("recognised")
        if row.conferred_code and row.conferred_code != item.code:
            state = _("conferred %(title)s instead") % {
                "title": catalogue.short_name(campaign.regime, row.conferred_code)
            }
        if row.decision_number:
            state += " — " + _("Decision No. %(number)s") % {"number": row.decision_number}
    else:
        state = _("not recognised")
    return f"{number}. {who} — {what}: {state}"


def start_own(ctx: Ctx) -> None:
    """Begins recording a decision: its number first."""
    own = _own(ctx)
    if own is None:
        return
    if not _own_items(ctx, *own):
        ctx.say(_("Nothing at this level awaits a decision; a correction goes by the workbook."))
        show_own(ctx)
        return
    ctx.goto(OWN_NUMBER, enterprise=ctx.data("enterprise"))
    prompt_number(ctx)


def prompt_number(ctx: Ctx) -> None:
    if _own(ctx) is None:
        return
    if for_the_board(ctx):
        ctx.say(_("Type the number of the decision (e.g. 123/QĐ-UBND). Type /cancel to stop."))
    else:
        ctx.say(
            _("Type the number of the director's decision (e.g. 15/QĐ-CT). Type /cancel to stop.")
        )


def handle_number(ctx: Ctx) -> None:
    if _own(ctx) is None:
        return
    number = nfc(ctx.incoming.text) if ctx.incoming.kind == Kind.TEXT else ""
    if not number or len(number) > 60:
        ctx.say(_("The decision's number must have 1 to 60 characters, e.g. 15/QĐ-CT."))
        return
    ctx.goto(OWN_DAY, number=number, enterprise=ctx.data("enterprise"))
    prompt_day(ctx)


def prompt_day(ctx: Ctx) -> None:
    if _own(ctx) is None:
        return
    ctx.say(_("Type the date the decision was signed, as day/month/year (e.g. 20/12/2026)."))


def handle_day(ctx: Ctx) -> None:
    own = _own(ctx)
    if own is None:
        return
    campaign, _enterprise = own
    text = ctx.incoming.text if ctx.incoming.kind == Kind.TEXT else ""
    day = parse_day(text)
    today = ctx.now.astimezone(ctx.settings.tz).date()
    if day is None:
        ctx.say(_("“%(text)s” is not a date. Type it as day/month/year, e.g. 20/12/2026.")
                % {"text": text[:40]})  # fmt: skip
        return
    if day > today or day.year < campaign.year:
        ctx.say(
            _("The date must be in %(year)s or later, and not after today (%(today)s).")
            % {"year": campaign.year, "today": fmt_day(today)}
        )
        return
    ctx.goto(OWN_EXCEPT, number=ctx.data("number"), day=day.isoformat(),
             enterprise=ctx.data("enterprise"))  # fmt: skip
    prompt_except(ctx)


def _own_items(
    ctx: Ctx, campaign: Campaign, enterprise: Enterprise, known: Mapping[Key, object] | None = None
) -> list[Proposal]:
    """What this decision covers: the director's titles, or (the board) the province's; given
    the results recorded for the enterprise (``known``), they are not read again."""
    assert enterprise.id is not None
    level = Conferrer.PROVINCE if for_the_board(ctx) else Conferrer.ENTERPRISE
    if known is None:
        known = results.recorded(ctx.session, campaign, [enterprise.id])
    return [  # still awaiting a decision: an earlier decision's rows keep theirs
        p
        for p in results.proposals(ctx.session, campaign, [enterprise.id])
        if p.conferrer == level and p.key not in known
    ]


def _digest(items: list[Proposal]) -> str:
    """Which proposals a typed list of numbers was read against (the enterprise included)."""
    joined = "\n".join("|".join(map(str, p.key)) for p in items)
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def prompt_except(ctx: Ctx) -> None:
    """Lists what the decision covers; asks which were not recognised."""
    own = _own(ctx)
    if own is None:
        return
    regime = own[0].regime
    items = _own_items(ctx, *own)
    if not items:
        ctx.say(_("Nothing at this level awaits a decision; a correction goes by the workbook."))
        show_own(ctx)
        return
    lines = [
        _("The province's proposals still awaiting a decision:")
        if for_the_board(ctx)
        else _("The proposals your director decides, still awaiting a decision:")
    ]
    page = _page(ctx, len(items))
    lines += [
        f"{n}. {p.name}" + (f" ({p.position})" if p.position else "")
        + f" — {catalogue.short_name(regime, p.code)}"
        for n, p in list(enumerate(items, 1))[page * PAGE : (page + 1) * PAGE]
    ]  # fmt: skip
    lines.append(
        _("Type the numbers of those NOT recognised, separated by commas (e.g. 2, 5), or press"
          " “All recognised”.")
    )  # fmt: skip
    ctx.say("\n".join(lines), [("all", _("All recognised")), *_pages(page, len(items))])


def _page(ctx: Ctx, count: int) -> int:
    """The page being shown, within the list (a page pressed on an older, longer list)."""
    page = ctx.data("page", 0)
    last = max(0, (count - 1) // PAGE)
    return min(max(page, 0), last) if isinstance(page, int) else 0


def _pages(page: int, count: int) -> list[tuple[str, str]]:
    """The buttons to the pages before and after, with where they lead."""
    found: list[tuple[str, str]] = []
    last = max(0, (count - 1) // PAGE)
    if page < last:
        found.append((f"res:pg:{page + 1}", _("Next page (%(n)s/%(of)s)")
                      % {"n": page + 2, "of": last + 1}))  # fmt: skip
    if page > 0:
        found.append((f"res:pg:{page - 1}", _("Previous page (%(n)s/%(of)s)")
                      % {"n": page, "of": last + 1}))  # fmt: skip
    return found


def handle_except(ctx: Ctx) -> None:
    own = _own(ctx)
    if own is None:
        return
    items = _own_items(ctx, *own)
    if ctx.choice == "all":
        refused: list[int] = []
    elif ctx.incoming.kind == Kind.TEXT and _NUMBERS.search(ctx.incoming.text):
        refused = sorted({int(n) for n in _NUMBERS.findall(ctx.incoming.text)})
        wrong = [n for n in refused if not 1 <= n <= len(items)]
        if wrong:
            ctx.say(
                _("There is no row %(rows)s: the rows go from 1 to %(n)s.")
                % {"rows": ", ".join(map(str, wrong)), "n": len(items)}
            )
            return
    else:
        hint_and_reprompt(ctx)
        return
    ctx.goto(
        OWN_CONFIRM, number=ctx.data("number"), day=ctx.data("day"), refused=refused,
        count=len(items), enterprise=ctx.data("enterprise"), items=_digest(items),
    )  # fmt: skip
    prompt_own_confirm(ctx)


def prompt_own_confirm(ctx: Ctx) -> None:
    if _own(ctx) is None:
        return
    refused = ctx.data("refused", [])
    count = int(str(ctx.data("count", 0)))
    assert isinstance(refused, list)
    ctx.say(
        _("Record %(yes)s recognised and %(no)s not recognised, by decision No. %(number)s of"
          " %(day)s?")
        % {"yes": count - len(refused), "no": len(refused), "number": ctx.data("number"),
           "day": fmt_day(date.fromisoformat(str(ctx.data("day"))))},
        [("save", _("Record")), ("no", _("No, cancel"))],
    )  # fmt: skip


def handle_own_confirm(ctx: Ctx) -> None:
    """Records the director's decision for each proposal the enterprise decides."""
    if ctx.choice == "no":
        ctx.goto(MAIN_MENU)
        ctx.say(_("Nothing was recorded."))
        show_menu(ctx)
        return
    if ctx.choice != "save":
        hint_and_reprompt(ctx)
        return
    own = _own(ctx)
    if own is None:
        return
    campaign, enterprise = own
    upward = for_the_board(ctx)
    known = results.recorded(ctx.session, campaign, [enterprise.id or 0])
    items = _own_items(ctx, campaign, enterprise, known)
    if not items or _digest(items) != ctx.data("items"):  # changed meanwhile: ask again
        ctx.say(_("Your list changed in the meantime; please check the rows again."))
        ctx.goto(OWN_EXCEPT, number=ctx.data("number"), day=ctx.data("day"),
                 enterprise=ctx.data("enterprise"))  # fmt: skip
        prompt_except(ctx)
        return
    listed = ctx.data("refused", [])
    refused = {int(n) for n in listed} if isinstance(listed, list) else set()
    number, day = str(ctx.data("number")), date.fromisoformat(str(ctx.data("day")))
    for n, item in enumerate(items, 1):
        recognised = n not in refused
        decision = Decision(
            recognised, item.code if recognised else None, number, day,
            item.conferrer if upward else Conferrer.ENTERPRISE,
        )  # fmt: skip
        results.record(
            ctx.session, campaign, item, decision, actor=ctx.actor, now=ctx.now, known=known
        )
    ctx.flush()  # the page below reads them back
    audit.record(
        db=ctx.session, actor=ctx.actor, action="results.upward" if upward else "results.own",
        now=ctx.now, target=enterprise.tax_code,
        details={"decision": number, "refused": len(refused)},
    )  # fmt: skip
    if upward:
        results.notify(ctx.session, campaign, [enterprise.id or 0], ctx.now)
        ctx.say(_("Recorded. The enterprise's contacts are told."))
    else:
        ctx.say(_("Recorded. The board sees these results too."))
    show_own(ctx)


STEPS = (
    Step(OWN_NUMBER, prompt=prompt_number, handle=handle_number, back=MAIN_MENU, free_text=True),
    Step(OWN_DAY, prompt=prompt_day, handle=handle_day, back=OWN_NUMBER, free_text=True),
    Step(OWN_EXCEPT, prompt=prompt_except, handle=handle_except, back=OWN_DAY, free_text=True),
    Step(OWN_CONFIRM, prompt=prompt_own_confirm, handle=handle_own_confirm, back=OWN_EXCEPT),
)
