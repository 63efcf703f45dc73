"""Import refuses what it cannot read faithfully, and reads within bounded memory (issue 8 §5):
a NUL byte, a 1 MB cell, a Shift-JIS file and an oversized or lying .xlsx each get a clear message,
by row and column where there is one, and import nothing."""

from __future__ import annotations

import csv
import io
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from services.administration import importer
from services.administration.import_template import MAX_CELL_CHARS, read_rows
from services.errors import InvalidInput
from tests.service.test_import import GOOD, KEYS, case_count, csv_bytes, xlsx


def run_import(inst, data: bytes, name: str) -> importer.ImportResult:
    with inst.uow() as uow:
        return importer.import_file(uow, inst.users["clerk"], data, name)


def refused(inst, data: bytes, name: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        run_import(inst, data, name)
    assert info.value.field == "file"
    assert case_count(inst) == 0
    return info.value


def test_a_nul_byte_in_a_csv_is_refused(futures) -> None:
    data = csv_bytes([GOOD[0]], "utf-8").replace("柜员".encode(), "柜\x00员".encode())
    assert "NUL" in refused(futures, data, "cases.csv").message("en")


def test_a_1_mb_csv_cell_is_refused_naming_the_row(futures) -> None:
    data = csv_bytes([GOOD[0], {**GOOD[0], "content": "长" * 1_000_000}], "utf-8")
    assert "3" in refused(futures, data, "cases.csv").message("zh")


def test_a_cell_over_the_limit_is_reported_by_row_and_column(futures) -> None:
    result = run_import(futures, xlsx([GOOD[0], {**GOOD[0], "content": "长" * (MAX_CELL_CHARS + 1)}]), "cases.xlsx")
    assert [(e.row, e.column) for e in result.errors] == [(4, "投诉内容")]
    assert case_count(futures) == 0


JAPANESE = {**GOOD[0], "channel": "phone", "customer_name": "山田太郎",
            "content": "窓口で手続きを誤った。訂正してほしい。"}


@pytest.mark.parametrize("header", ["keys", "japanese"])
def test_a_shift_jis_file_is_refused_with_a_save_as_utf8_hint(futures, header: str) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(KEYS if header == "keys" else ["受付日時", "チャネル", "区分", "氏名", "電話", "内容"])
    writer.writerow(["" if JAPANESE.get(k) is None else JAPANESE[k] for k in KEYS])
    exc = refused(futures, out.getvalue().encode("shift_jis"), "cases.csv")
    assert "UTF-8" in exc.message("zh") and "UTF-8" in exc.message("en")


def test_an_xlsx_that_unpacks_to_more_than_the_bound_is_refused_before_reading(futures) -> None:
    data = io.BytesIO(xlsx([GOOD[0]]))
    with zipfile.ZipFile(data, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (80 * 2**20))  # compresses to ~80 kB
    assert len(data.getvalue()) < 2**20
    assert "MB" in refused(futures, data.getvalue(), "cases.xlsx").message("en")


ROWS = 5_000  # padded to XFD these would be 5,000 × 16,384 cells: some 650 MB


def test_an_xlsx_claiming_every_column_of_every_row_is_read_in_bounded_memory() -> None:
    """Rows whose sheet claims every column: padded to 16,384 cells a row it took 716 MB; streamed, far less."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("案件")
    sheet.append([c.zh for c in importer.COLUMNS])
    for n in range(ROWS):
        sheet.append(["2026-10-12 09:00", "phone", "service_quality", "张伟", f"138{n:08d}", None, None,
                      f"柜员办理业务出错，第 {n} 号"])
    out = io.BytesIO()
    book.save(out)
    data = _patched(out.getvalue(), "xl/worksheets/sheet1.xml", "<sheetViews>",
                    f'<dimension ref="A1:XFD{ROWS + 1}"/><sheetViews>')
    tracemalloc.start()
    try:
        rows, errors = read_rows(data, "cases.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (len(rows), errors) == (ROWS, [])
    assert peak < 60 * 2**20, f"peak {peak / 2**20:.0f} MB"


def _patched(data: bytes, member: str, old: str, new: str) -> bytes:
    """A copy of the .xlsx with one member's XML edited."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == member:
                assert old.encode() in body, "nothing to patch"
                body = body.replace(old.encode(), new.encode(), 1)
            target.writestr(item, body)
    return out.getvalue()
