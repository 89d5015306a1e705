"""Small files that ask for a lot are refused by the limit they break, saying which; a reading
made ahead in the files worker is what the step then uses; a chat sending many files is told
to wait."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import offload
from bot.core.upload_rate import UploadRate
from bot.texts.problems import render
from storage import tabular
from storage.engine import session_for
from storage.models import Nominee, Regime
from storage.registration_sheet import read_form
from storage.tabular import FORM_LIMITS, Limits, TableFileError, read_sheets
from tests import hostile
from tests.fake_channel import FakeChat
from tests.test_registration_flow import (  # noqa: F401  (clock, core, world: fixtures)
    REG,
    _contact,
    _fill,
    clock,
    core,
    world,
)

MB = 1024 * 1024
REGIME = Regime.ND98_2023.value


def _form_error(path: Path) -> TableFileError:
    with pytest.raises(TableFileError) as caught:
        read_form(path, regime=REGIME, max_bytes=20 * MB)
    return caught.value


def _registry_error(path: Path) -> TableFileError:
    with pytest.raises(TableFileError) as caught:
        for _sheet, rows in read_sheets(path, max_bytes=20 * MB):
            for _row in rows:
                pass
    return caught.value


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (hostile.dimension_bomb, "sheet_too_many_rows"),
        (lambda p: hostile.many_rows(p, 25_001), "sheet_too_many_rows"),
        (lambda p: hostile.one_long_string(p, 9 * MB), "workbook_unpacks_too_large"),
        # the shared strings under another name: found as openpyxl finds them
        (lambda p: hostile.one_long_string(p, 9 * MB, part="xl/x.xml"), "workbook_unpacks_too_large"),  # noqa: E501
        (lambda p: hostile.one_huge_cell(p, 17 * MB), "workbook_unpacks_too_large"),
        (lambda p: hostile.one_huge_cell(p, 40_000), "cell_too_long"),
        (lambda p: hostile.wide_rows(p, 300, 2), "sheet_too_many_columns"),
        (lambda p: hostile.many_parts(p, 301), "workbook_too_many_parts"),
        (lambda p: hostile.many_cells(p, 10, 8_100), "file_too_many_cells"),
    ],
    ids=["dimension", "rows", "strings", "strings-renamed", "part", "cell", "columns", "parts",
         "cells"],
)  # fmt: skip
def test_a_hostile_form_is_refused_by_the_limit_it_breaks(
    tmp_path: Path, make: object, code: str
) -> None:
    path = tmp_path / "form.xlsx"
    make(path)  # type: ignore[operator]
    error = _form_error(path)
    assert error.code == code
    message = render(error.code, error.params)
    assert "%(" not in message and "gửi" in message  # says what to do, in Vietnamese


@pytest.mark.parametrize(
    "part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/sharedStrings.xml"]
)
def test_an_entity_in_any_part_is_a_damaged_file(tmp_path: Path, part: str) -> None:
    path = hostile.with_entity(tmp_path / "e.xlsx", part)
    assert _form_error(path).code == "file_corrupt"
    assert _registry_error(path).code == "file_corrupt"


def test_the_registry_has_room_for_a_big_list_but_not_for_a_hostile_one(tmp_path: Path) -> None:
    wide = hostile.wide_rows(tmp_path / "wide.xlsx", 300, 2)
    assert _registry_error(wide).params == {"sheet": "Cá nhân", "row": 1, "column": "GR"}
    cells = hostile.many_cells(tmp_path / "cells.xlsx", 10, 8_100)  # too many for a form
    assert sum(len(rows) for _s, rows in tabular.preread(str(cells), Limits())[1][1]) == 8_100  # type: ignore[arg-type]
    assert _registry_error(hostile.dimension_bomb(tmp_path / "dim.xlsx")).params["limit"] == 60_000


def test_blank_rows_count_and_trailing_empty_cells_do_not(tmp_path: Path) -> None:
    styled = '<c r="B2" s="1"/><c r="C2" t="inlineStr"><is><t></t></is></c>'
    rows = [hostile.row_xml(1, hostile.HEADER), hostile.row_xml(2, ["a"])[:-6] + styled + "</row>"]
    path = hostile.workbook(tmp_path / "t.xlsx", [*rows, hostile.row_xml(9, ["b"])])
    ((_sheet, read),) = [(s, list(r)) for s, r in read_sheets(path, max_bytes=MB)]
    assert [tuple(row) for row in read[1:]] == [("a",), *[()] * 6, ("b",)]
    small = Limits(rows=8)
    with pytest.raises(TableFileError, match="sheet_too_many_rows"):
        for _s, r in read_sheets(path, max_bytes=MB, limits=small):
            list(r)


def test_a_csv_with_a_huge_field_is_refused_whatever_its_size(tmp_path: Path) -> None:
    long_field = tmp_path / "long.csv"
    long_field.write_text("Họ và tên,Danh hiệu thi đua\n" + "A" * 40_000 + ",LĐTT\n")
    assert _form_error(long_field).code == "cell_too_long"
    huge_field = tmp_path / "huge.csv"  # beyond the csv module's own field limit
    huge_field.write_text("Họ và tên,Danh hiệu thi đua\n" + "A" * 200_000 + ",LĐTT\n")
    assert _form_error(huge_field).code == "file_not_table"


def test_a_reading_made_ahead_in_the_files_worker_is_the_one_the_step_uses(
    tmp_path: Path,
) -> None:
    bomb = hostile.dimension_bomb(tmp_path / "bomb.xlsx")
    digest, reading = offload.call(tabular.preread, str(bomb), FORM_LIMITS)
    assert reading[0] == "error" and reading[1] == "sheet_too_many_rows"
    good = tmp_path / "good.xlsx"
    an = hostile.row_xml(2, [1, "Lê Thị An", "Kế toán", "Lao động tiên tiến"])
    hostile.workbook(good, [hostile.row_xml(1, hostile.HEADER), an])
    digest, reading = offload.call(tabular.preread, str(good), FORM_LIMITS)
    assert reading[0] == "ok"
    duc = (1, "Trần Văn Đức", "Kỹ sư", "Lao động tiên tiến")
    tabular.remember(digest, FORM_LIMITS, ("ok", [("Cá nhân", [hostile.HEADER, duc])]))
    try:  # what was kept for this content is what the step reads, not the file again
        assert [r["name"] for r in read_form(good, regime=REGIME, max_bytes=MB).rows] == [
            "Trần Văn Đức"
        ]
    finally:
        tabular.remember(digest, FORM_LIMITS, reading)
    assert [r["name"] for r in read_form(good, regime=REGIME, max_bytes=MB).rows] == [
        "Lê Thị An"
    ]


def test_a_slow_reading_is_stopped_by_its_time_limit(tmp_path: Path) -> None:
    path = hostile.many_cells(tmp_path / "slow.xlsx", 10, 20_000)
    _digest, reading = offload.call(tabular.preread, str(path), Limits(seconds=0.05))
    assert reading == ("error", "file_too_slow", {"seconds": 1})


def test_a_few_files_a_minute_per_chat() -> None:
    rate = UploadRate(per_minute=3)
    taken = [rate.admit("t", "1", f"f{i}", 100.0 + i).taken for i in range(4)]
    assert taken == [True, True, True, False]
    assert rate.admit("t", "1", "f1", 104.0).taken  # the same file asked again
    assert rate.admit("t", "2", "g", 104.0).taken  # another chat has its own minute
    late = rate.admit("t", "1", "f9", 110.0)
    assert (late.taken, late.recent, late.wait) == (False, 3, 50)
    assert rate.admit("t", "1", "f9", 160.5).taken  # the first one has left the window


def test_the_seventh_file_in_a_minute_is_not_taken_and_nothing_is_lost(
    core, world, engine: Engine, tmp_path: Path  # type: ignore[no-untyped-def]  # noqa: F811
) -> None:
    chat: FakeChat = _contact(core, world)
    chat.press(REG)
    chat.press("Tải mẫu Excel")
    sent = next(r.file for r in chat.last.replies if r.file)
    form = tmp_path / "filled.xlsx"
    form.write_bytes(sent.path.read_bytes())
    _fill(form, [[1, "Nguyễn Thị Hoà", "Kế toán", "Lao động tiên tiến", "", ""]])
    chat.press("Gửi mẫu Excel đã điền")
    chat.send_file(form.read_bytes(), "ds.xlsx")
    chat.press("Đồng ý, dùng danh sách này")
    for index in range(5):
        chat.send_file(b"PK\x03\x04broken" + bytes([index]), "ds.xlsx")
    chat.send_file(form.read_bytes() + b"\x00", "ds.xlsx")
    assert "Anh/Chị đã gửi 6 tệp trong một phút vừa qua" in chat.said
    assert "gửi lại tệp này sau 60 giây" in chat.said
    with session_for(engine) as session:
        assert [n.name for n in session.exec(select(Nominee))] == ["Nguyễn Thị Hoà"]


def test_odd_digits_a_damaged_upload_and_a_forged_language_get_clear_answers(
    core, world, engine: Engine, tmp_path: Path  # type: ignore[no-untyped-def]  # noqa: F811
) -> None:
    chat: FakeChat = _contact(core, world)
    for typed in ("²", "①", "³", "9" * 5_000):
        chat.text(typed)
        assert "đã có lỗi khi xử lý" not in chat.said, typed
    chat.text("１")  # a full-width digit picks like "1"
    chat.press(REG)
    chat.press("Gửi mẫu Excel đã điền")
    entity = hostile.with_entity(tmp_path / "e.xlsx", "xl/workbook.xml")
    chat.send_file(entity.read_bytes(), "e.xlsx")
    assert "bị hỏng" in chat.said
    assert not list((Path(core.settings.data_dir) / "uploads").glob("*"))  # nothing kept
    chat._send(kind="choice", choice="g:lang:zzz")
    assert "chọn ngôn ngữ" in chat.said
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT language FROM conversation WHERE chat_id = :c"), {"c": chat.chat_id}
        ).scalar_one()
    assert stored in (None, "vi")
