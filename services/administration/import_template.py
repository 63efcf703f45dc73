"""The spreadsheet layout of case import (issue 5 §5): the column catalogue, the template an
institution fills in, and reading a filled-in .xlsx or .csv back into rows keyed by column."""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from services.errors import InvalidInput, Phrase, Said
from services.export import neutralise
from services.rules import jrt
from services.rules.intake_extras import SOURCES
from services.rules.policy import Label, Policy
from services.rules.validation import CONTENT_CHARS
from services.words import text as word


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    required: bool
    help: str = ""
    example: str = ""


COLUMNS = tuple(Column(*c) for c in (
    ("received_at", "受理时间", True, "YYYY-MM-DD HH:MM；未写时区的按北京时间", "2026-10-12 09:00"),
    ("channel", "渠道", True, "渠道代码或中文名称（见代码表）", "phone"),
    ("channel_note", "其他渠道说明", False, "渠道为“其他渠道”时必填，如 媒体（200 字以内）"),  # issue 11 §7
    # regulator transfers and agents (issue 11 §3, §5; RULES.md §7.2, §7.3)
    ("source", "投诉来源", False, "空白为本机构渠道；监管转办填来源代码或名称（见代码表），如 12378"),
    ("regulator_ref", "监管转办编号", False, "监管转办时必填"),
    ("transferred_on", "转办日期", False, "YYYY-MM-DD；监管转办时必填，不晚于受理日期"),
    ("agent_name", "代理人", False, "由代理人投诉时填写"),
    ("agent_authorisation", "授权委托书编号", False, "填写代理人时必填"),
    ("category", "类别", True, "类别代码或中文名称（见代码表）", ""),
    ("customer_name", "客户姓名", True, "", "张伟"),
    ("customer_phone", "联系方式", True, "", "13800138000"),
    ("customer_id_number", "证件号码", False),
    ("customer_account_no", "账号", False),
    ("content", "投诉内容", True, "", "柜员办理业务出错，要求更正"),
    ("compensation_claim", "索赔金额", False, "元，不小于 0；空白为 0", "0"),
    ("cause", "原因", False, "原因代码或中文名称（见代码表）；空白为代码表中的第一个原因"),
    ("flags", "标记", False, "标记代码或中文名称，多个用“、”或逗号分隔"),
    ("first_responder", "首问责任人", False, "用户名；空白为导入人（导入人不受理投诉时为首位受理员）", "clerk"),
    ("resolved_at_intake", "当场解决", False, "是/否：客户当场接受解释（需填事实认定、满意度）", "否"),
    ("forwarded_at", "转办时间", False, "已转办的填写"),
    ("department", "责任部门", False, "部门代码或名称；空白按政策包规则确定"),
    ("handler", "处理人", False, "用户名；转办时必填，须属于责任部门", "handler"),
    ("handling_form", "处理单内容", False, "转办时必填"),
    ("first_contact_at", "首次联系时间", False),
    ("first_contact_note", "联系情况", False, "空白记为“原表未记录”"),
    ("resolved_at", "办结时间", False),
    ("fact_finding", "事实认定", False, "办结或当场解决时必填"),
    ("measures", "处理措施", False, "办结时必填"),
    ("accountability", "责任追究", False, "办结时必填：对责任部门和责任人的处理"),
    ("compensation_paid", "赔付金额", False, "元，不小于 0"),
    ("signed_confirmation", "客户签字确认", False, "赔付金额大于 0 时必填"),
    ("feedback_at", "反馈时间", False),
    ("feedback_method", "反馈方式", False, "反馈时必填，如 电话"),
    # the proof of notification (RULES.md §7.2 art. 21): required with feedback where the pack has the statutory layer
    ("notification_method", "告知方式", False,
     "书面告知（当面送达）/书面告知（邮寄）/短信/电子邮件/录音电话，或其代码；启用法定时限层的机构反馈时必填",
     "书面告知（邮寄）"),
    ("notification_ref", "告知凭证编号", False, "如挂号信单号、录音编号；启用法定时限层的机构反馈时必填",
     "挂号信 XA123456789CN"),
    ("satisfaction", "满意度", False, "1–5 或 非常满意/满意/一般/不满意/非常不满意；反馈、回访、当场解决时必填"),
    ("return_visit_at", "回访时间", False),
    ("return_visit_method", "回访方式", False, "回访时必填"),
    ("return_visit_note", "回访情况", False, "回访时必填"),
    ("archived_at", "归档时间", False),
    # JR/T 0169-2018 codes (RULES.md §7.4); a bank case is filed only with all three
    ("jrt_channel", "JR/T 0169 渠道", False, "A1–A5（见代码表）；空白按受理信息建议（归档时）"),
    ("jrt_business", "JR/T 0169 业务类别", False, "B01–B12（见代码表）；空白按受理信息建议（归档时）"),
    ("jrt_cause", "JR/T 0169 投诉原因", False, "C01–C13（见代码表）；银行业归档时必填，可按类别建议"),
))
HEADER = {c.zh: c for c in COLUMNS} | {c.key: c for c in COLUMNS}
# Bounds on what one import may read (issue 8 §5): memory stays bounded whatever the file claims.
MAX_ROWS = 20_000
MAX_COLUMNS = 64  # the template has 42 columns
MAX_CELL_CHARS = CONTENT_CHARS
MAX_FILE_BYTES = 16 * 2**20
MAX_UNPACKED_BYTES = 64 * 2**20  # an .xlsx of MAX_ROWS full rows unpacks to well under this


def template_xlsx(policy: Policy | None = None) -> bytes:
    """The import template: Chinese headers over an English key row, a sheet explaining every column,
    and with `policy` the codes and labels of that pack."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.worksheets[0]  # a new workbook's one (active) sheet
    sheet.title = "案件"
    sheet.append([c.zh for c in COLUMNS])
    sheet.append([c.key for c in COLUMNS])
    for number, (cell, column) in enumerate(zip(sheet[1], COLUMNS, strict=True), start=1):
        cell.font = Font(bold=True, color="C00000" if column.required else "000000")
        sheet.column_dimensions[get_column_letter(number)].width = 16
    for cell in sheet[2]:
        cell.font, cell.fill = Font(italic=True, color="808080"), PatternFill("solid", fgColor="F2F2F2")
    sheet.freeze_panes = "A3"
    notes = book.create_sheet("说明")
    notes.append(["列名", "字段（第 2 行）", "必填", "说明", "示例"])
    for c in COLUMNS:
        notes.append([neutralise(v) for v in (c.zh, c.key, "是" if c.required else "", c.help, c.example)])
    notes.append([])
    notes.append(["数据从第 3 行开始（第 2 行英文字段行可保留），红色列名为必填；"
                  "所有行校验通过后才会导入，任一行有误则不导入任何案件。"])
    if policy is not None:
        codes = book.create_sheet("代码表")
        codes.append(["类型", "代码", "中文名称"])
        for kind, zh, values in (("channel", "渠道", policy.channels), ("category", "类别", policy.categories),
                                 ("flag", "标记", policy.flags), ("cause", "原因", policy.causes),
                                 ("department", "责任部门", policy.departments)):
            for code in values:
                codes.append([neutralise(v) for v in (zh, code, policy.label(kind, code))])  # labels are editable
        for dimension, key in jrt.COLUMNS.items():
            for code, label in jrt.VOCABULARY[dimension].items():
                codes.append([HEADER[key].zh, code, label.zh])
        for source in SOURCES[1:]:  # issue 11 §3
            codes.append(["投诉来源", source, word(f"source.{source}", "zh")])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row number the user sees in the spreadsheet
    values: dict[str, Any]  # column key → cell value


@dataclass(frozen=True)
class RowError:
    row: int
    column: str  # the Chinese header
    problem: Said  # a Phrase or a service's refusal, said in the reader's language (issue 9 §6)

    def message(self, lang: str) -> str:
        return self.problem.text(lang)


def cell_problem(key: str, problem: Said) -> Phrase:
    """A cell's problem names its column: the sheet's Chinese header, or its key for an English reader."""
    return Phrase("error.import.cell", column=Label(HEADER[key].zh, key), problem=problem)


def cell_text(value: Any) -> str:
    """A cell as trimmed text, "" when empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone or account number typed as a number
    return str(value).strip()


def read_rows(data: bytes, filename: str) -> tuple[list[SheetRow], list[RowError]]:
    """Rows of an .xlsx (first sheet, or 案件) or a .csv (UTF-8 with or without BOM, or GB18030 when it
    reads as Chinese). Sizes are bounded before anything is read (issue 8 §5): the file, the xlsx's
    unpacked size, rows, columns and characters per cell."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput("error.import.file_too_large", field="file", max_mb=MAX_FILE_BYTES // 2**20)
    if filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        grid = _xlsx_grid(data)
    elif filename.lower().endswith((".csv", ".txt")):
        grid = _csv_grid(data)
    else:
        raise InvalidInput("error.import.wrong_file_type", field="file")
    if not grid:
        return [], [RowError(1, "—", Phrase("error.import.empty_file"))]
    keys, errors = _header(grid[0])
    if any(isinstance(e.problem, Phrase) and e.problem.key == "error.import.missing_column" for e in errors):
        return [], errors  # every row would lack the column: the header is the one error
    start = 2 if len(grid) > 1 and _is_key_row(grid[1]) else 1  # the template's English key row
    rows = []
    for number, cells in enumerate(grid[start:], start=start + 1):
        values = {key: value for key, value in zip(keys, cells, strict=False) if key}
        if any(cell_text(v) for v in values.values()):
            too_long = _cell_errors(number, values)
            errors += too_long
            if not too_long:  # a row with an oversized cell is refused as it is, not checked further
                rows.append(SheetRow(number, values))
    if len(rows) > MAX_ROWS or len(grid) > MAX_ROWS + 2:  # the grid stops at MAX_ROWS + 3: there is more
        return [], [RowError(MAX_ROWS + start + 1, "—", Phrase("error.import.too_many_rows_split", most=MAX_ROWS))]
    return rows, errors


def _cell_errors(number: int, values: dict[str, Any]) -> list[RowError]:
    errors = []
    for key, value in values.items():  # no NUL check: XML cannot carry one, a CSV with one is refused whole
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            errors.append(RowError(number, HEADER[key].zh, cell_problem(key, Phrase("error.import.cell_over",
                                                                                         most=MAX_CELL_CHARS))))
    return errors


def _xlsx_grid(data: bytes) -> list[list[Any]]:
    """Read by calamine (a tenth of openpyxl's time: 10,000 rows in ~0.2 s, issue 13 §3) and bounded: the unpacked
    size first, then rows × MAX_COLUMNS. Cells as openpyxl's read-only mode gave them: empty is None, a date cell
    00:00 of its day; numbers are floats, which `cell_text` writes as typed."""
    from python_calamine import CalamineWorkbook

    unreadable = InvalidInput("error.import.not_xlsx", field="file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except zipfile.BadZipFile:
        raise unreadable from None
    if unpacked > MAX_UNPACKED_BYTES:  # a zip bomb, or far more than MAX_ROWS rows
        raise InvalidInput("error.import.xlsx_unpacks_too_large", field="file", max_mb=MAX_UNPACKED_BYTES // 2**20)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            sheet = book.get_sheet_by_name("案件" if "案件" in book.sheet_names else book.sheet_names[0])
            rows = sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS + 3)  # from A1: row numbers as Excel's
        finally:
            book.close()
    except Exception:  # calamine raises several kinds for a damaged file
        raise unreadable from None
    return [[_cell(value) for value in row[:MAX_COLUMNS]] for row in rows]


def _cell(value: Any) -> Any:
    if value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(0))  # a date cell: its day at 00:00, as openpyxl reads it
    return value


def _csv_grid(data: bytes) -> list[list[Any]]:
    if b"\x00" in data:
        raise InvalidInput("error.import.nul_in_file", field="file")
    text = _decoded(data)
    first = text.split("\n", 1)[0]
    dialect = csv.excel_tab if "\t" in first and "," not in first else csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:  # the csv module's own field limit (131,072) is far above MAX_CELL_CHARS
        return [row[:MAX_COLUMNS] for row in itertools.islice(reader, MAX_ROWS + 3)]
    except csv.Error:
        raise InvalidInput("error.import.cell_too_long", field="file", line=reader.line_num,
                           max_chars=MAX_CELL_CHARS) from None


def _decoded(data: bytes) -> str:
    """UTF-8 (with or without BOM) strictly; else GB18030 — Excel's "CSV" on Chinese Windows — only if
    the headers are the template's and the text reads as Chinese. Anything else is refused, never
    replaced: a Shift-JIS file would otherwise be imported as garbage (issue 8 §5)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is None or not _reads_as_chinese(text):
        raise InvalidInput("error.import.unknown_encoding", field="file")
    return text


def _reads_as_chinese(text: str) -> bool:
    """The header row names the template's columns, and nearly all non-ASCII characters are common
    Chinese (GB2312): Shift-JIS or Big5 bytes read as GB18030 give rare characters instead."""
    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0])), [])
    if not header or any(cell_text(c).rstrip("*＊").strip() not in HEADER for c in header if cell_text(c)):
        return False
    wide = [c for c in text if ord(c) > 127]
    common = sum(1 for c in wide if _in_gb2312(c))
    return not wide or common >= 0.95 * len(wide)


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _header(cells: list[Any]) -> tuple[list[str | None], list[RowError]]:
    keys: list[str | None] = []
    errors = []
    for cell in cells:
        name = cell_text(cell).rstrip("*＊").strip()
        column = HEADER.get(name) or HEADER.get(name.lower())
        if name and column is None:
            errors.append(RowError(1, name, Phrase("error.import.unknown_column", name=name)))
        elif column and column.key in keys:
            errors.append(RowError(1, column.zh, Phrase("error.import.duplicate_column")))
        keys.append(column.key if column and column.key not in keys else None)
    for column in COLUMNS:
        if column.required and column.key not in keys:
            errors.append(RowError(1, column.zh, Phrase("error.import.missing_column",
                                                         column=Label(column.zh, column.key))))
    return keys, errors


def _is_key_row(cells: list[Any]) -> bool:
    names = [cell_text(c) for c in cells if cell_text(c)]
    return len(names) >= 3 and all(n in HEADER and HEADER[n].key == n for n in names)

