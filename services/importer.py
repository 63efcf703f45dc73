"""Import of cases from a spreadsheet, for institutions moving off Excel (issue 5 §5).

Every row is checked first and every error is reported by row and column; nothing is imported unless
all rows are valid. Valid rows become cases through `services.cases` (intake, then forward, first
contact, resolve, feedback, return visit and archive at the sheet's times), so assessment and
deadlines follow the same rules as typed-in cases — all in one transaction.

Decisions: a time without a zone is Beijing time (Asia/Shanghai, RULES.md §3), one with an offset keeps
it; a text date without a time is refused (the futures and branch deadlines count hours), while an
Excel date cell is taken as 00:00. Codes or their Chinese labels in the active pack are accepted. The
one satisfaction column serves feedback and the return visit. Withdrawn and invalid closures and
extensions are not imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select

from db.engine import UnitOfWork
from db.models import AuditEvent, CaseEvent, Department, User
from services import cases
from services.access import ACTION_ROLES, load_actor
from services.calendar import SHANGHAI
from services.calendar_store import load_calendar
from services.errors import DomainError, InvalidInput, NotFound, NotPermitted
from services.policy import Policy
from services.rules import assess, parse_facts
from services.settings import active_policy

MAX_ROWS = 20000
LENGTHS = {"customer_name": 128, "customer_phone": 32, "customer_id_number": 32, "customer_account_no": 64,
           "first_responder": 64, "handler": 64}  # the columns' sizes in db/models.py


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
    ("category", "类别", True, "类别代码或中文名称（见代码表）", ""),
    ("customer_name", "客户姓名", True, "", "张伟"),
    ("customer_phone", "联系方式", True, "", "13800138000"),
    ("customer_id_number", "证件号码", False),
    ("customer_account_no", "账号", False),
    ("content", "投诉内容", True, "", "柜员办理业务出错，要求更正"),
    ("compensation_claim", "索赔金额", False, "元，不小于 0；空白为 0", "0"),
    ("cause", "原因", False, "branch/company 或 营业部原因/公司原因；空白为营业部原因"),
    ("flags", "标记", False, "标记代码或中文名称，多个用“、”或逗号分隔"),
    ("first_responder", "首问责任人", False, "用户名；空白为导入人", "clerk"),
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
    ("satisfaction", "满意度", False, "1–5 或 非常满意/满意/一般/不满意/非常不满意；反馈、回访、当场解决时必填"),
    ("return_visit_at", "回访时间", False),
    ("return_visit_method", "回访方式", False, "回访时必填"),
    ("return_visit_note", "回访情况", False, "回访时必填"),
    ("archived_at", "归档时间", False),
))
HEADER = {c.zh: c for c in COLUMNS} | {c.key: c for c in COLUMNS}
STEPS = ("received_at", "forwarded_at", "first_contact_at", "resolved_at", "feedback_at", "return_visit_at",
         "archived_at")
CAUSES = {"branch": "branch", "company": "company", "营业部原因": "branch", "公司原因": "company"}
SATISFACTION: dict[str, Any] = {str(k): k for k in cases.SATISFACTION} | {v: k for k, v in cases.SATISFACTION.items()}


def template_xlsx(policy: Policy | None = None) -> bytes:
    """The import template: Chinese headers over an English key row, a sheet explaining every column,
    and with `policy` the codes and labels of that pack."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "案件"
    sheet.append([c.zh for c in COLUMNS])
    sheet.append([c.key for c in COLUMNS])
    for cell, column in zip(sheet[1], COLUMNS, strict=True):
        cell.font = Font(bold=True, color="C00000" if column.required else "000000")
        sheet.column_dimensions[cell.column_letter].width = 16
    for cell in sheet[2]:
        cell.font, cell.fill = Font(italic=True, color="808080"), PatternFill("solid", fgColor="F2F2F2")
    sheet.freeze_panes = "A3"
    notes = book.create_sheet("说明")
    notes.append(["列名", "字段（第 2 行）", "必填", "说明", "示例"])
    for c in COLUMNS:
        notes.append([c.zh, c.key, "是" if c.required else "", c.help, c.example])
    notes.append([])
    notes.append(["数据从第 3 行开始（第 2 行英文字段行可保留），红色列名为必填；"
                  "所有行校验通过后才会导入，任一行有误则不导入任何案件。"])
    if policy is not None:
        codes = book.create_sheet("代码表")
        codes.append(["类型", "代码", "中文名称"])
        for kind, zh, values in (("channel", "渠道", policy.channels), ("category", "类别", policy.categories),
                                 ("flag", "标记", policy.flags), ("department", "责任部门", policy.departments)):
            for code in values:
                codes.append([zh, code, policy.label(kind, code)])
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
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class ImportResult:
    case_nos: tuple[str, ...] = ()
    errors: tuple[RowError, ...] = ()

    @property
    def imported(self) -> int:
        return len(self.case_nos)


@dataclass
class _Plan:
    """A valid row, ready to be replayed through the lifecycle use cases."""

    row: int
    responder_id: int
    form: dict[str, Any]
    times: dict[str, datetime | None]
    values: dict[str, Any] = field(default_factory=dict)


class _Context:
    """What every row is checked against: the active pack, people, departments, the calendar."""

    def __init__(self, uow: UnitOfWork, actor_id: int | None) -> None:
        session = uow.session
        self.policy: Policy = active_policy(session)
        self.calendar = load_calendar(session)
        self.now = datetime.now(SHANGHAI)
        self.actor = load_actor(session, actor_id) if actor_id is not None else None
        self.users = {u.username: u for u in session.scalars(select(User))}
        departments = list(session.scalars(select(Department).where(Department.active)))
        self.department_ids = {d.code: d.id for d in departments}
        p = self.policy
        self.vocab = {
            "channel": _vocab(p.channels, lambda c: [p.label("channel", c)]),
            "category": _vocab(p.categories, lambda c: [p.label("category", c)]),
            "flags": _vocab(p.flags, lambda c: [p.label("flag", c)]),
            "department": _vocab({d.code: d for d in departments},
                                 lambda c: [p.label("department", c), *(d.name for d in departments if d.code == c)]),
            "cause": CAUSES, "satisfaction": SATISFACTION,
        }


def _vocab(codes: Mapping[str, Any], labels: Callable[[str], list[str]]) -> dict[str, str]:
    """code, label, and the label's head before a colon (业务类：… → 业务类), lower-cased → code."""
    out: dict[str, str] = {}
    for code in codes:
        for name in (code, *labels(code)):
            out[name.lower()] = code
            out.setdefault(name.split("：")[0].strip().lower(), code)
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone or account number typed as a number
    return str(value).strip()


class _Cells:
    """Reads one row's cells, adding an error per bad cell instead of stopping at the first."""

    def __init__(self, row: SheetRow, errors: list[RowError], context: _Context) -> None:
        self.row, self.errors, self.ctx = row, errors, context

    def fail(self, key: str, zh: str, en: str) -> None:
        self.errors.append(RowError(self.row.number, HEADER[key].zh, zh, f"{key}: {en}"))

    def text(self, key: str, required: bool = False) -> str:
        value = _text(self.row.values.get(key))
        if required and not value:
            self.fail(key, "必填。", "is required.")
        if len(value) > LENGTHS.get(key, 10000):
            self.fail(key, f"不能超过 {LENGTHS.get(key, 10000)} 个字符。", f"is longer than {LENGTHS.get(key, 10000)}.")
        return value

    def needed(self, key: str, when: str) -> str:
        value = self.text(key)
        if not value:
            self.fail(key, f"填写了“{HEADER[when].zh}”时必填。", f"is required with {when}.")
        return value

    def instant(self, key: str, required: bool = False) -> datetime | None:
        value = self.row.values.get(key)
        if isinstance(value, datetime):
            at = value
        elif not _text(value):
            return None if not required else self.fail(key, "必填。", "is required.")
        else:
            at = _parse_time(_text(value))
            if at is None:
                return self.fail(key, f"无法识别的时间“{_text(value)}”，应为 YYYY-MM-DD HH:MM。",
                                 f"cannot read the time '{_text(value)}': expected YYYY-MM-DD HH:MM.")
        at = at.replace(tzinfo=SHANGHAI) if at.tzinfo is None else at  # no zone → Beijing time
        if at > self.ctx.now:
            return self.fail(key, "不能晚于当前时间。", "cannot be in the future.")
        return at

    def amount(self, key: str) -> Decimal:
        text = self.text(key).replace(",", "").replace("，", "")
        try:
            amount = Decimal(text or 0)
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0:
            self.fail(key, "金额应为不小于 0 的数字（元）。", "must be an amount in CNY, 0 or more.")
            return Decimal(0)
        return amount

    def choice(self, key: str, required: bool = False) -> Any:
        text, vocab = self.text(key, required), self.ctx.vocab[key]
        if text and text.lower() not in vocab:
            self.fail(key, f"无法识别“{text}”（可填本政策包的代码或中文名称，见模板）。",
                      f"'{text}' is not a known code or label in this pack (see the template).")
        return vocab.get(text.lower()) if text else None

    def choices(self, key: str) -> list[str]:
        parts = [p.strip() for p in self.text(key).replace("，", ",").replace("、", ",").replace(";", ",")
                 .replace("；", ",").split(",") if p.strip()]
        unknown = [p for p in parts if p.lower() not in self.ctx.vocab[key]]
        if unknown:
            self.fail(key, f"未知的标记：{'、'.join(unknown)}。", f"unknown flags: {', '.join(unknown)}.")
        return sorted({self.ctx.vocab[key][p.lower()] for p in parts if p not in unknown})

    def yes(self, key: str) -> bool:
        text = self.text(key).lower()
        if text not in ("", "是", "否", "y", "n", "yes", "no", "true", "false", "1", "0"):
            self.fail(key, "应填“是”或“否”。", "must be yes or no.")
        return text in ("是", "y", "yes", "true", "1")


def _parse_time(text: str) -> datetime | None:
    text = text.replace("年", "-").replace("月", "-").replace("日", " ").replace("/", "-").replace("  ", " ").strip()
    try:
        at = datetime.fromisoformat(text)
        return at if (":" in text) else None  # a bare date has no time of day
    except ValueError:
        pass
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def validate_rows(uow: UnitOfWork, rows: Sequence[SheetRow], actor_id: int | None = None) -> list[RowError]:
    """Every error of every row, by row and column; `actor_id` is the default first responder."""
    return _check(_Context(uow, actor_id), rows)[1]


def _check(ctx: _Context, rows: Sequence[SheetRow]) -> tuple[list[_Plan], list[RowError]]:
    errors: list[RowError] = []
    if len(rows) > MAX_ROWS:
        return [], [RowError(MAX_ROWS + 2, "—", f"一次最多导入 {MAX_ROWS} 行。", f"At most {MAX_ROWS} rows at a time.")]
    plans = []
    for row in rows:
        before = len(errors)
        plan = _plan(_Cells(row, errors, ctx))
        if len(errors) == before:
            plans.append(plan)
    return plans, errors


def _plan(c: _Cells) -> _Plan:
    at_intake = c.yes("resolved_at_intake")
    form = {"received_at": c.instant("received_at", required=True), "channel": c.choice("channel", True),
            "category": c.choice("category", True), "customer_name": c.text("customer_name", True),
            "customer_phone": c.text("customer_phone", True), "content": c.text("content", True),
            "customer_id_number": c.text("customer_id_number") or None,
            "customer_account_no": c.text("customer_account_no") or None,
            "compensation_claim": c.amount("compensation_claim"), "cause": c.choice("cause") or "branch",
            "flags": c.choices("flags")}
    times = {key: c.instant(key) for key in STEPS[1:]}
    values = {"satisfaction": c.choice("satisfaction"), "department": c.choice("department"),
              "compensation_paid": c.amount("compensation_paid")}
    _check_order(c, form["received_at"], times, at_intake)
    if at_intake:
        form.update(resolved_at_intake=True, explanation=c.needed("fact_finding", "resolved_at_intake"),
                    satisfaction=values["satisfaction"] or c.needed("satisfaction", "resolved_at_intake"))
    _check_steps(c, times, values)
    responder = _responder(c, times, at_intake)
    department = values["department"] or _assessed_department(c, form)
    if times["forwarded_at"] and department:
        values["handler_id"] = _handler(c, department)
    values["department"] = department
    return _Plan(c.row.number, responder, form, times, values)


def _check_order(c: _Cells, received: datetime | None, times: dict[str, datetime | None], at_intake: bool) -> None:
    """Steps follow the lifecycle (RULES.md §2): each needs the one before it, and never comes earlier."""
    done = {"received_at": received, **times}
    if at_intake:
        for key in ("forwarded_at", "first_contact_at", "resolved_at", "feedback_at"):
            if times[key]:
                c.fail(key, "当场解决的案件不应填写此时间。", "must be empty for a case resolved at intake.")
        done.update(forwarded_at=received, resolved_at=received, feedback_at=received)
    needs = {"first_contact_at": "forwarded_at", "resolved_at": "forwarded_at", "feedback_at": "resolved_at",
             "return_visit_at": "feedback_at", "archived_at": "feedback_at"}
    for key, before in needs.items():
        if times[key] and not done[before]:
            c.fail(key, f"缺少“{HEADER[before].zh}”。", f"needs {before}.")
    previous: tuple[str, datetime] | None = None
    for key in STEPS:
        at = done.get(key)
        if at is None:
            continue
        if previous and at < previous[1]:
            c.fail(key, f"不能早于“{HEADER[previous[0]].zh}”。", f"cannot be before {previous[0]}.")
        previous = (key, at)


def _check_steps(c: _Cells, times: dict[str, datetime | None], values: dict[str, Any]) -> None:
    """The data each transition requires (RULES.md §2), read only where the sheet gives that step."""
    if times["forwarded_at"]:
        values["handling_form"] = c.needed("handling_form", "forwarded_at")
    values["first_contact_note"] = c.text("first_contact_note") or "表格导入：原表未记录联系内容"
    if times["resolved_at"]:
        for key in ("fact_finding", "measures", "accountability"):
            values[key] = c.needed(key, "resolved_at")
        if values["compensation_paid"] > 0:
            values["signed_confirmation"] = c.needed("signed_confirmation", "compensation_paid")
    if times["feedback_at"]:
        values["feedback_method"] = c.needed("feedback_method", "feedback_at")
    for step in ("feedback_at", "return_visit_at"):
        if times[step] and not values["satisfaction"]:
            c.needed("satisfaction", step)
    if times["return_visit_at"]:
        values["return_visit_method"] = c.needed("return_visit_method", "return_visit_at")
        values["return_visit_note"] = c.needed("return_visit_note", "return_visit_at")
    if times["archived_at"] and times["resolved_at"] and c.ctx.policy.return_visit_required \
            and not times["return_visit_at"]:
        c.fail("archived_at", "本政策包要求回访后才能归档。", "this pack requires a return visit before archiving.")


def _acts(c: _Cells, key: str, username: str | None, actions: list[str]) -> int:
    """The user named in `key` (or the importing user), checked for every action they will perform."""
    user = c.ctx.users.get(username) if username else None
    if username and (user is None or not user.active):
        c.fail(key, f"用户“{username}”不存在或已停用。", f"user '{username}' does not exist or is disabled.")
        return 0
    user_id = user.id if user else (c.ctx.actor.id if c.ctx.actor else 0)
    roles = set(user.roles) if user else (set(c.ctx.actor.roles) if c.ctx.actor else set())
    refused = [a for a in actions if not roles & ACTION_ROLES[a]]
    if not user_id or refused:
        who = username or (c.ctx.actor.username if c.ctx.actor else "")
        c.fail(key, f"“{who or '导入人'}”无权执行：{'、'.join(refused) or 'intake'}；请填写有权限的人员。",
               f"'{who or 'the importing user'}' may not: {', '.join(refused) or 'intake'}; name someone who may.")
    return user_id


def _responder(c: _Cells, times: dict[str, datetime | None], at_intake: bool) -> int:
    steps = {"forward": "forwarded_at", "feedback": "feedback_at", "return_visit": "return_visit_at",
             "archive": "archived_at"}
    actions = ["intake"] + [a for a, key in steps.items() if times[key] and not (at_intake and a == "feedback")]
    return _acts(c, "first_responder", c.text("first_responder") or None, actions)


def _handler(c: _Cells, department: str) -> int:
    """The handler the case is forwarded to: of that department, and able to handle (seed 000 art. 17(2))."""
    username = c.needed("handler", "forwarded_at")
    user = c.ctx.users.get(username)
    if user is not None and user.department_id != c.ctx.department_ids.get(department):
        c.fail("handler", f"处理人“{username}”不属于责任部门“{department}”。",
               f"handler '{username}' is not in department '{department}'.")
        return 0
    return _acts(c, "handler", username, ["resolve"]) if username else 0


def _assessed_department(c: _Cells, form: dict[str, Any]) -> str | None:
    """The department the rules give, as intake would compute it (RULES.md §4)."""
    keys = ("received_at", "channel", "category", "compensation_claim", "cause", "flags")
    if any(e.row == c.row.number and e.column in {HEADER[k].zh for k in keys} for e in c.errors):
        return None  # already reported; the rest of the row is still checked
    facts = {k: form[k] for k in keys}
    try:
        return assess(c.ctx.policy, parse_facts(facts, c.ctx.policy), c.ctx.calendar).responsible_department
    except DomainError as exc:
        c.fail(exc.field if exc.field in HEADER else "received_at", exc.zh, exc.en)
        return None


# --- reading files and importing ---------------------------------------------------------------


def read_rows(data: bytes, filename: str) -> tuple[list[SheetRow], list[RowError]]:
    """Rows of an .xlsx (first sheet, or 案件) or a .csv (UTF-8 with or without BOM, else GB18030)."""
    if filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        grid = _xlsx_grid(data)
    elif filename.lower().endswith((".csv", ".txt")):
        grid = _csv_grid(data)
    else:
        raise InvalidInput("只能导入 .xlsx 或 .csv 文件。", "Only .xlsx and .csv files can be imported.", field="file")
    if not grid:
        return [], [RowError(1, "—", "文件是空的。", "The file is empty.")]
    keys, errors = _header(grid[0])
    if any(e.message_en.startswith("Missing") for e in errors):
        return [], errors  # every row would lack the column: the header is the one error
    start = 2 if len(grid) > 1 and _is_key_row(grid[1]) else 1  # the template's English key row
    rows = []
    for number, cells in enumerate(grid[start:], start=start + 1):
        values = {key: value for key, value in zip(keys, cells, strict=False) if key}
        if any(_text(v) for v in values.values()):
            rows.append(SheetRow(number, values))
    return rows, errors


def _xlsx_grid(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InvalidInput(f"无法读取 Excel 文件：{exc}", f"Cannot read the Excel file: {exc}", field="file") from None
    sheet = book["案件"] if "案件" in book.sheetnames else book.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _csv_grid(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")  # Excel's "CSV" on Chinese Windows
    dialect = csv.excel_tab if "\t" in text.split("\n", 1)[0] and "," not in text.split("\n", 1)[0] else csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _header(cells: list[Any]) -> tuple[list[str | None], list[RowError]]:
    keys: list[str | None] = []
    errors = []
    for cell in cells:
        name = _text(cell).rstrip("*＊").strip()
        column = HEADER.get(name) or HEADER.get(name.lower())
        if name and column is None:
            errors.append(RowError(1, name, f"未知的列“{name}”，请使用模板中的列名。",
                                   f"Unknown column '{name}': use the template's headers."))
        elif column and column.key in keys:
            errors.append(RowError(1, column.zh, "列名重复。", "Duplicate column."))
        keys.append(column.key if column and column.key not in keys else None)
    for column in COLUMNS:
        if column.required and column.key not in keys:
            errors.append(RowError(1, column.zh, "缺少必填列。", f"Missing required column {column.key}."))
    return keys, errors


def _is_key_row(cells: list[Any]) -> bool:
    names = [_text(c) for c in cells if _text(c)]
    return len(names) >= 3 and all(n in HEADER and HEADER[n].key == n for n in names)


class _DeferredCommit(UnitOfWork):
    """The outer transaction, lent to use cases that commit: their commit only flushes, so the
    whole import commits — or rolls back — once (cosmicpython's unit of work, one level up)."""

    def __init__(self, outer: UnitOfWork) -> None:  # no super().__init__: the session is the outer one
        self.session = outer.session

    def commit(self) -> None:
        self.session.flush()


def user_id_by_username(uow: UnitOfWork, username: str) -> int:
    """For the command line's `--as USERNAME`."""
    user_id = uow.session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise NotFound(f"用户“{username}”不存在。", f"User '{username}' does not exist.", field="as")
    return user_id


def import_file(uow: UnitOfWork, actor_id: int, path_or_bytes: str | Path | bytes,
                filename: str | None = None) -> ImportResult:
    """Validate every row, then import all of them in one transaction, or none."""
    actor = load_actor(uow.session, actor_id)
    if not actor.roles & (ACTION_ROLES["intake"] | ACTION_ROLES["administer"]):
        raise NotPermitted("只有受理人员和管理员可以导入案件。", "Only intake staff and admins may import cases.")
    if isinstance(path_or_bytes, bytes):
        data, name = path_or_bytes, filename or "upload.xlsx"
    else:
        try:
            data, name = Path(path_or_bytes).read_bytes(), filename or Path(path_or_bytes).name
        except OSError as exc:
            raise InvalidInput(f"无法读取文件：{exc}", f"cannot read the file: {exc}", field="file") from None
    rows, errors = read_rows(data, name)
    if not rows and not errors:
        errors = [RowError(2, "—", "文件中没有案件。", "The file has no cases.")]
    plans, row_errors = _check(_Context(uow, actor_id), rows)
    if errors or row_errors:
        return ImportResult(errors=tuple(errors + row_errors))
    tx = _DeferredCommit(uow)
    case_nos = []
    for plan in plans:
        try:
            case_nos.append(_replay(tx, plan, actor.id, f"{name} 第 {plan.row} 行"))
        except DomainError as exc:  # a rule the checks above did not foresee: report it, import nothing
            uow.session.rollback()
            column = HEADER[exc.field].zh if exc.field in HEADER else "—"
            return ImportResult(errors=(RowError(plan.row, column, exc.zh, exc.en),))
    uow.session.add(AuditEvent(actor_id=actor.id, action="cases_imported",
                               detail={"file": name, "rows": len(plans), "cases": case_nos}))
    uow.commit()
    return ImportResult(case_nos=tuple(case_nos))


def _replay(tx: UnitOfWork, plan: _Plan, actor_id: int, origin: str) -> str:
    """The case's lifecycle, step by step at the sheet's times, through the same use cases as the UI."""
    t, v, responder = plan.times, plan.values, plan.responder_id
    ref = cases.intake(tx, responder, plan.form)
    steps: list[tuple[str, Callable[..., cases.CaseRef], int, dict[str, Any]]] = [
        ("forwarded_at", cases.forward, responder, {"department": v.get("department"), "handler_id": v.get(
            "handler_id"), "handling_form": v.get("handling_form")}),
        ("first_contact_at", cases.first_contact, v.get("handler_id"), {"note": v.get("first_contact_note")}),
        ("resolved_at", cases.resolve, v.get("handler_id"), {k: v.get(k) for k in (
            "fact_finding", "measures", "accountability", "compensation_paid", "signed_confirmation")}),
        ("feedback_at", cases.feedback, responder, {"method": v.get("feedback_method"),
                                                    "satisfaction": v.get("satisfaction")}),
        ("return_visit_at", cases.return_visit, responder, {"method": v.get("return_visit_method"),
                                                            "satisfaction": v.get("satisfaction"),
                                                            "note": v.get("return_visit_note")}),
        ("archived_at", cases.archive, responder, {}),
    ]
    for key, action, who, values in steps:
        if t[key]:
            ref = action(tx, who, ref.case_no, ref.version, **values, at=t[key])
    tx.session.add(CaseEvent(case_id=ref.id, at=datetime.now(SHANGHAI), actor_id=actor_id, event_type="note",
                             from_state=ref.state, to_state=ref.state, note=f"表格导入：{origin}",
                             data={"imported_from": origin}))
    return ref.case_no
