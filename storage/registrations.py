"""Registrations of emulation titles: drafts edited in place, submissions kept as versions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert
from sqlmodel import Session, col, select

from storage import catalogue
from storage.catalogue import Subject
from storage.erasure import is_erased
from storage.models import (
    Campaign,
    Enterprise,
    Extension,
    Milestone,
    MilestoneKind,
    Nominee,
    NomineeCategory,
    NomineeKind,
    Registration,
    ReviewState,
    SubmissionStatus,
)
from storage.text import nfc, search_key, vi_name_key
from storage.versions import SubmissionBusy, SubmissionError, newest, stamp_submitted

MAX_NAME = 200
UNCLEAR_AWARDS = {"bang khen", "bk", "bang khen cap tren"}  # which level? the form must say
MAX_POSITION = 300
MAX_INITIATIVE = 500
MAX_NOMINEES = 10_000


@dataclass(frozen=True)
class NomineeInput:
    """One row as typed or read from a file, before validation."""

    kind: NomineeKind
    name: str
    title: str  # a title code, or its name as written on a form
    position: str | None = None
    award: str | None = None
    initiative: str | None = None
    row_number: int | None = None
    category: str | None = None  # a NomineeCategory, or its words on the form
    gender: str | None = None  # "female"/"male", or "Nữ"/"Nam"
    members: object = None  # a collective's headcount, as typed or read
    basis: str | None = None  # căn cứ đề nghị, for the titles that need one


# How forms write an individual's category and gender (folded); the statistics form's split.
_E, _M, _W = NomineeCategory.ENTREPRENEUR, NomineeCategory.MANAGER, NomineeCategory.WORKER
CATEGORY_WORDS: dict[str, NomineeCategory] = {
    "doanh nhan": _E, "chu doanh nghiep": _E, "entrepreneur": _E,
    "quan ly": _M, "can bo quan ly": _M, "lanh dao quan ly": _M, "manager": _M,
    "cong nhan": _W, "nguoi lao dong": _W, "nguoi lao dong truc tiep": _W,
    "lao dong truc tiep": _W, "cong nhan nguoi lao dong truc tiep": _W, "worker": _W,
}  # fmt: skip
GENDER_WORDS = {"nu": "female", "female": "female", "f": "female", "nam": "male",
                "male": "male", "m": "male"}  # fmt: skip


def _category(row: NomineeInput) -> str | None:
    """The row's category code (individuals only); raises for words the form does not use."""
    text = search_key(row.category or "")
    if not text or row.kind != NomineeKind.INDIVIDUAL:
        return None
    if text in {c.value for c in NomineeCategory}:
        return text
    if text not in CATEGORY_WORDS:
        raise SubmissionError("category_unknown", value=nfc(row.category or "")[:40])
    return CATEGORY_WORDS[text].value


def _gender(row: NomineeInput) -> str | None:
    """The row's gender (individuals only); raises for words the form does not use."""
    text = search_key(row.gender or "")
    if not text or row.kind != NomineeKind.INDIVIDUAL:
        return None
    if text not in GENDER_WORDS:
        raise SubmissionError("gender_unknown", value=nfc(row.gender or "")[:20])
    return GENDER_WORDS[text]


MAX_BASIS = 300
# Proposals that rest on something the catalogue cannot see: which cluster, which basis, which
# years; the chat asks for it after the title, the form has a column.
NEEDS_BASIS = {"co_tinh", "bk_tinh", "cstd_tinh", "bk_thu_tuong", "hcld_hang_ba"}


def _basis(row: NomineeInput) -> str | None:
    """The proposal's basis as written, checked like free text."""
    text = nfc(row.basis or "")
    if len(text) > MAX_BASIS:
        raise SubmissionError("nominee_basis_too_long", limit=MAX_BASIS)
    return text or None


MAX_MEMBERS = 1_000_000


def _members(row: NomineeInput) -> int | None:
    """A collective's headcount, if given: a whole number from 1; raises otherwise."""
    if row.kind != NomineeKind.COLLECTIVE or row.members in (None, ""):
        return None
    given = row.members
    if isinstance(given, float) and given.is_integer():
        given = int(given)
    text = str(given).strip()
    if _GROUPED.match(text):  # "1.200" or "1 200": thousands grouped
        text = text.replace(".", "").replace(" ", "")
    if not (text.isascii() and text.isdecimal()) or not 1 <= int(text) <= MAX_MEMBERS:
        raise SubmissionError("members_invalid", value=str(row.members)[:20])
    return int(text)


_GROUPED = re.compile(r"^\d{1,3}([. ]\d{3})+$")


def cutoff_for(
    *, session: Session, campaign: Campaign, enterprise: Enterprise, kind: MilestoneKind
) -> datetime | None:
    """The enterprise's cut-off for a milestone: the campaign's, or its extension if later."""
    due = session.exec(
        select(Milestone.due_at).where(Milestone.campaign_id == campaign.id, Milestone.kind == kind)
    ).first()
    extended = session.exec(
        select(Extension.until).where(
            Extension.campaign_id == campaign.id,
            Extension.enterprise_id == enterprise.id,
            Extension.kind == kind,
        )
    ).first()
    dates = [d for d in (due, extended) if d is not None]
    return max(dates) if dates else None


def extend(
    *,
    session: Session,
    campaign: Campaign,
    enterprise: Enterprise,
    kind: MilestoneKind,
    until: datetime,
    granted_by: str,
    now: datetime,
) -> Extension:
    """Grants (or moves) one enterprise's cut-off for a milestone."""
    assert campaign.id is not None and enterprise.id is not None
    found = session.exec(
        select(Extension).where(
            Extension.campaign_id == campaign.id,
            Extension.enterprise_id == enterprise.id,
            Extension.kind == kind,
        )
    ).first()
    if found is None:
        found = Extension(
            campaign_id=campaign.id,
            enterprise_id=enterprise.id,
            kind=kind,
            until=until,
            granted_by=granted_by,
            granted_at=now,
        )
        session.add(found)
    else:
        found.until, found.granted_by, found.granted_at = until, granted_by, now
    session.flush()
    return found


def latest_submitted(
    *, session: Session, campaign: Campaign, enterprise: Enterprise
) -> Registration | None:
    """The current (newest) submitted version, if any."""
    return newest(
        session=session, model=Registration, status=SubmissionStatus.SUBMITTED,
        campaign=campaign, enterprise=enterprise,
    )  # fmt: skip


def find_draft(
    *, session: Session, campaign: Campaign, enterprise: Enterprise
) -> Registration | None:
    """The enterprise's draft, shared by all its contacts."""
    return newest(
        session=session, model=Registration, status=SubmissionStatus.DRAFT,
        campaign=campaign, enterprise=enterprise,
    )  # fmt: skip


def open_draft(
    *,
    session: Session,
    campaign: Campaign,
    enterprise: Enterprise,
    now: datetime,
    contact_id: int | None,
) -> Registration:
    """The draft, or a new one starting from the latest submitted version's rows."""
    draft = find_draft(session=session, campaign=campaign, enterprise=enterprise)
    if draft is not None:
        return draft
    assert campaign.id is not None and enterprise.id is not None
    previous = latest_submitted(session=session, campaign=campaign, enterprise=enterprise)
    draft = Registration(
        campaign_id=campaign.id,
        enterprise_id=enterprise.id,
        version=(previous.version + 1) if previous else 1,
        updated_by=contact_id,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    if previous is not None:
        rows = [
            {**_row_values(n), "registration_id": draft.id}
            for n in nominees(session=session, registration=previous)
        ]
        if rows:
            session.execute(insert(Nominee), rows)
    return draft


def _row_values(nominee: Nominee) -> dict[str, object]:
    return {
        "kind": nominee.kind,
        "name": nominee.name,
        "position": nominee.position,
        "title_code": nominee.title_code,
        "award_code": nominee.award_code,
        "initiative": nominee.initiative,
        "row_number": nominee.row_number,
        "category": nominee.category,
        "gender": nominee.gender,
        "members": nominee.members,
        "basis": nominee.basis,
    }


def nominees(
    *, session: Session, registration: Registration, kind: NomineeKind | None = None
) -> list[Nominee]:
    """Rows of a registration: collectives in entry order, individuals in Vietnamese order."""
    query = select(Nominee).where(Nominee.registration_id == registration.id)
    if kind is not None:
        query = query.where(Nominee.kind == kind)
    rows = list(session.exec(query.order_by(col(Nominee.id))))
    collectives = [r for r in rows if r.kind == NomineeKind.COLLECTIVE]
    people = sorted(
        (r for r in rows if r.kind == NomineeKind.INDIVIDUAL), key=lambda r: vi_name_key(r.name)
    )
    return collectives + people


def count_nominees(*, session: Session, registration: Registration) -> dict[str, int]:
    """How many rows of each kind."""
    counts = dict(
        session.exec(
            select(Nominee.kind, func.count())
            .where(Nominee.registration_id == registration.id)
            .group_by(Nominee.kind)
        ).all()
    )
    return {kind.value: int(counts.get(kind.value, 0)) for kind in NomineeKind}


_NAME_PUNCTUATION = set(" -'.,()")  # "Nguyễn Thị Hoa (B)", "H'Hen Niê"
_SYMBOLS = {"So", "Sk", "Sm", "Sc", "Co", "Cf", "Cs"}  # emoji, symbols, private use, joiners
_WORD = re.compile(r"\w+")
_PHONE_PUNCTUATION = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "‐": "-", "‑": "-", "–": "-",
                                    "—": "-"})  # fmt: skip


def check_name(raw: str, kind: NomineeKind = NomineeKind.INDIVIDUAL) -> str:
    """A nominee's name in NFC, a person's in proper case ("nguyễn văn hưởng" → "Nguyễn Văn
    Hưởng"); refuses empty names, formulas, emoji and symbols (saying which), and essays."""
    name = nfc(raw or "").translate(_PHONE_PUNCTUATION)  # iOS writes "H’Hen", "Lê‑Văn"
    if not name:
        raise SubmissionError("nominee_name_empty")
    if name[0] in "=+@":
        raise SubmissionError("nominee_name_formula", value=name[:60])
    if not any(ch.isalpha() for ch in name):
        raise SubmissionError("nominee_name_no_letters", value=name[:60])
    if kind == NomineeKind.INDIVIDUAL:
        odd = [ch for ch in name if not (ch.isalnum() or ch in _NAME_PUNCTUATION)]
    else:
        odd = [ch for ch in name if unicodedata.category(ch) in _SYMBOLS]
    if odd:
        raise SubmissionError(
            "nominee_name_symbols", value=name[:60], symbols=" ".join(dict.fromkeys(odd))
        )
    if len(name) > MAX_NAME:
        raise SubmissionError("nominee_name_too_long", limit=MAX_NAME)
    if kind == NomineeKind.INDIVIDUAL:
        return _WORD.sub(lambda word: word[0][:1].upper() + word[0][1:].lower(), name)
    return name[:1].upper() + name[1:]


def validate(regime: str, row: NomineeInput) -> dict[str, object]:
    """Checks the absolute rules of one row; returns column values or raises SubmissionError."""
    name = check_name(row.name, row.kind)
    subject = Subject.INDIVIDUAL if row.kind == NomineeKind.INDIVIDUAL else Subject.COLLECTIVE
    title = None
    if not nfc(row.title or ""):
        if not nfc(row.award or ""):  # a commendation alone is a row (a business owner's BK)
            raise SubmissionError("title_missing")
    else:
        title = catalogue.by_code(regime, row.title) or catalogue.match(
            regime, row.title, award=False
        )
        if title is None or title.is_award:
            raise SubmissionError("title_unknown", value=nfc(row.title or "")[:80])
        if not title.fits(subject):
            raise SubmissionError("title_wrong_subject", title=title.name, kind=row.kind.value)
    award_code = None
    if row.award and search_key(row.award) in UNCLEAR_AWARDS:
        raise SubmissionError("award_level_unclear", value=nfc(row.award)[:80])
    if row.award and row.award.strip():
        award = catalogue.by_code(regime, row.award) or catalogue.match(
            regime, row.award, award=True
        )
        if award is None or not award.is_award:
            raise SubmissionError("award_unknown", value=nfc(row.award)[:80])
        if not award.fits(subject):
            raise SubmissionError("title_wrong_subject", title=award.name, kind=row.kind.value)
        award_code = award.code
    position = nfc(row.position or "") or None
    if position and len(position) > MAX_POSITION:
        raise SubmissionError("nominee_position_too_long", limit=MAX_POSITION)
    initiative = nfc(row.initiative or "") or None
    if initiative and len(initiative) > MAX_INITIATIVE:
        raise SubmissionError("nominee_initiative_too_long", limit=MAX_INITIATIVE)
    return {
        "kind": row.kind.value,
        "name": name,
        "position": position,
        "title_code": title.code if title else "",
        "award_code": award_code,
        "initiative": initiative,
        "row_number": row.row_number,
        "category": _category(row),
        "gender": _gender(row),
        "members": _members(row),
        "basis": _basis(row),
    }


def _touch(draft: Registration, now: datetime, contact_id: int | None) -> None:
    if draft.status != SubmissionStatus.DRAFT:
        raise SubmissionError("registration_not_draft")
    draft.revision += 1
    draft.updated_at = now
    draft.updated_by = contact_id


def add_nominee(
    *,
    session: Session,
    draft: Registration,
    regime: str,
    row: NomineeInput,
    now: datetime,
    contact_id: int | None,
) -> Nominee:
    """Adds one validated row to a draft."""
    values = validate(regime, row)
    _touch(draft, now, contact_id)
    assert draft.id is not None
    nominee = Nominee(registration_id=draft.id, **values)  # type: ignore[arg-type]
    session.add(nominee)
    session.flush()
    return nominee


def update_nominee(
    *,
    session: Session,
    draft: Registration,
    nominee_id: int,
    regime: str,
    row: NomineeInput,
    now: datetime,
    contact_id: int | None,
) -> Nominee | None:
    """Rewrites a row of this draft in place; None if the row is not this draft's."""
    nominee = session.get(Nominee, nominee_id)
    if nominee is None or nominee.registration_id != draft.id:
        return None
    values = validate(regime, row)
    _touch(draft, now, contact_id)
    for key, value in values.items():
        if key == "row_number" or (key in DETAILS and getattr(row, key) is None):
            continue  # details the change did not ask about (chat's steps) stay as they were
        setattr(nominee, key, value)
    session.flush()
    return nominee


DETAILS = (
    "category",
    "gender",
    "members",
    "basis",
)  # optional: from the form, or asked apart in chat


def set_details(
    *, session: Session, draft: Registration, nominee_id: int, now: datetime,
    contact_id: int | None, **given: object,
) -> Nominee | None:  # fmt: skip
    """Sets a row's optional details (category, gender, headcount), each checked as the form's
    are; None if the row is not this draft's. Raises SubmissionError for a value refused."""
    nominee = session.get(Nominee, nominee_id)
    if nominee is None or nominee.registration_id != draft.id:
        return None
    probe = NomineeInput(NomineeKind(nominee.kind), nominee.name, nominee.title_code, **given)  # type: ignore[arg-type]
    checks = {"category": _category, "gender": _gender, "members": _members, "basis": _basis}
    for key in given:
        setattr(nominee, key, checks[key](probe))
    _touch(draft, now, contact_id)
    session.add(nominee)
    session.flush()
    return nominee


def remove_nominee(
    *, session: Session, draft: Registration, nominee_id: int, now: datetime, contact_id: int | None
) -> bool:
    """Removes a row of this draft (a row of another registration is never touched)."""
    nominee = session.get(Nominee, nominee_id)
    if nominee is None or nominee.registration_id != draft.id:
        return False
    _touch(draft, now, contact_id)
    session.delete(nominee)
    session.flush()
    return True


def replace_nominees(
    *,
    session: Session,
    draft: Registration,
    rows: Sequence[dict[str, object]],
    now: datetime,
    contact_id: int | None,
) -> None:
    """Replaces every row of a draft with already validated rows (an uploaded list)."""
    if len(rows) > MAX_NOMINEES:
        raise SubmissionError("too_many_nominees", limit=MAX_NOMINEES)
    _touch(draft, now, contact_id)
    session.execute(delete(Nominee).where(col(Nominee.registration_id) == draft.id))
    if rows:
        session.execute(insert(Nominee), [{**r, "registration_id": draft.id} for r in rows])
    session.flush()


def submit(
    *,
    session: Session,
    draft: Registration,
    campaign: Campaign,
    expected_revision: int,
    now: datetime,
    contact_id: int | None,
    attested: bool = False,
) -> Registration:
    """Turns the draft into the next submitted version with a receipt reference; ``attested``:
    the contact confirmed nobody listed is disciplined, investigated or under complaint."""
    if draft.status != SubmissionStatus.DRAFT:
        raise SubmissionError("registration_already_submitted", version=draft.version)
    if draft.revision != expected_revision:
        raise SubmissionError("registration_changed")
    if not any(count_nominees(session=session, registration=draft).values()):
        raise SubmissionError("registration_empty")
    enterprise = session.get(Enterprise, draft.enterprise_id)
    assert enterprise is not None
    previous = latest_submitted(session=session, campaign=campaign, enterprise=enterprise)
    returned = previous is not None and previous.review_state == ReviewState.RETURNED
    if (
        previous is not None
        and not returned
        and _content(session, previous) == _content(session, draft)
    ):  # sent back by the board, it may come back unchanged (the board asked for it again)
        raise SubmissionError("registration_unchanged", reference=previous.reference)
    submitted = session.exec(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.campaign_id == campaign.id,
            Registration.status == SubmissionStatus.SUBMITTED,
        )
    ).one()
    try:
        stamp_submitted(
            session=session,
            draft=draft,
            prefix="DK",
            year=campaign.year,
            taken=submitted,
            now=now,
            contact_id=contact_id,
        )
    except SubmissionBusy:
        raise SubmissionError("registration_busy") from None
    if attested:
        draft.attested_at = now
        session.add(draft)
        session.flush()
    return draft


def _content(session: Session, registration: Registration) -> list[tuple[object, ...]]:
    """A registration's rows as comparable values, in a stable order."""
    values = [_row_values(n) for n in nominees(session=session, registration=registration)]
    return sorted(tuple(str(v.get(k)) for k in sorted(v) if k != "row_number") for v in values)


def enterprises_registered(*, session: Session, campaign: Campaign) -> int:
    """How many enterprises have submitted at least once."""
    return int(
        session.exec(
            select(func.count(func.distinct(Registration.enterprise_id))).where(
                Registration.campaign_id == campaign.id,
                Registration.status == SubmissionStatus.SUBMITTED,
            )
        ).one()
    )


def active_enterprises(*, session: Session) -> int:
    """How many enterprises are expected to register."""
    return int(
        session.exec(
            select(func.count()).select_from(Enterprise).where(col(Enterprise.active).is_(True))
        ).one()
    )


@dataclass
class Copied:
    """What starting from an earlier year's list took, and what it had to leave out."""

    year: int
    kept: int
    dropped: list[tuple[str, str, dict[str, object]]]  # name, reason code and its parameters


def previous_list(
    *, session: Session, campaign: Campaign, enterprise: Enterprise
) -> Registration | None:
    """The enterprise's newest submitted registration of the latest earlier campaign it sent."""
    return session.exec(
        select(Registration)
        .join(Campaign, col(Campaign.id) == Registration.campaign_id)
        .where(
            Registration.enterprise_id == enterprise.id,
            Registration.status == SubmissionStatus.SUBMITTED,
            col(Campaign.year) < campaign.year,
        )
        .order_by(col(Campaign.year).desc(), col(Registration.version).desc())
    ).first()


def copy_previous(
    *, session: Session, campaign: Campaign, enterprise: Enterprise, now: datetime,
    contact_id: int | None,
) -> Copied | None:  # fmt: skip
    """Fills this year's draft with the rows of the enterprise's last list of an earlier year,
    each checked again against this campaign's regime (a row it refuses is left out, said);
    None when there is no earlier list."""
    earlier = previous_list(session=session, campaign=campaign, enterprise=enterprise)
    if earlier is None:
        return None
    year = session.exec(select(Campaign.year).where(Campaign.id == earlier.campaign_id)).one()
    kept: list[dict[str, object]] = []
    dropped: list[tuple[str, str, dict[str, object]]] = []
    for row in nominees(session=session, registration=earlier):
        if is_erased(row.name):  # a person erased on request stays gone
            continue
        given = NomineeInput(
            NomineeKind(row.kind), row.name, row.title_code, position=row.position,
            award=row.award_code, initiative=row.initiative, category=row.category,
            gender=row.gender, members=row.members,
        )  # fmt: skip
        try:
            kept.append(validate(campaign.regime, given))
        except SubmissionError as error:
            dropped.append((row.name, error.code, error.params))
    draft = open_draft(
        session=session, campaign=campaign, enterprise=enterprise, now=now, contact_id=contact_id
    )
    replace_nominees(session=session, draft=draft, rows=kept, now=now, contact_id=contact_id)
    return Copied(year, len(kept), dropped)
