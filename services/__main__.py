"""Command line: `python -m services <command> ...`; one small function per command.

Exit codes: 0 done, 2 bad input (one `error: <field>: <message>` line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NoReturn

from services.calendar import WorkingCalendar
from services.errors import DomainError, InvalidInput
from services.policy import load_policy
from services.rules import assess, calendar_warning, parse_facts

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one stderr line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m services", description=__doc__)
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of texts")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = commands.add_parser("assess", help="grade, route and time a complaint (RULES.md §4)")
    p.add_argument("--policy", required=True, help="pack code, e.g. securities")
    p.add_argument("--facts", required=True, help="facts as JSON, or @file.json")
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)
    p.add_argument("--db", action="store_true", help="use the institution's calendar from the database")

    p = commands.add_parser("calendar", help="list days with their working-day type (RULES.md §3)")
    p.add_argument("--from", dest="first", required=True, help="YYYY-MM-DD")
    p.add_argument("--to", dest="last", required=True, help="YYYY-MM-DD")
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)
    p.add_argument("--db", action="store_true", help="use the institution's calendar from the database")
    return parser


def cmd_assess(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    facts = parse_facts(_read_facts(args.facts), policy)
    result = assess(policy, facts, calendar_for(args), args.lang).to_json()
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_calendar(args: argparse.Namespace) -> int:
    first, last = _date(args.first, "from"), _date(args.last, "to")
    calendar = calendar_for(args)
    if last < first:
        raise InvalidInput("结束日期早于开始日期", "is before --from", field="to")
    for day in calendar.days(first, last):
        name = f" {day.name}" if day.name else ""
        print(f"{day.day.isoformat()} {day.day:%a} {day.day_type}{name}")
    for year in range(first.year, last.year + 1):
        if not calendar.has_data(year):  # RULES.md §3: never silently pretend
            print(f"warning: {calendar_warning(year, args.lang)}", file=sys.stderr)
    return 0


COMMANDS: dict[str, Command] = {"assess": cmd_assess, "calendar": cmd_calendar}


def calendar_for(args: argparse.Namespace) -> WorkingCalendar:
    """The shipped calendar, or with `--db` the institution's edited one (RULES.md §3)."""
    if not args.db:
        return WorkingCalendar.shipped()
    from db.engine import UnitOfWork  # only --db needs a database
    from services.calendar_store import load_calendar

    with UnitOfWork() as uow:
        return load_calendar(uow.session)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except DomainError as exc:
        message = " ".join(exc.message(args.lang).split())  # exactly one line
        print(f"error: {exc.field or exc.code}: {message}", file=sys.stderr)
        return 2


def _read_facts(text: str) -> Any:
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise InvalidInput(f"无法读取文件：{exc}", f"cannot read file: {exc}",
                               field="facts") from None
    try:
        return json.loads(text, parse_float=Decimal)  # amounts stay exact
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"JSON 格式错误：{exc}", f"malformed JSON: {exc}", field="facts") from None


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"应为 YYYY-MM-DD：{text}", f"expected YYYY-MM-DD: {text}",
                           field=field) from None


if __name__ == "__main__":
    sys.exit(main())
