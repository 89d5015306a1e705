"""Personal data on request and over time: a person erased keeps the counts, documents of closed
campaigns go after the retention period, held forms after two days."""

from __future__ import annotations

import os
import zipfile
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.compose import App
from bot.settings import Settings
from storage import (
    campaigns,
    document_archive,
    erasure,
    exports,
    files,
    inbox,
    registry,
    reports,
    results,
)
from storage.engine import session_for
from storage.models import (
    AuditEvent,
    Campaign,
    ChatLink,
    Conferrer,
    Contact,
    Conversation,
    Delivery,
    DeliveryStatus,
    Enterprise,
    Inbox,
    MilestoneKind,
    Nominee,
    NomineeKind,
    Registration,
    StoredFile,
)
from storage.registrations import NomineeInput
from storage.retention import prune_documents, sweep_held_forms
from tests.conftest import NOW
from tests.factories import pdf_bytes, seed_world, submit_registration
from tests.fake_channel import FakeChat, make_core

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
P, C = NomineeKind.INDIVIDUAL, NomineeKind.COLLECTIVE


def _delivery(contact_id: int, chat_id: str, status: str, key: str) -> Delivery:
    return Delivery(
        dedupe_key=key, kind="reminder", contact_id=contact_id, channel="fake", chat_id=chat_id,
        payload={"name": "Nguyễn Thị Hoà"}, status=status, not_before=NOW, created_at=NOW,
    )  # fmt: skip


def test_an_erased_contact_is_forgotten_and_the_counts_stay(  # type: ignore[no-untyped-def]
    engine: Engine, tmp_path: Path
) -> None:
    codes, _enterprise_id = seed_world(engine, NOW)
    core = make_core(engine, tmp_path, lambda: NOW)
    chat = FakeChat(core, "5551234")
    chat.command(f"/start {codes['contact']}")
    chat.press("Đồng ý")
    inbox.store(engine, "fake", [("5551234", "u1", {"text": "Nguyễn Thị Hoà đây"})], NOW)
    with session_for(engine) as session:
        contact = session.exec(select(Contact)).one()
        assert contact.id is not None
        contact.phone = "0912345678"
        session.add(_delivery(contact.id, "5551234", DeliveryStatus.SENT, "sent"))
        session.add(_delivery(contact.id, "5551234", DeliveryStatus.PENDING, "pending"))
        session.commit()
        done = erasure.erase_contact(session=session, contact=contact, now=NOW)
        session.commit()
        assert done.chats == 1 and done.audit_entries == 1
        assert contact.full_name == done.pseudonym and erasure.is_erased(contact.full_name)
        assert contact.phone is None and contact.email is None
        assert session.exec(select(ChatLink)).all() == []
        assert session.exec(select(Conversation)).all() == []
        assert session.exec(select(Inbox)).all() == []
        kept = session.exec(select(Delivery)).all()  # the reminder sent still counts
        assert [(d.status, d.chat_id, d.payload) for d in kept] == [
            (DeliveryStatus.SENT, done.pseudonym, {})
        ]
        trail = session.exec(select(AuditEvent)).all()
        assert trail and all("5551234" not in f"{e.actor}{e.target}{e.details}" for e in trail)
        assert any(e.target == f"fake:{done.pseudonym}" for e in trail)
    chat.command("/menu")  # the chat is a stranger's again
    assert "chưa được liên kết" in chat.said


def _campaign(session: Session, year: int) -> Campaign:
    return campaigns.create_campaign(session=session, year=year, board_name="Ban", now=NOW, tz=TZ)


def _submit(
    session: Session, campaign: Campaign, enterprise: Enterprise, *rows: NomineeInput
) -> None:
    submit_registration(session, campaign, enterprise, *rows, now=NOW)


def test_an_erased_nominee_leaves_every_version_and_year_and_the_titles_stay(
    session: Session, tmp_path: Path
) -> None:
    zone = registry.add_zone(session=session, name="KCN Quế Võ")
    first = registry.add_enterprise(
        session=session, tax_code="0100109106", name="Công ty A", now=NOW, zone=zone
    )
    other = registry.add_enterprise(
        session=session, tax_code="0101243150", name="Công ty B", now=NOW, zone=zone
    )
    last_year, this_year = _campaign(session, 2025), _campaign(session, 2026)
    _submit(session, last_year, first, NomineeInput(P, "Trần Văn Đức", "LĐTT"))
    _submit(session, this_year, first, NomineeInput(P, "Trần Văn Đức", "LĐTT"))
    _submit(
        session, this_year, first,  # a second version; tone placed elsewhere, same person
        NomineeInput(P, "trần văn đức", "CSTĐCS", position="Kỹ sư", initiative="Sáng kiến A"),
        NomineeInput(P, "Lê Thị An", "LĐTT"),
        NomineeInput(C, "Phòng Kỹ thuật", "TT LĐTT"),
    )  # fmt: skip
    _submit(session, this_year, other, NomineeInput(P, "Trần Văn Đức", "LĐTT"))  # another man
    for campaign, enterprise in ((last_year, first), (this_year, other)):  # awards on record
        (proposal,) = [
            p for p in results.proposals(session, campaign, [enterprise.id or 0])
            if p.name == "Trần Văn Đức"
        ]  # fmt: skip
        decision = results.Decision(True, "ldtt", "1/QĐ", None, Conferrer.ENTERPRISE)
        results.record(session, campaign, proposal, decision, actor="t", now=NOW)
    session.commit()
    before = exports.export_registrations(
        session=session, campaign=this_year, path=tmp_path / "before.xlsx"
    )
    found = erasure.find_nominees(session=session, name="tran van duc")
    assert sorted(e.tax_code for _n, e, _c in found) == ["0100109106", "0101243150"]
    nominee = next(n for n, e, _c in found if e.id == first.id)
    done = erasure.erase_nominee(session=session, nominee=nominee)
    session.commit()
    assert done.nominee_rows == 3
    rows = session.exec(
        select(Nominee, Registration.enterprise_id).join(
            Registration, col(Registration.id) == col(Nominee.registration_id)
        )
    ).all()
    names = [(n.name, n.position, n.initiative, e) for n, e in rows]
    assert sum(1 for n in names if n[0] == done.pseudonym and n[1:3] == (None, None)) == 3
    assert ("Trần Văn Đức", None, None, other.id) in names
    assert {n[0] for n in names} == {done.pseudonym, "Lê Thị An", "Phòng Kỹ thuật", "Trần Văn Đức"}
    after = exports.export_registrations(
        session=session, campaign=this_year, path=tmp_path / "after.xlsx"
    )
    assert after == before  # the counts per title are unchanged
    people = openpyxl.load_workbook(tmp_path / "after.xlsx")["Cá nhân"]
    shown = [c for row in people.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "Sáng kiến A" not in shown and "Kỹ sư" not in shown and done.pseudonym in shown
    past = {(a.tax_code, a.name) for a in results.lookup(session, "tran van duc")}
    assert past == {("0101243150", "Trần Văn Đức")}  # the other man's award stays his
    assert [a.code for a in results.lookup(session, done.pseudonym)] == ["ldtt"]  # still counted


def _report_with(
    session: Session, campaign: Campaign, enterprise: Enterprise, content: bytes, root: Path
) -> StoredFile:
    draft = reports.open_draft(
        session=session, campaign=campaign, enterprise=enterprise, kind=MilestoneKind.REPORT,
        now=NOW, contact_id=None,
    )  # fmt: skip
    (root.parent / "in.pdf").write_bytes(content)
    stored = files.store_document(
        session=session, source=root.parent / "in.pdf", root=root, now=NOW
    )
    reports.attach(
        session=session, report=draft, stored=stored, signed=True, name="bc.pdf", channel=None,
        channel_file_id=None, now=NOW, contact_id=None,
    )  # fmt: skip
    draft.status = "submitted"  # the figures do not matter here
    session.add(draft)
    session.flush()
    return stored


def test_documents_of_a_closed_campaign_go_after_the_retention_period(
    session: Session, tmp_path: Path
) -> None:
    root = tmp_path / "files"
    zone = registry.add_zone(session=session, name="KCN Quế Võ")
    a = registry.add_enterprise(
        session=session, tax_code="0100109106", name="A", now=NOW, zone=zone
    )
    b = registry.add_enterprise(
        session=session, tax_code="0101243150", name="B", now=NOW, zone=zone
    )
    old, current = _campaign(session, 2025), _campaign(session, 2026)
    gone = _report_with(session, old, a, pdf_bytes(), root)
    shared = _report_with(session, old, b, pdf_bytes(padding=300), root)
    _report_with(session, current, b, pdf_bytes(padding=300), root)  # the same bytes this year
    session.commit()
    # 2025's report closed on 04/12/2025, 88 days before NOW: 60 days' keeping has passed.
    assert prune_documents(session, root, NOW, 120, actor="test").files == 0
    dry = prune_documents(session, root, NOW, 60, actor="test", dry_run=True)
    assert (dry.years, dry.files) == ((2025,), 1) and files.path_of(gone, root).exists()
    done = prune_documents(session, root, NOW, 60, actor="test")
    assert (done.years, done.files, done.size) == ((2025,), 1, gone.size)
    assert not files.path_of(gone, root).exists() and files.path_of(shared, root).exists()
    session.refresh(gone)
    assert gone.removed_at is not None  # the record of what was sent stays
    archive = tmp_path / "docs.zip"
    assert (
        document_archive.zip_documents(session=session, campaign=old, root=root, path=archive) == 1
    )
    with zipfile.ZipFile(archive) as opened:
        assert opened.namelist() == ["danh-muc-tai-lieu.xlsx", "0101243150 B v1.pdf"]
    assert prune_documents(session, root, NOW, 60, actor="test").files == 0  # once only
    assert session.exec(select(AuditEvent.action)).all() == ["files.prune"]


def test_the_nightly_job_prunes_and_sweeps_forms_nobody_confirmed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    app = App(
        settings=Settings(data_dir=data, database_url=f"sqlite:///{tmp_path}/db.sqlite3",
                          files_keep_days=60),
        clock=lambda: NOW,
    )  # fmt: skip
    uploads = data / "uploads"
    uploads.mkdir(parents=True)
    stale, fresh = uploads / "a.xlsx", uploads / "b.xlsx"
    for path, age in ((stale, timedelta(days=3)), (fresh, timedelta(hours=5))):
        path.write_bytes(b"x")
        stamp = (NOW - age).timestamp()
        os.utime(path, (stamp, stamp))
    with app.session() as session:
        zone = registry.add_zone(session=session, name="KCN Quế Võ")
        a = registry.add_enterprise(
            session=session, tax_code="0100109106", name="A", now=NOW, zone=zone
        )
        stored = _report_with(session, _campaign(session, 2025), a, pdf_bytes(), data / "files")
        session.commit()
    app.reminder_service({}).nightly(NOW)
    assert not stale.exists() and fresh.exists()
    assert not files.path_of(stored, data / "files").exists()
    assert sweep_held_forms(uploads, NOW) == 0
