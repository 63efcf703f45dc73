"""The statutory layer's intake fields (issue 11 §3, §5, §7; RULES.md §7.2, §7.3): where the complaint came from
(a regulator's transfer with its reference and date), what an `other` channel was, an agent and their letter, and
a major complaint's cause. Checked here, pure, so intake and the demo's set-based writer store the same values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from services.errors import InvalidInput, Phrase
from services.rules import validation
from services.rules.calendar import SHANGHAI
from services.rules.policy import Policy

# db.models.SOURCES and MAJOR_CAUSES, repeated here because the rules sit below the database layer
# (tests/unit/test_intake_extras.py keeps them equal).
SOURCES = ("own", "nfra_12378", "pboc_12363", "csrc_12386", "petition", "other_regulator")
MAJOR_CAUSES = ("disaster", "accident", "public_health", "group_in_person", "regulator_designated")
GROUP_IN_PERSON_MIN = 20  # order 3 art. 29: a group of 20 or more complaining in person
OTHER_CHANNEL = "other"  # every pack's open channel (RULES.md §7)
LIMITS = {"regulator_ref": 64, "channel_note": 200, "agent_name": 128, "agent_authorisation": 200}


@dataclass(frozen=True)
class IntakeExtras:
    source: str = "own"
    regulator_ref: str | None = None
    transferred_on: date | None = None
    channel_note: str | None = None
    agent_name: str | None = None
    agent_authorisation: str | None = None
    major_cause: str | None = None
    major_people: int | None = None  # group_in_person only; kept in the major_declared event, not on the case

    @property
    def transferred(self) -> bool:
        return self.source != "own"

    def columns(self) -> dict[str, Any]:
        """The values for the cases columns of the same names."""
        out = asdict(self)
        del out["major_people"]
        return out


def _optional(form: Mapping[str, Any], field: str) -> str | None:
    return validation.text(form.get(field), field, Phrase(f"error.field.{field}"), required=False,
                           max_chars=LIMITS[field]) or None


def _required(form: Mapping[str, Any], field: str) -> str:
    return validation.text(form.get(field), field, Phrase(f"error.field.{field}"), max_chars=LIMITS[field])


def _day(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):  # a spreadsheet's date cell: naive, a day in Beijing
        return (value.astimezone(SHANGHAI) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    said = str(value).strip().replace("/", "-")
    try:
        return date.fromisoformat(said[:10]) if said[10:].strip(" T0:") == "" else date.fromisoformat(said)
    except ValueError:
        raise InvalidInput("error.intake.bad_date", field=field) from None


def transfer(form: Mapping[str, Any], received_at: datetime, now: datetime) -> tuple[str, str | None, date | None]:
    """Source, reference and transfer date (RULES.md §7.3): both required from a regulator, neither for the
    institution's own; the transfer is on or before the institution's receipt, never in the future."""
    source = form.get("source") or "own"
    if source not in SOURCES:
        raise InvalidInput("error.intake.unknown_source", field="source")
    ref = _optional(form, "regulator_ref")
    on = _day(form.get("transferred_on"), "transferred_on")
    if source == "own":
        if ref or on:
            raise InvalidInput("error.intake.transfer_fields_without_regulator", field="source")
        return source, None, None
    ref = _required(form, "regulator_ref")
    if on is None:
        raise InvalidInput("error.input.missing", field="transferred_on", name=Phrase("error.field.transferred_on"))
    if on > now.astimezone(SHANGHAI).date():
        raise InvalidInput("error.intake.transferred_in_future", field="transferred_on")
    if on > received_at.astimezone(SHANGHAI).date():
        raise InvalidInput("error.intake.transferred_after_receipt", field="transferred_on")
    return source, ref, on


def major(form: Mapping[str, Any]) -> tuple[str | None, int | None]:
    """A major complaint's cause (order 3 art. 29); a group in person names how many came (≥ 20)."""
    cause = form.get("major_cause") or None
    if cause is None:
        return None, None
    if cause not in MAJOR_CAUSES:
        raise InvalidInput("error.intake.unknown_major_cause", field="major_cause")
    if cause != "group_in_person":
        return cause, None
    people = form.get("major_people")
    if isinstance(people, bool) or not isinstance(people, int | float) or people != int(people) \
            or people < GROUP_IN_PERSON_MIN:
        raise InvalidInput("error.intake.group_too_small", field="major_people", least=GROUP_IN_PERSON_MIN)
    return cause, int(people)


def intake_extras(form: Mapping[str, Any], channel: str, received_at: datetime, now: datetime) -> IntakeExtras:
    """Every statutory intake field of `form`, checked; the channel note only for the `other` channel."""
    source, ref, on = transfer(form, received_at, now)
    note = _required(form, "channel_note") if channel == OTHER_CHANNEL else None
    agent = _optional(form, "agent_name")
    letter = _required(form, "agent_authorisation") if agent else None  # RULES.md §7.2 arts. 12, 14
    cause, people = major(form)
    return IntakeExtras(source, ref, on, note, agent, letter, cause, people)


def top_role(policy: Policy) -> str:
    """Whom a major complaint goes to at once: the pack's highest-ranked role an executive answers (issue 8 §1,
    issue 10 §2); a pack without one, the executives themselves."""
    top = [r for r in policy.roles.values() if r.answered_by == "executive"]
    return max(top, key=lambda r: r.rank).code if top else "executive"
