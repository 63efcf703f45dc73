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
from pathlib import Path
from typing import Any, NoReturn

from services.errors import DomainError, InvalidInput, Unexpected, log_unexpected
from services.rules import statutory
from services.rules.assess import assess, calendar_warning, parse_facts
from services.rules.calendar import WorkingCalendar, iso
from services.rules.packs import load_policy
from services.words import text

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

    p = commands.add_parser("setup", help="first-run set-up: admin, policy pack, demo institution (issue 3 §4)")
    p.add_argument("--pack", required=True, help="pack code, e.g. bank")
    p.add_argument("--admin", required=True, help="the admin's username")
    p.add_argument("--name", help="the admin's display name (default: the username)")
    p.add_argument("--password-file", required=True, help="file whose first line is the admin's password")
    p.add_argument("--demo", action="store_true", help="also load the demo institution")
    p.add_argument("--demo-cases", type=int, default=2000, help="number of demo cases (default 2000)")
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)

    # report, kpi and import (issue 5 §3, §5); report and kpi run as the system, over every department.
    p = commands.add_parser("report", help="the monthly compliance report, .xlsx or .html (RULES.md §6)")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--out", required=True, help="report.xlsx or report.html")
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)
    p = commands.add_parser("kpi", help="KPIs for a period by a dimension (RULES.md §5)")
    p.add_argument("--from", dest="first", required=True, help="YYYY-MM-DD")
    p.add_argument("--to", dest="last", required=True, help="YYYY-MM-DD")
    p.add_argument("--by", default="department", help="department|person|category|channel|grade|month|all")
    p.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)
    p = commands.add_parser("stats", help="JR/T 0169 quarterly complaint statistics, .xlsx (RULES.md §7.4)")
    p.add_argument("--quarter", required=True, help="YYYYQn, e.g. 2026Q3")
    p.add_argument("--out", required=True, help="stats.xlsx")
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)
    p = commands.add_parser("import", help="import cases from an .xlsx or .csv file (issue 5 §5)")
    p.add_argument("file", help="cases.xlsx or cases.csv")
    p.add_argument("--as", dest="username", required=True, help="the importing user")
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)

    # backup and restore (issue 8 §8), as the database's owner (DATABASE_URL, or the embedded server's).
    p = commands.add_parser("backup", help="one archive: pg_dump of the main and training databases + manifest")
    p.add_argument("--out", required=True, help="the archive to write, e.g. complaints-2026-11-30.tar")
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)
    p = commands.add_parser("restore", help="restore an archive into the configured database")
    p.add_argument("file", help="an archive written by `backup`")
    p.add_argument("--replace", action="store_true", help="overwrite a database that already holds data")
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)
    _audit_parser(commands)
    _escalate_parser(commands)
    _sample_size_parser(commands)
    return parser


def cmd_assess(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    facts = parse_facts(_read_facts(args.facts), policy, what_if=True)  # a planned receipt may lie ahead
    assessment = assess(policy, facts, calendar_for(args), args.lang)
    # What a case stores (reasons as data) plus the reasons and warnings rendered in --lang (issue 9 §6).
    # Each milestone with where its deadline comes from; the regulator's clock is marked (RULES.md §7.1).
    milestones = [{"code": m.code, "due": iso(m.due), "starts_at": iso(m.starts_at), "period": str(m.period),
                   "source": m.source, "statutory": m.code == statutory.MILESTONE} for m in assessment.milestones]
    result = {**assessment.to_json(), "milestones": milestones, "warnings": list(assessment.warnings),
              "explanation": list(assessment.explanation)}
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_calendar(args: argparse.Namespace) -> int:
    first, last = _date(args.first, "from"), _date(args.last, "to")
    calendar = calendar_for(args)
    if last < first:
        raise InvalidInput("error.cli.to_before_from", field="to")
    for day in calendar.days(first, last):
        name = f" {day.name}" if day.name else ""
        print(f"{day.day.isoformat()} {day.day:%a} {day.day_type}{name}")
    for year in range(first.year, last.year + 1):
        if not calendar.has_data(year):  # RULES.md §3: never silently pretend
            print(f"warning: {calendar_warning(year, args.lang)}", file=sys.stderr)
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    """Scripted first-run set-up; prints the demo users and their shared password once."""
    from demo.loader import set_up
    from services.unit_of_work import transaction  # only set-up needs a database

    try:
        with open(args.password_file, encoding="utf-8") as handle:
            password = handle.readline().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("error.cli.password_file_unreadable", field="password-file", exc=exc) from None
    with transaction() as uow:
        result = set_up(uow, pack=args.pack, admin_username=args.admin, admin_name=args.name or args.admin,
                        admin_password=password, demo=args.demo, demo_cases=args.demo_cases)
    print(text("cli.setup.done", args.lang, admin=result.admin_username, pack=result.pack))
    if result.demo:
        print(text("cli.setup.demo", args.lang, cases=result.demo_cases, seconds=f"{result.seconds:.1f}",
                   password=result.demo.password))
        for user in result.demo.users:
            print(f"{user.username}\t{user.display_name}\t{','.join(user.roles)}\t{user.department or '-'}")
    return 0


COMMANDS: dict[str, Command] = {"assess": cmd_assess, "calendar": cmd_calendar, "setup": cmd_setup}


def cmd_report(args: argparse.Namespace) -> int:
    from services.supervision.report import system_report, to_html, to_xlsx
    from services.unit_of_work import transaction

    with transaction(reading=True) as uow:  # DATABASE_READ_URL's standby when set (issue 13 §5)
        report = system_report(uow, args.month, lang=args.lang)  # headers in --lang (issue 9 §6)
    if args.out.lower().endswith((".html", ".htm")):
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(to_html(report, args.lang))
    else:
        to_xlsx(report, args.out)
    print(f"{report.title}: {args.out} ({len(report.tables)} tables)")
    return 0


def cmd_kpi(args: argparse.Namespace) -> int:
    from services.supervision.kpi import SYSTEM, kpi_frame
    from services.unit_of_work import transaction

    with transaction(reading=True) as uow:  # DATABASE_READ_URL's standby when set (issue 13 §5)
        frame = kpi_frame(uow, SYSTEM, date_from=_date(args.first, "from"), date_to=_date(args.last, "to"),
                          by=args.by)
    print(frame.to_json(orient="records", force_ascii=False) if args.json else frame.to_string(index=False))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from services.supervision.statistics import quarter_bounds, system_statistics, to_xlsx
    from services.unit_of_work import transaction

    quarter_bounds(args.quarter)  # a bad quarter is refused before the database is opened
    with transaction() as uow:
        built = system_statistics(uow, args.quarter, lang=args.lang)  # runs as the system, every department
    to_xlsx(built, args.out)
    print(f"{built.title}: {args.out} ({len(built.tables)} tables)")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from services.administration.importer import import_file, user_id_by_username
    from services.unit_of_work import transaction

    with transaction() as uow:
        result = import_file(uow, user_id_by_username(uow, args.username), args.file)
    for error in result.errors:  # every bad cell, one line each
        message = error.message(args.lang)
        print(f"error: row {error.row}, {error.column}: {message}", file=sys.stderr)
    for case_no in result.case_nos:
        print(case_no)
    return 2 if result.errors else 0


COMMANDS.update({"report": cmd_report, "kpi": cmd_kpi, "import": cmd_import, "stats": cmd_stats})


def cmd_backup(args: argparse.Namespace) -> int:
    from db.engine import database_url
    from services.administration.backup import backup

    manifest = backup(database_url(), Path(args.out))
    _print_manifest(args.out, manifest)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from db.engine import database_url
    from services.administration.backup import restore

    manifest = restore(Path(args.file), database_url(), replace=args.replace)
    _print_manifest(args.file, manifest)
    return 0


def _print_manifest(archive: str, manifest: dict[str, Any]) -> None:
    print(f"{archive}: {manifest['created_at']}, revision {manifest['revision']}")
    for database in manifest["databases"]:
        print(f"{database['name']}\t{sum(database['rows'].values())} rows")


COMMANDS.update({"backup": cmd_backup, "restore": cmd_restore})


# audit (issue 8 §7): exit 0 when the chain is intact, 1 naming the first bad row.
def _audit_parser(commands: Any) -> None:
    p = commands.add_parser("audit", help="the audit trail: `verify` checks its hash chain (issue 8 §7)")
    p.add_argument("step", choices=("verify",))
    p.add_argument("--head", help="SEQ:HASH written down from an earlier verify: also catches a cut or rewritten tail")
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)


def cmd_audit(args: argparse.Namespace) -> int:
    from services.institution.audit import verify
    from services.unit_of_work import transaction

    head = _head(args.head) if args.head else None
    with transaction() as uow:
        result = verify(uow.session, head)
    print(text("cli.audit.checked", args.lang, rows=result.rows, seq=result.head_seq, hash=result.head_hash))
    if result.intact:
        return 0
    problem = text(f"cli.audit.problem.{result.problem}", args.lang)
    print(text("cli.audit.broken", args.lang, seq=result.bad_seq, problem=problem), file=sys.stderr)
    return 1


def _head(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise InvalidInput("error.cli.bad_head", field="head", text=text)
    return int(seq), digest


COMMANDS["audit"] = cmd_audit


# escalate (issue 9 §8): the automatic escalations without anyone opening the board, e.g. from cron.
def _escalate_parser(commands: Any) -> None:
    p = commands.add_parser("escalate", help="record every automatic escalation now due, each exactly once")
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)


def cmd_escalate(args: argparse.Namespace) -> int:
    from services.casework.escalation import sweep
    from services.unit_of_work import transaction

    with transaction() as uow:  # several servers' cron at once: one sweeps, ON CONFLICT keeps each single
        created = sweep(uow)
    print(text("cli.escalate.busy", args.lang) if created is None else text("cli.escalate.created", args.lang,
                                                                             count=created))
    return 0


COMMANDS["escalate"] = cmd_escalate


# sample-size (issue 12 §1, RULES.md §8): pure arithmetic, no database.
def _sample_size_parser(commands: Any) -> None:
    p = commands.add_parser("sample-size", help="an auditor's sample size, attribute or ISO 2859-1 (RULES.md §8)")
    p.add_argument("--confidence", type=float, help="confidence level, e.g. 0.95")
    p.add_argument("--tolerable", type=float, help="tolerable deviation rate, e.g. 0.05")
    p.add_argument("--accepted", type=int, default=0, help="deviations accepted (default 0)")
    p.add_argument("--population", type=int, help="population size N: exact hypergeometric (binomial without it)")
    p.add_argument("--aql", action="store_true", help="ISO 2859-1 general level II for --population; no rates")
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS)


def cmd_sample_size(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from services.rules.audit_sampling import attribute_sample_size, iso2859_level_ii

    if args.aql:
        if args.population is None:
            raise InvalidInput("error.cli.aql_needs_population", field="population")
        size = iso2859_level_ii(args.population)
    else:
        if args.confidence is None or args.tolerable is None:
            raise InvalidInput("error.cli.attribute_needs_rates", field="confidence" if args.confidence is None
                               else "tolerable")
        size = attribute_sample_size(args.confidence, args.tolerable, args.accepted, args.population)
    print(json.dumps({name: value for name, value in asdict(size).items() if value is not None}, ensure_ascii=False))
    return 0


COMMANDS["sample-size"] = cmd_sample_size


def calendar_for(args: argparse.Namespace) -> WorkingCalendar:
    """The shipped calendar, or with `--db` the institution's edited one (RULES.md §3)."""
    if not args.db:
        return WorkingCalendar.shipped()
    from services.unit_of_work import UnitOfWork  # only --db needs a database

    with UnitOfWork() as uow:
        return uow.calendar()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except DomainError as exc:
        return _refuse(exc, args.lang)
    except Exception as exc:  # no traceback: a database error would print the customer's row (issue 8 §5)
        _refuse(Unexpected(log_unexpected(exc)), args.lang)
        return 1


def _refuse(exc: DomainError, lang: str) -> int:
    message = " ".join(exc.message(lang).split())  # exactly one line
    print(f"error: {exc.field or exc.code}: {message}", file=sys.stderr)
    return 2


def _read_facts(text: str) -> Any:
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise InvalidInput("error.cli.file_unreadable", field="facts", exc=exc) from None
    try:
        return json.loads(text, parse_float=Decimal)  # amounts stay exact
    except json.JSONDecodeError as exc:
        raise InvalidInput("error.cli.facts_malformed_json", field="facts", exc=exc) from None


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("error.cli.bad_date", field=field, text=text) from None


if __name__ == "__main__":
    sys.exit(main())
