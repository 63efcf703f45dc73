"""The folders show the architecture (issue 9 §4–5): imports point down the layers and never in a circle.

Every import counts, including one inside a function: hiding an upward import there is how cycles crept in.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("services", "db", "demo", "dashboard", "pages")

# Lowest first; a module may import its own layer and those below, never one above.
LAYERS: list[tuple[str, ...]] = [
    ("services.words", "services.errors", "services.export"),
    ("services.rules",),
    ("db",),
    ("services.unit_of_work", "services.institution"),
    ("services.casework",),
    ("services.supervision", "services.training"),
    ("services.administration",),
    ("demo",),
    ("services.__main__",),
    ("dashboard", "pages"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules() -> dict[str, Path]:
    return {module_name(p): p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py")}


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ours that `path` imports (a `from package import module` names the module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name in known}


def layer_of(module: str) -> int | None:
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def graph() -> dict[str, set[str]]:
    known = our_modules()
    return {name: imports_of(path, known) - {name} for name, path in known.items()}


def test_every_module_has_a_layer():
    homeless = [name for name in graph() if layer_of(name) is None and name not in {"services", *FOLDERS}]
    assert homeless == []


def test_no_import_points_up_a_layer():
    upward = [f"{source} → {target}" for source, targets in graph().items() for target in targets
              if (layer_of(source) or 0) < (layer_of(target) or 0)]
    assert upward == []


def test_no_import_cycle():
    edges = graph()
    cycles, state = [], {}  # state: 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycles.append(" → ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_migrations_import_no_application_code():
    """Migrations carry literal data (issue 9 §4): what they build must not change when the code does."""
    known = our_modules()
    reaching = {name: sorted(imports_of(path, known)) for name, path in known.items()
                if name.startswith("db.migrations.versions.")}
    assert {name: targets for name, targets in reaching.items() if targets} == {}


def test_role_sets_live_in_access():
    """Issue 9 §2: who may do what is written once, in services.institution.access; services ask it."""
    from db.models import ROLES

    home = ROOT / "services" / "institution" / "access.py"
    # The ranks a pack's `answered_by` may name: pack-schema vocabulary below access, which reads it from there.
    vocabulary = ROOT / "services" / "rules" / "policy.py"
    found = []
    for path in set((ROOT / "services").rglob("*.py")) - {home, vocabulary}:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Set | ast.Tuple | ast.List) and len(node.elts) >= 2 and all(
                    isinstance(e, ast.Constant) and e.value in ROLES for e in node.elts):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_every_package_says_what_it_owns_and_may_import():
    """Issue 9 §5: a newcomer reads the package docstrings, not thirty module names."""
    folders = {p.parent for folder in ("services", "demo") for p in (ROOT / folder).rglob("*.py")}
    silent = sorted(str(d.relative_to(ROOT)) for d in folders if not (d / "__init__.py").exists()
                    or not ast.get_docstring(ast.parse((d / "__init__.py").read_text())))
    assert silent == []
