"""Importing the registry from the files boards really have, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from msoffcrypto.format.ooxml import OOXMLFile
from sqlmodel import Session, func, select

from storage import registry
from storage.models import Contact, Enterprise, IndustrialZone
from storage.registry_import import Outcome, import_enterprises
from storage.tabular import TableFileError
from tests.conftest import NOW
from tests.factories import nfd, registry_rows, to_cp1258, valid_tax_codes, write_xlsx

CODES = valid_tax_codes(6)
LEADING_ZERO = valid_tax_codes(1, prefix="010")[0]


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _zones(session: Session) -> None:
    registry.add_zone(session=session, name="KCN Quế Võ")
    registry.add_zone(session=session, name="KCN Yên Phong")
    session.commit()


def test_messy_workbook_imports_good_rows_and_explains_bad_ones(
    session: Session, tmp_path: Path
) -> None:
    _zones(session)
    rows: list[list[object]] = [
        ["", "Danh sách doanh nghiệp (cập nhật)", None, None],
        [],
        [
            "STT",
            "Tên DN",
            "Mã số thuế (MST)",
            "Thuộc KCN",
            "Địa chỉ trụ sở",
            "Người liên hệ",
            "SĐT",
            "Vốn đầu tư",
        ],
        [
            1,
            nfd("Công ty TNHH Hoà Bình"),
            CODES[0][:4] + "." + CODES[0][4:7] + " " + CODES[0][7:],
            nfd("Khu công nghiệp Quế Võ"),
            "Lô A1",
            nfd("Nguyễn Thị Hoà"),
            "0912 345 678",
            1e6,
        ],
        [2, "Công ty CP Sao Mai", int(LEADING_ZERO), "kcn yên phong", None, None, None, None],
        [None, None, None, None, None, None, None, None],
        [
            3,
            "Công ty sai số kiểm tra",
            CODES[2][:-1] + str((int(CODES[2][-1]) + 1) % 10),
            "KCN Quế Võ",
            None,
            None,
            None,
            None,
        ],
        [4, "Hộ kinh doanh", "001099012345", "KCN Quế Võ", None, None, None, None],
        [5, "Công ty KCN lạ", CODES[3], "KCN Không Có", None, None, None, None],
        [6, "Bản sao của dòng 1", CODES[0], "KCN Quế Võ", None, None, None, None],
        [7, None, CODES[4], "KCN Quế Võ", None, None, None, None],
        [
            8,
            "Công ty chi nhánh",
            CODES[5] + "-001",
            "KCN Quế Võ",
            None,
            "Trần Văn Đức",
            "12345",
            None,
        ],
        ["STT", "Tên DN", "Mã số thuế (MST)", "Thuộc KCN", None, None, None, None],
    ]
    path = write_xlsx(tmp_path / "ds.xlsx", rows)
    report = import_enterprises(session=session, path=path, now=NOW)
    assert report.header_row == 3
    assert report.saved
    by_row = {r.row: r for r in report.rows}
    assert by_row[4].outcome == Outcome.CREATED
    assert by_row[5].outcome == Outcome.CREATED
    assert [n.code for n in by_row[5].notes] == ["tax_code_zero_restored"]
    assert [p.code for p in by_row[7].problems] == ["tax_code_checksum"]
    assert [p.code for p in by_row[8].problems] == ["tax_code_personal_id"]
    assert [p.code for p in by_row[9].problems] == ["zone_unknown"]
    assert [p.code for p in by_row[10].problems] == ["duplicate_row"]
    assert by_row[10].problems[0].params == {"first_row": 4}
    assert [p.code for p in by_row[11].problems] == ["name_empty"]
    assert by_row[12].outcome == Outcome.CREATED
    assert [n.code for n in by_row[12].notes] == ["phone_ignored"]
    assert 6 not in by_row and 13 not in by_row  # blank row and repeated header skipped
    assert report.count(Outcome.CREATED) == 3 and report.count(Outcome.REJECTED) == 5

    first = registry.get_enterprise(session=session, tax_code=CODES[0])
    assert first is not None
    assert first.name == "Công ty TNHH Hoà Bình"  # NFD arrived, NFC stored
    zone = session.get(IndustrialZone, first.zone_id)
    assert zone is not None and zone.name == "KCN Quế Võ"
    contact = session.exec(select(Contact).where(Contact.enterprise_id == first.id)).one()
    assert contact.full_name == "Nguyễn Thị Hoà" and contact.phone == "+84912345678"
    assert registry.get_enterprise(session=session, tax_code=CODES[5] + "-001") is not None
    assert _count(session, Enterprise) == 3


def test_reimport_updates_changed_rows_and_leaves_others(session: Session, tmp_path: Path) -> None:
    _zones(session)
    rows = registry_rows(3)
    path = write_xlsx(tmp_path / "v1.xlsx", rows, title_rows=2)
    assert import_enterprises(session=session, path=path, now=NOW).count(Outcome.CREATED) == 3
    rows[2][1] = "Tên mới sau sáp nhập"
    rows[3][3] = "KCN Quế Võ" if rows[3][3] != "KCN Quế Võ" else "KCN Yên Phong"
    report = import_enterprises(
        session=session, path=write_xlsx(tmp_path / "v2.xlsx", rows), now=NOW
    )
    outcomes = [(r.outcome, r.changed) for r in report.rows]
    assert outcomes == [
        (Outcome.UNCHANGED, []),
        (Outcome.UPDATED, ["name"]),
        (Outcome.UPDATED, ["zone"]),
    ]
    assert _count(session, Enterprise) == 3 and _count(session, Contact) == 3


def test_unknown_zones_can_be_created_on_request(session: Session, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "z.xlsx", registry_rows(2, zones=("KCN Vân Trung",)))
    refused = import_enterprises(session=session, path=path, now=NOW)
    assert refused.count(Outcome.REJECTED) == 2
    report = import_enterprises(session=session, path=path, now=NOW, create_zones=True)
    assert report.count(Outcome.CREATED) == 2
    assert [z.name for z in registry.list_zones(session=session)] == ["KCN Vân Trung"]


def test_dry_run_saves_nothing(session: Session, tmp_path: Path) -> None:
    _zones(session)
    path = write_xlsx(tmp_path / "d.xlsx", registry_rows(4))
    report = import_enterprises(session=session, path=path, now=NOW, dry_run=True)
    assert report.count(Outcome.CREATED) == 4 and not report.saved
    assert _count(session, Enterprise) == 0


def test_a_file_of_only_bad_rows_saves_nothing_and_says_why(
    session: Session, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        [["Tên doanh nghiệp", "MST"], ["A", "123"], ["B", "001099012345"], ["", ""], ["🙂", "abc"]],
    )
    report = import_enterprises(session=session, path=path, now=NOW)
    assert [r.outcome for r in report.rows] == [Outcome.REJECTED] * 3
    assert [p.code for p in report.rows[2].problems] == ["tax_code_format", "name_no_letters"]
    assert _count(session, Enterprise) == 0


def test_csv_with_semicolons_utf16_and_windows_1258(session: Session, tmp_path: Path) -> None:
    _zones(session)
    rows = registry_rows(3)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    (tmp_path / "a.csv").write_text(buffer.getvalue(), encoding="utf-8-sig")
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="\t").writerows(rows)
    (tmp_path / "b.txt").write_text(buffer.getvalue(), encoding="utf-16")
    for name in ("a.csv", "b.txt"):
        report = import_enterprises(session=session, path=tmp_path / name, now=NOW)
        assert report.count(Outcome.REJECTED) == 0, name
    assert _count(session, Enterprise) == 3
    legacy = "Tên doanh nghiệp,Mã số thuế\nCông ty Đông Á," + valid_tax_codes(4)[3] + "\n"
    (tmp_path / "c.csv").write_bytes(to_cp1258(legacy))
    report = import_enterprises(session=session, path=tmp_path / "c.csv", now=NOW)
    assert report.rows[0].outcome == Outcome.CREATED
    assert report.rows[0].name == "Công ty Đông Á"


def test_five_thousand_rows_in_one_transaction(session: Session, tmp_path: Path) -> None:
    _zones(session)
    path = write_xlsx(tmp_path / "big.xlsx", registry_rows(5000), title_rows=3)
    report = import_enterprises(session=session, path=path, now=NOW)
    assert report.count(Outcome.CREATED) == 5000
    assert _count(session, Enterprise) == 5000 and _count(session, Contact) == 5000


def _file_error(session: Session, path: Path, **kwargs: object) -> str:
    with pytest.raises(TableFileError) as caught:
        import_enterprises(session=session, path=path, now=NOW, **kwargs)  # type: ignore[arg-type]
    assert _count(session, Enterprise) == 1  # the enterprise saved before is untouched
    return caught.value.code


@pytest.fixture
def one_saved(session: Session) -> Session:
    registry.add_enterprise(session=session, tax_code=CODES[0], name="Đã có", now=NOW)
    session.commit()
    return session


def test_whole_file_errors_store_nothing(one_saved: Session, tmp_path: Path) -> None:
    session = one_saved
    (tmp_path / "empty.xlsx").write_bytes(b"")
    assert _file_error(session, tmp_path / "empty.xlsx") == "file_empty"
    assert _file_error(session, tmp_path / "missing.xlsx") == "file_missing"
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00\x01\x02 stream")
    assert _file_error(session, tmp_path / "scan.pdf") == "file_not_table"
    (tmp_path / "renamed.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert _file_error(session, tmp_path / "renamed.xlsx") == "file_not_table"
    good = write_xlsx(tmp_path / "good.xlsx", registry_rows(2))
    data = good.read_bytes()
    (tmp_path / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    assert _file_error(session, tmp_path / "truncated.xlsx") == "file_corrupt"
    with zipfile.ZipFile(tmp_path / "notexcel.xlsx", "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    assert _file_error(session, tmp_path / "notexcel.xlsx") == "file_corrupt"
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)
    assert _file_error(session, tmp_path / "old.xls") == "file_legacy_xls"
    no_header = write_xlsx(tmp_path / "noheader.xlsx", [["Họ tên", "Tuổi"], ["A", 30]])
    assert _file_error(session, no_header) == "file_no_header"


def test_password_protected_workbook_is_named_as_such(one_saved: Session, tmp_path: Path) -> None:
    plain = write_xlsx(tmp_path / "plain.xlsx", registry_rows(2))
    with plain.open("rb") as source, (tmp_path / "locked.xlsx").open("wb") as target:
        OOXMLFile(source).encrypt("matkhau", target)
    assert _file_error(one_saved, tmp_path / "locked.xlsx") == "file_encrypted"


def test_a_100_mb_file_is_refused_before_it_is_read(one_saved: Session, tmp_path: Path) -> None:
    huge = tmp_path / "huge.xlsx"
    with huge.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: no 100 MB written to disk
    assert _file_error(one_saved, huge) == "file_too_large"


def test_too_many_rows_is_a_file_error(one_saved: Session, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "rows.xlsx", registry_rows(30))
    assert _file_error(one_saved, path, max_rows=20, create_zones=True) == "file_too_many_rows"
    assert _count(one_saved, IndustrialZone) == 0  # zones created mid-file were rolled back
