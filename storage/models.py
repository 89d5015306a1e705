"""Tables of the campaign registry; every instant is an aware UTC datetime."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

# Named constraints let Alembic's batch mode rebuild SQLite tables and drop them by name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Regime(StrEnum):
    """Legal regime whose title catalogue and checks a campaign follows."""

    ND91_2017 = "nd91-2017"
    ND98_2023 = "nd98-2023"
    ND152_2025 = "nd152-2025"


class MilestoneKind(StrEnum):
    """What an enterprise owes the board at a milestone."""

    REGISTRATION = "registration"
    MIDYEAR = "midyear"
    REPORT = "report"


class Role(StrEnum):
    """What a linked person may do."""

    CONTACT = "contact"
    BOARD = "board"
    ADMIN = "admin"


class Campaign(SQLModel, table=True):
    """One year's emulation movement as launched by the board."""

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True, index=True)
    regime: str = Field(sa_type=String(16))
    board_name: str = Field(sa_type=String(200))
    created_at: datetime = Field(sa_type=UTCDateTime)


class Milestone(SQLModel, table=True):
    """A deadline of a campaign; on time means submitted strictly before ``due_at``."""

    __table_args__ = (UniqueConstraint("campaign_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True, ondelete="CASCADE")
    kind: str = Field(sa_type=String(16))
    due_at: datetime = Field(sa_type=UTCDateTime)
    # Reminder policy: days before the last day (negative: after it), local send time.
    reminder_days: list[int] = Field(
        default_factory=lambda: [30, 14, 7, 3, 1, 0, -1, -3], sa_type=JSON
    )
    send_time: str = Field(default="08:30", sa_type=String(5))
    working_days_only: bool = Field(default=False)


class IndustrialZone(SQLModel, table=True):
    """An industrial zone (KCN) the board manages."""

    __tablename__ = "industrial_zone"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(200))
    key: str = Field(sa_type=String(200), unique=True, index=True)


class Enterprise(SQLModel, table=True):
    """An enterprise in the zones, identified by its tax code (MST)."""

    id: int | None = Field(default=None, primary_key=True)
    tax_code: str = Field(sa_type=String(14), unique=True, index=True)
    name: str = Field(sa_type=String(300))
    name_key: str = Field(sa_type=String(300), index=True)
    zone_id: int | None = Field(default=None, foreign_key="industrial_zone.id", index=True)
    address: str | None = Field(default=None, sa_type=String(500))
    active: bool = Field(default=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Contact(SQLModel, table=True):
    """A person who acts in chat: an enterprise contact, a board member or an admin."""

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int | None = Field(
        default=None, foreign_key="enterprise.id", index=True, ondelete="CASCADE"
    )
    full_name: str = Field(sa_type=String(200))
    phone: str | None = Field(default=None, sa_type=String(20))
    email: str | None = Field(default=None, sa_type=String(200))
    role: str = Field(default=Role.CONTACT, sa_type=String(16))
    created_at: datetime = Field(sa_type=UTCDateTime)


class ChatLink(SQLModel, table=True):
    """A chat (Telegram, Zalo, terminal) through which a contact acts; a person may have several."""

    __tablename__ = "chat_link"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True, ondelete="CASCADE")
    channel: str = Field(sa_type=String(16))
    chat_id: str = Field(sa_type=String(64))
    reachable: bool = Field(default=True)
    linked_at: datetime = Field(sa_type=UTCDateTime)


class Conversation(SQLModel, table=True):
    """Where a chat stands in a flow; saved in the same transaction as what the step wrote."""

    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(sa_type=String(16))
    chat_id: str = Field(sa_type=String(64))
    language: str | None = Field(default=None, sa_type=String(8))
    step: str = Field(default="", sa_type=String(64))
    data: dict[str, object] = Field(default_factory=dict, sa_type=JSON)
    version: int = Field(default=0)
    recent_keys: list[str] | None = Field(default=None, sa_type=JSON)  # deliveries answered
    failed_codes: int = Field(default=0)
    failed_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Invitation(SQLModel, table=True):
    """A single-use, expiring link code; only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(sa_type=String(64), unique=True, index=True)
    role: str = Field(sa_type=String(16))
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id", ondelete="CASCADE")
    contact_id: int | None = Field(default=None, foreign_key="contact.id", ondelete="CASCADE")
    created_by: str = Field(sa_type=String(100))
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_contact_id: int | None = Field(
        default=None, foreign_key="contact.id", ondelete="SET NULL"
    )


class AuditEvent(SQLModel, table=True):
    """Who did what and when, for the board's accountability."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor: str = Field(sa_type=String(100))
    action: str = Field(sa_type=String(64), index=True)
    target: str | None = Field(default=None, sa_type=String(200))
    details: dict[str, object] = Field(default_factory=dict, sa_type=JSON)


class SubmissionStatus(StrEnum):
    """A registration or a report is edited as a draft, then submitted as a numbered version."""

    DRAFT = "draft"
    SUBMITTED = "submitted"


class NomineeKind(StrEnum):
    """The two tables of the official form."""

    INDIVIDUAL = "individual"
    COLLECTIVE = "collective"


class NomineeCategory(StrEnum):
    """Who an individual is, as the statistics form splits them."""

    ENTREPRENEUR = "entrepreneur"  # doanh nhân
    MANAGER = "manager"  # cán bộ quản lý, từ phó trưởng phòng trở lên
    WORKER = "worker"  # công nhân, người lao động trực tiếp


class ReviewState(StrEnum):
    """Where the board stands on a submission (ODK-like review states)."""

    RECEIVED = "received"
    HAS_ISSUES = "has_issues"
    APPROVED = "approved"
    RETURNED = "returned"  # sent back to the enterprise with a comment; its flow reopens


class Submission(SQLModel):
    """Columns every submitted thing shares: versioning, who sent it and the board's review."""

    campaign_id: int = Field(foreign_key="campaign.id", index=True, ondelete="CASCADE")
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True, ondelete="CASCADE")
    version: int
    status: str = Field(default=SubmissionStatus.DRAFT, sa_type=String(16))
    revision: int = Field(default=0)  # bumped by every change, so a stale confirm is caught
    reference: str | None = Field(default=None, sa_type=String(24), unique=True)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_by: int | None = Field(default=None, foreign_key="contact.id", ondelete="SET NULL")
    updated_by: int | None = Field(default=None, foreign_key="contact.id", ondelete="SET NULL")
    review_state: str = Field(default=ReviewState.RECEIVED, sa_type=String(16))
    review_comment: str | None = Field(default=None, sa_type=String(1000))
    reviewed_by: int | None = Field(default=None, foreign_key="contact.id", ondelete="SET NULL")
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Registration(Submission, table=True):
    """One version of an enterprise's registration of emulation titles; never overwritten."""

    __table_args__ = (UniqueConstraint("campaign_id", "enterprise_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    # the contact confirmed, submitting, that nobody listed is under discipline, investigation
    # or an unresolved complaint (NĐ 152/2025 Đ.4 k4); None: submitted without it
    attested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Nominee(SQLModel, table=True):
    """A row of the form: a person or a collective, the title and the commendation proposed."""

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", index=True, ondelete="CASCADE")
    kind: str = Field(sa_type=String(16))
    name: str = Field(sa_type=String(200))
    position: str | None = Field(default=None, sa_type=String(300))  # chức vụ, đơn vị
    title_code: str = Field(sa_type=String(16))
    award_code: str | None = Field(default=None, sa_type=String(16))
    initiative: str | None = Field(default=None, sa_type=String(500))
    row_number: int | None = None  # where it came from in an uploaded file
    # optional, for the statistics (TT 02/2023/TT-BNV) and NĐ 152 Đ.4 k6's priority to women
    category: str | None = Field(default=None, sa_type=String(16))  # NomineeCategory
    gender: str | None = Field(default=None, sa_type=String(8))  # "female" or "male"
    members: int | None = None  # a collective's headcount, optional: for its LĐTT share
    # what a proposal that needs one rests on: the cụm/khối a Cờ's unit leads, the BK tỉnh's
    # basis (QĐ 86 Đ.3 k3), the years of CSTĐCS behind a CSTĐ tỉnh
    basis: str | None = Field(default=None, sa_type=String(300))


class Extension(SQLModel, table=True):
    """A later cut-off granted to one enterprise for one milestone."""

    __table_args__ = (UniqueConstraint("campaign_id", "enterprise_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", ondelete="CASCADE")
    enterprise_id: int = Field(foreign_key="enterprise.id", ondelete="CASCADE")
    kind: str = Field(sa_type=String(16))
    until: datetime = Field(sa_type=UTCDateTime)
    granted_by: str = Field(sa_type=String(100))
    granted_at: datetime = Field(sa_type=UTCDateTime)


class Report(Submission, table=True):
    """One version of an enterprise's year-end (or mid-year) report: figures and documents."""

    __table_args__ = (UniqueConstraint("campaign_id", "enterprise_id", "kind", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(16))  # MilestoneKind.REPORT or MIDYEAR
    figures: dict[str, object] = Field(default_factory=dict, sa_type=JSON)


class StoredFile(SQLModel, table=True):
    """A file kept under the data directory by its sha256; the same content is kept once."""

    __tablename__ = "stored_file"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(sa_type=String(64), unique=True, index=True)
    size: int = Field(sa_type=BigInteger)
    content_type: str = Field(
        sa_type=String(16)
    )  # what the content is (pdf, doc, docx), not its name
    created_at: datetime = Field(sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # retention


class ReportDocument(SQLModel, table=True):
    """A document attached to a report: the signed report, or a supporting file."""

    __tablename__ = "report_document"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True, ondelete="CASCADE")
    file_id: int = Field(foreign_key="stored_file.id")
    signed: bool = Field(default=False)
    name: str = Field(sa_type=String(200))  # shown to people; never used as a path
    channel: str | None = Field(default=None, sa_type=String(16))
    channel_file_id: str | None = Field(default=None, sa_type=String(200))  # to re-send by id


class DeliveryStatus(StrEnum):
    """Where a message of the outbox stands."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"


class Delivery(SQLModel, table=True):
    """One message owed to one chat (a reminder, a digest, a notice); planned once by its key."""

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(sa_type=String(200), unique=True)
    kind: str = Field(sa_type=String(16), index=True)
    milestone_id: int | None = Field(default=None, foreign_key="milestone.id", ondelete="CASCADE")
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id", ondelete="CASCADE")
    contact_id: int | None = Field(default=None, foreign_key="contact.id", ondelete="CASCADE")
    step: int | None = None
    channel: str = Field(sa_type=String(16))
    chat_id: str = Field(sa_type=String(64))
    payload: dict[str, object] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default=DeliveryStatus.PENDING, sa_type=String(16), index=True)
    attempts: int = Field(default=0)
    not_before: datetime = Field(sa_type=UTCDateTime, index=True)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_type=String(300))
    created_at: datetime = Field(sa_type=UTCDateTime)


class Inbox(SQLModel, table=True):
    """A delivery from a channel, stored before it is acknowledged; done in the transaction of
    its effects, with the answer kept until it has been sent (a restart sends it, or handles
    what was left undone)."""

    __table_args__ = (UniqueConstraint("channel", "chat_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(sa_type=String(16))
    chat_id: str = Field(sa_type=String(64))
    key: str = Field(sa_type=String(64))
    payload: dict[str, object] = Field(default_factory=dict, sa_type=JSON)
    received_at: datetime = Field(sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    answer: dict[str, object] | None = Field(default=None, sa_type=JSON)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # failed tries


class FileLink(SQLModel, table=True):
    """A one-time link for a channel that cannot carry files: an upload bound to a chat's step
    and state version, or a download of a file the bot sends; only a hash of the token."""

    __tablename__ = "file_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=String(64), unique=True, index=True)
    kind: str = Field(sa_type=String(16))  # "upload" or "download"
    channel: str = Field(sa_type=String(16))
    chat_id: str = Field(sa_type=String(64))
    step: str | None = Field(default=None, sa_type=String(64))  # upload: the step it is for
    version: int | None = None  # upload: the chat's state version when it was given
    path: str | None = Field(default=None, sa_type=String(500))  # download: our file
    name: str | None = Field(default=None, sa_type=String(200))  # download: the name shown
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Conferrer(StrEnum):
    """Who decides an award (and pays its prize)."""

    ENTERPRISE = "enterprise"  # the director: LĐTT, CSTĐCS, TT LĐTT, its own Giấy khen
    BOARD = "board"  # the board's head: the board's Giấy khen
    PROVINCE = "province"  # the province's chairman: TT LĐXS, BK tỉnh, CSTĐ tỉnh, Cờ
    CENTRAL = "central"  # higher forms, proposed upward (BK Thủ tướng, Huân chương)


class AwardResult(SQLModel, table=True):
    """What was decided for one proposal of a campaign: a nominee's title or form, recognised
    or not, what was conferred, by whom and by which decision. The nominee is kept by name
    and post (not by row: a later version of the list has new rows), which is also how past
    awards are found across years."""

    __tablename__ = "award_result"
    __table_args__ = (
        UniqueConstraint("campaign_id", "enterprise_id", "kind", "person_key", "proposed_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True, ondelete="CASCADE")
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True, ondelete="CASCADE")
    kind: str = Field(sa_type=String(16))  # NomineeKind
    name: str = Field(sa_type=String(200))
    name_key: str = Field(sa_type=String(200), index=True)  # case and tone placement folded
    name_search: str = Field(sa_type=String(200), index=True)  # every diacritic folded: lookup
    position: str | None = Field(default=None, sa_type=String(300))
    person_key: str = Field(sa_type=String(520))  # name and post folded: one person of a year
    proposed_code: str = Field(sa_type=String(16))  # the title or form registered
    recognised: bool
    conferred_code: str | None = Field(default=None, sa_type=String(16))  # may differ
    decision_number: str | None = Field(default=None, sa_type=String(60))
    decision_date: date | None = None
    conferred_by: str = Field(sa_type=String(16))  # Conferrer
    recorded_by: str = Field(sa_type=String(100))
    recorded_at: datetime = Field(sa_type=UTCDateTime)


METADATA = SQLModel.metadata  # every table above (Alembic compares migrations against it)
