"""Closing the year: what was decided for each proposal, and the awards people hold from past
years, found again by enterprise and name."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage import exports, links, outbox
from storage.models import (
    AwardResult,
    Campaign,
    Conferrer,
    Enterprise,
    Nominee,
    NomineeKind,
    Registration,
)
from storage.prizes import PAYERS, Payer
from storage.text import search_key, tone_key, vi_name_key

Key = tuple[int, str, str, str]  # enterprise id, kind, person key, proposed code


def person_key(name: str, position: str | None) -> str:
    """One person (or collective) of a year: the name and the post, case and tone placement
    folded ("Hoà" = "Hòa"); two namesakes of one enterprise differ by their post."""
    return f"{tone_key(name)}|{tone_key(position or '')}"


def default_conferrer(code: str) -> Conferrer:
    """Who decides a title or form unless the result says otherwise."""
    payer = PAYERS.get(code)
    if payer == Payer.ENTERPRISE:
        return Conferrer.ENTERPRISE
    if payer == Payer.PROVINCE:
        return Conferrer.PROVINCE
    return Conferrer.CENTRAL


@dataclass(frozen=True)
class Proposal:
    """One title or form proposed for one nominee in an enterprise's newest submitted list."""

    enterprise_id: int
    tax_code: str
    enterprise: str
    reference: str
    kind: str  # NomineeKind
    name: str
    position: str | None
    code: str
    category: str | None = None  # NomineeCategory, individuals only, if the form said
    gender: str | None = None

    @property
    def key(self) -> Key:
        """What a result is recorded under."""
        return (self.enterprise_id, self.kind, person_key(self.name, self.position), self.code)

    @property
    def conferrer(self) -> Conferrer:
        """Who decides it by default."""
        return default_conferrer(self.code)


def proposals(
    session: Session, campaign: Campaign, enterprise_ids: Iterable[int] | None = None
) -> list[Proposal]:
    """Every proposal of the campaign in the official order: enterprises by zone and name, each
    with its individuals (Vietnamese order) then its collectives (as entered); a row with a
    title and a form is two proposals."""
    latest = exports.latest_registrations(session, campaign, enterprise_ids)
    references = dict(
        session.exec(
            select(Registration.id, Registration.reference).where(
                col(Registration.id).in_(set(latest.values()))
            )
        ).all()
    )
    table = Nominee.__table__  # type: ignore[attr-defined]
    by_registration: defaultdict[int, list[tuple[Any, ...]]] = defaultdict(list)
    query = sa_select(
        table.c.registration_id, table.c.kind, table.c.name, table.c.position,
        table.c.title_code, table.c.award_code, table.c.id, table.c.category, table.c.gender,
    ).where(table.c.registration_id.in_(set(latest.values())))  # fmt: skip
    for registration_id, *values in session.execute(query):
        by_registration[registration_id].append(tuple(values))
    found: list[Proposal] = []
    for enterprise, _zone in exports.enterprises_in_order(session, set(latest)):
        assert enterprise.id is not None
        registration_id = latest[enterprise.id]
        rows = by_registration.get(registration_id, [])
        people = sorted(
            (r for r in rows if r[0] == NomineeKind.INDIVIDUAL), key=lambda r: vi_name_key(r[1])
        )
        groups = sorted((r for r in rows if r[0] == NomineeKind.COLLECTIVE), key=lambda r: r[5])
        for kind, name, position, title_code, award_code, _id, category, gender in people + groups:
            for code in (title_code, award_code):
                if code:
                    found.append(
                        Proposal(
                            enterprise.id,
                            enterprise.tax_code,
                            enterprise.name,
                            references.get(registration_id) or "",
                            kind,
                            name,
                            position,
                            code,
                            category,
                            gender,
                        )
                    )
    return found


@dataclass(frozen=True)
class Decision:
    """What was decided for one proposal."""

    recognised: bool
    conferred_code: str | None  # None when not recognised
    number: str | None
    day: date | None
    conferrer: Conferrer


class Outcome(StrEnum):
    """What recording a decision changed."""

    NEW = "new"
    CHANGED = "changed"
    SAME = "same"


def recorded(
    session: Session, campaign: Campaign, enterprise_ids: Iterable[int] | None = None
) -> dict[Key, AwardResult]:
    """The results recorded so far, by proposal."""
    query = select(AwardResult).where(AwardResult.campaign_id == campaign.id)
    if enterprise_ids is not None:
        query = query.where(col(AwardResult.enterprise_id).in_(set(enterprise_ids)))
    return {
        (r.enterprise_id, r.kind, r.person_key, r.proposed_code): r for r in session.exec(query)
    }


def record(
    session: Session,
    campaign: Campaign,
    proposal: Proposal,
    decision: Decision,
    *,
    actor: str,
    now: datetime,
    known: dict[Key, AwardResult] | None = None,
) -> Outcome:
    """Records (or corrects) one proposal's result; ``known`` is ``recorded``'s answer when
    many are recorded at once."""
    assert campaign.id is not None
    known = recorded(session, campaign, [proposal.enterprise_id]) if known is None else known
    values = {
        "recognised": decision.recognised,
        "conferred_code": decision.conferred_code if decision.recognised else None,
        "decision_number": decision.number,
        "decision_date": decision.day,
        "conferred_by": decision.conferrer.value,
    }
    row = known.get(proposal.key)
    if row is not None:
        if all(getattr(row, name) == value for name, value in values.items()):
            return Outcome.SAME
        for name, value in values.items():
            setattr(row, name, value)
        row.recorded_by, row.recorded_at = actor, now
        session.add(row)
        return Outcome.CHANGED
    row = AwardResult(
        campaign_id=campaign.id,
        enterprise_id=proposal.enterprise_id,
        kind=proposal.kind,
        name=proposal.name,
        name_key=tone_key(proposal.name),
        name_search=search_key(proposal.name),
        position=proposal.position,
        person_key=person_key(proposal.name, proposal.position),
        proposed_code=proposal.code,
        recorded_by=actor,
        recorded_at=now,
        **values,  # type: ignore[arg-type]
    )
    session.add(row)
    known[proposal.key] = row
    return Outcome.NEW


@dataclass
class Standing:
    """An enterprise's results of a campaign, for its page and its notice."""

    proposed: int = 0
    recognised: int = 0
    refused: int = 0
    by_code: Counter[str] = field(default_factory=Counter)  # conferred, recognised only
    decisions: list[tuple[str, date | None, str]] = field(default_factory=list)  # no, day, by

    @property
    def pending(self) -> int:
        """Proposals with no result yet."""
        return self.proposed - self.recognised - self.refused


def standing(
    session: Session,
    campaign: Campaign,
    enterprise_id: int,
    listed: list[Proposal] | None = None,
    known: dict[Key, AwardResult] | None = None,
) -> Standing:
    """How many of the enterprise's proposals were recognised, refused or still wait, what was
    conferred and under which decisions; ``listed`` and ``known``: its proposals and results
    when the caller has read them already."""
    found = Standing()
    if listed is None:
        listed = proposals(session, campaign, [enterprise_id])
    if known is None:
        known = recorded(session, campaign, [enterprise_id])
    keys = {p.key for p in listed}
    found.proposed = len(keys)
    seen: set[tuple[str, date | None, str]] = set()
    for key, row in sorted(known.items()):
        if key not in keys:
            continue  # a proposal no longer in the newest list
        if row.recognised:
            found.recognised += 1
            found.by_code[row.conferred_code or row.proposed_code] += 1
        else:
            found.refused += 1
        decision = (row.decision_number or "", row.decision_date, row.conferred_by)
        if row.decision_number and decision not in seen:
            seen.add(decision)
            found.decisions.append(decision)
    found.decisions.sort(key=lambda d: (d[1] or date.min, d[0]))
    return found


@dataclass(frozen=True)
class PastAward:
    """An award on record: recognised in a campaign's results."""

    year: int
    enterprise_id: int
    enterprise: str
    tax_code: str
    kind: str
    name: str
    position: str | None
    person_key: str
    code: str  # what was conferred
    decision_number: str | None
    decision_date: date | None
    conferrer: str


def _past(session: Session, *conditions: Any) -> list[PastAward]:
    query = (
        select(AwardResult, Campaign.year, Enterprise.name, Enterprise.tax_code)
        .join(Campaign, col(Campaign.id) == AwardResult.campaign_id)
        .join(Enterprise, col(Enterprise.id) == AwardResult.enterprise_id)
        .where(col(AwardResult.recognised).is_(True), *conditions)
    )
    found = [
        PastAward(
            year,
            row.enterprise_id,
            enterprise,
            tax_code,
            row.kind,
            row.name,
            row.position,
            row.person_key,
            row.conferred_code or row.proposed_code,
            row.decision_number,
            row.decision_date,
            row.conferred_by,
        )
        for row, year, enterprise, tax_code in session.exec(query)
    ]
    return sorted(found, key=lambda a: (vi_name_key(a.name), a.enterprise, -a.year, a.code))


def lookup(session: Session, text: str, limit: int = 200) -> list[PastAward]:
    """Past awards of people and collectives whose name holds the words typed (accents and
    case folded), across enterprises and years."""
    words = search_key(text)
    if not words:
        return []
    pattern = "%" + words.replace("%", "").replace("_", "") + "%"
    return _past(session, col(AwardResult.name_search).like(pattern))[:limit]


def history(session: Session, enterprise_id: int, before_year: int) -> History:
    """The enterprise's awards on record from years before ``before_year``, for the rules."""
    awards = _past(
        session, AwardResult.enterprise_id == enterprise_id, col(Campaign.year) < before_year
    )
    recorded_years = session.exec(  # this enterprise's: another's results say nothing of it
        select(Campaign.year)
        .join(AwardResult, col(AwardResult.campaign_id) == Campaign.id)
        .where(col(Campaign.year) < before_year, AwardResult.enterprise_id == enterprise_id)
        .distinct()
    ).all()
    return History(awards, set(recorded_years))


class History:
    """Past awards by name: what the rules that need earlier years ask."""

    def __init__(self, awards: list[PastAward], recorded_years: set[int]) -> None:
        self.recorded_years = recorded_years  # years with results on record: others are unknown
        self._by_name: defaultdict[tuple[str, str], list[PastAward]] = defaultdict(list)
        for award in awards:
            self._by_name[(award.kind, tone_key(award.name))].append(award)

    def of(self, kind: str, name: str, position: str | None) -> tuple[list[PastAward], bool]:
        """A nominee's past awards, and whether they are ambiguous: in some year two people of
        that name (different posts) held awards, and the nominee's post matches neither. Never
        merged silently: an ambiguous answer is shown as such."""
        found = self._by_name.get((kind, tone_key(name)), [])
        people_by_year: defaultdict[int, set[str]] = defaultdict(set)
        for award in found:
            people_by_year[award.year].add(award.person_key)
        mine = person_key(name, position)
        if any(len(people) > 1 for people in people_by_year.values()):
            exact = [a for a in found if a.person_key == mine]
            if exact:
                return exact, False
            return found, True
        return found, False

    def years_with(self, kind: str, name: str, position: str | None, code: str) -> list[int]:
        """The years the nominee was recognised with ``code`` (unambiguous records only)."""
        found, ambiguous = self.of(kind, name, position)
        if ambiguous:
            return []
        return sorted({a.year for a in found if a.code == code})


def notify(
    session: Session, campaign: Campaign, enterprise_ids: Iterable[int], now: datetime
) -> int:
    """Queues a results notice to each contact of these enterprises, on the chat they use
    (rendered when sent, in its language, from what is recorded then); returns how many."""
    queued = 0
    chats = links.reachable_chats(session=session, enterprise_ids=list(enterprise_ids))
    for chat in links.one_chat_each(chats):  # each person once, on the chat they use
        queued += outbox.insert(
            session,
            [
                outbox.row(
                    f"results:{campaign.year}:{chat.enterprise_id}:{now.isoformat()}:{chat.link_id}",
                    "results",
                    now,
                    chat.target,
                    enterprise=chat.enterprise_id,
                    contact=chat.contact_id,
                    payload={"year": campaign.year},
                )
            ],
        )
    return queued
