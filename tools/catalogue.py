"""`make catalogue`: extract the keyed messages with Babel, add new keys to both catalogues, compile them.

Keys are never dropped here: some are built at run time (`t(f"role.{code}")`) and Babel cannot see them.
A new key arrives with an empty translation in both `.po` files; tests/unit/test_catalogue.py fails until
both are written, then this compiles the `.mo` files the app reads (services/words.py).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from services.words import DOMAIN, LOCALE_DIR, LOCALES

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("services", "db", "dashboard", "pages", "demo")
# The calls whose first argument is a key: labels, plain lookups, markers and every domain error.
KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")  # "nav.home": a dotted key, never prose or a prefix
KEYWORDS = {name: (1,) for name in ("t", "text", "N_", "Phrase", "DomainError", "InvalidInput", "PolicyError",
                                    "NotPermitted", "InvalidTransition", "NotFound", "Conflict", "BackupFailed")}


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(locale: str) -> Catalog:
    with po_path(locale).open("rb") as source:
        return read_po(source, locale=locale)


def extracted_keys() -> dict[str, list[str]]:
    """Every literal key in the code → where it is used ("path:line")."""
    found: dict[str, list[str]] = {}
    for folder in SOURCES:
        for path, line, key, _comments, _context in _extract(ROOT / folder):
            if isinstance(key, str) and KEY.fullmatch(key):
                found.setdefault(key, []).append(f"{folder}/{path}:{line}")
    return found


def _extract(folder: Path) -> Iterator[tuple[str, int, str, list[str], str | None]]:
    yield from extract_from_dir(str(folder), method_map=[("**.py", "python")], keywords=KEYWORDS,
                                comment_tags=(), strip_comment_tags=True)


def compiled(catalogue: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalogue)
    return out.getvalue()


def main() -> None:
    keys = extracted_keys()
    for locale in LOCALES.values():
        catalogue = read(locale)
        added = [key for key in keys if key not in catalogue]
        for key in added:
            catalogue.add(key, "")
        with po_path(locale).open("wb") as target:
            write_po(target, catalogue, width=120, sort_output=False)
        po_path(locale).with_suffix(".mo").write_bytes(compiled(catalogue))
        print(f"{locale}: {len(catalogue)} keys, {len(added)} new")


if __name__ == "__main__":
    main()
