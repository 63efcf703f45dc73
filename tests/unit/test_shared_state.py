"""Several app servers share one database (issue 13 §5): nothing read from it may be kept in a server's memory,
or two servers would show different figures and one would go stale. Every cache in the code (a cached function,
or a module-level container that starts empty) is listed here with why it is safe; a new one has to be argued
for."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("services", "db", "demo", "dashboard", "pages")
CACHES = {"cache", "lru_cache", "cache_data", "cache_resource", "memo", "singleton", "experimental_memo"}
ALLOWED = {
    # connection pools, one per process and database
    ("dashboard/session.py", "_engine"), ("dashboard/session.py", "_training_engine"),
    ("dashboard/session.py", "_read_engine"), ("dashboard/server.py", "_engine"),
    ("db/engine.py", "owner_engine"), ("db/engine.py", "app_engine"), ("db/engine.py", "read_engine"),
    ("db/engine.py", "training_engine"),
    # the cookie key: the same on every server by configuration (COMPLAINTS_SECRET_KEY), never from the database
    ("dashboard/cookie.py", "secret_key"),
    # a random bcrypt hash for unknown user names: any value will do
    ("services/institution/auth.py", "_dummy_hash"),
    # files of the checkout, the same on every server of one version: shipped packs, the shipped calendar,
    # training scenarios, the compiled word catalogues
    ("services/rules/packs.py", "load_policy"), ("services/rules/calendar.py", "shipped"),
    ("services/training/scenarios/__init__.py", "load_scenarios"), ("services/words.py", "catalogue"),
    # a pack parsed from the admin's edited copy, keyed by that copy's content: an edit is a new key
    ("services/unit_of_work.py", "_edited_policy"),
    # calendars by the revision the database stamps on every calendar change (migration 0025): an edit, by any
    # server or by hand, is a new key, and the rows are read in the statement that reads their revision
    ("services/unit_of_work.py", "_calendars"),
    # the embedded servers this process started, and each server's owner URL: files and configuration, not rows
    ("db/embedded.py", "_started"), ("db/engine.py", "_owners"),
    # a period's text parsed, never a database read
    ("services/casework/queue.py", "_day_based"),
    # a row type for a statement's column names, never the rows themselves
    ("services/casework/queue.py", "_named_row"),
    # the queue's statements by the shape of its filters, every value a bound parameter: no row, user or time
    ("services/casework/queue.py", "_queue_statements"),
}


def _decorator_name(node: ast.expr) -> str | None:
    node = node.func if isinstance(node, ast.Call) else node
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


def _empty_container(node: ast.expr | None) -> bool:
    """`{}`, `[]`, `set()`, `dict()`, `defaultdict(…)`, `OrderedDict()`: module state that fills as the server runs."""
    if isinstance(node, ast.Dict | ast.List | ast.Set):
        return not (getattr(node, "keys", None) or getattr(node, "elts", None))
    return isinstance(node, ast.Call) and _decorator_name(node) in {"set", "dict", "list", "defaultdict", "OrderedDict"}


def _module_caches(tree: ast.Module) -> list[str]:
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and _empty_container(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def test_no_server_keeps_database_reads_in_memory():
    found = set()
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            where = path.relative_to(ROOT).as_posix()
            tree = ast.parse(path.read_text(), str(path))
            found |= {(where, name) for name in _module_caches(tree)}
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                        _decorator_name(d) in CACHES for d in node.decorator_list):
                    found.add((where, node.name))
    assert found - ALLOWED == set(), "a new cache: state outside PostgreSQL? (README 'Running on several machines')"
    assert ALLOWED - found == set(), "gone from the code: drop it from ALLOWED"
