"""The shipped packs on disk and the door from pack data to a validated `Policy` (RULES.md §4).

Only the unit of work (the institution's edited pack), set-up's pack list, the training library and the
pure `assess --policy` CLI read a shipped file directly (issue 9 §1).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from services.errors import Listing, PolicyError
from services.rules.policy import PACK_CODES, Policy
from services.rules.policy_schema import read_pack

POLICY_DIR = Path(__file__).parent / "policies"


@cache
def load_policy(code: str) -> Policy:
    """The shipped pack `services/rules/policies/<code>.toml`, validated (cached per code)."""
    if code not in PACK_CODES:
        raise PolicyError("error.pack.unknown_code", field="policy", code=code, choices=Listing(PACK_CODES))
    origin = f"{code}.toml"
    try:
        data = tomllib.loads((POLICY_DIR / origin).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError("error.pack.unreadable", field="policy", origin=origin, reason=exc) from exc
    return read_pack(data, origin, code)


def policy_from_data(data: Mapping[str, Any], origin: str) -> Policy:
    """Validate pack data (a parsed file or an admin's edited copy); PolicyError names the key."""
    return read_pack(data, origin)
