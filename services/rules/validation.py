"""Checks on what people type, before the database sees it (issue 8 §5).

Every refusal is an `InvalidInput` naming the field, in words a clerk understands, and never quotes
the value: it may be a customer's name or phone, and messages reach screens and logs.
Limits follow the columns in db/models.py; `db.guard` is the safety net for anything missed here.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from services.errors import InvalidInput, Phrase
from services.rules import clock
from services.rules.calendar import SHANGHAI

CONTENT_CHARS = 20_000  # a complaint's content: several pages of a letter
NOTE_CHARS = 4_000  # notes, findings, reasons, explanations typed by staff
FIELD_CHARS = {"content": CONTENT_CHARS, "customer_name": 128, "customer_phone": 32, "customer_id_number": 32,
               "customer_account_no": 64, "method": 64, "informed_method": 64}  # String(n) columns
MAX_AMOUNT = Decimal("9999999999.99")  # cases.compensation_* are Numeric(14, 2)
EARLIEST = datetime(2000, 1, 1, tzinfo=SHANGHAI)
CLOCK_SKEW = timedelta(minutes=5)  # a counter PC's clock may run a little ahead of the server's
# Contact forms accepted (issue 10 §2), after dropping spaces, - and brackets between digits:
# mainland mobile 1[3-9]xxxxxxxxx, optionally +86 / 0086 / 86 first; landline with its area code
# (0 + 2–3 digits + 7–8 digits, or +86 and the area code without its 0), optionally an extension of
# 1–6 digits after 转, 分机, ext, x, # or -.
_SEPARATORS = re.compile(r"[\s\-()（）]")
_COUNTRY = r"(?:\+86|0086|86)"
_MOBILE = re.compile(rf"{_COUNTRY}?1[3-9]\d{{9}}")
_LANDLINE = re.compile(rf"(?:0|{_COUNTRY})[1-9]\d{{1,2}}[1-9]\d{{6,7}}")
_EXTENSION = re.compile(r"(.+?)\s*(?:转|分机|ext\.?|x|#|-)\s*\d{1,6}", re.IGNORECASE)
_NO_CONTACT = re.compile(r"(?:无|匿名|none\b|anonymous\b)", re.IGNORECASE)  # 无（意见箱留言）
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_IDENTIFIER = re.compile(r"[A-Za-z0-9-]+")


def text(value: Any, field: str, name: Phrase, *, required: bool = True, max_chars: int | None = None) -> str:
    """Trimmed text; "" when optional and empty. `name` names the field for the clerk."""
    out = "" if value is None else str(value).strip()
    if not out and required:
        raise InvalidInput("error.input.missing", field=field, name=name)
    no_nul(out, field, name)
    limit = max_chars or FIELD_CHARS.get(field, NOTE_CHARS)
    if len(out) > limit:
        raise InvalidInput("error.input.too_long", field=field, name=name, limit=limit, length=len(out))
    return out


def no_nul(value: str, field: str, name: Phrase) -> None:
    """A NUL character is never typed on purpose and PostgreSQL refuses it in text."""
    if "\x00" in value:
        raise InvalidInput("error.input.nul", field=field, name=name)


def phone(value: Any, field: str = "customer_phone") -> str:
    """The customer's contact: a mainland mobile or a landline with area code (forms above), an e-mail
    address, or for an anonymous complaint a note with no digits that starts with 无 or 匿名
    (“无（意见箱留言）”, as in the shipped scenarios). Anything else ("abc") is refused (issue 10 §2)."""
    out = text(value, field, Phrase("error.field.contact"))
    if not (_is_phone(out) or _EMAIL.fullmatch(out)
            or (_NO_CONTACT.match(out) and not any(c.isdigit() for c in out))):
        raise InvalidInput("error.input.bad_contact", field=field)
    return out


def _is_phone(value: str) -> bool:
    def bare(number: str) -> str:
        return _SEPARATORS.sub("", number)

    if _MOBILE.fullmatch(bare(value)) or _LANDLINE.fullmatch(bare(value)):
        return True
    with_extension = _EXTENSION.fullmatch(value)
    return bool(with_extension and _LANDLINE.fullmatch(bare(with_extension.group(1))))


def identifier(value: Any, field: str, name: Phrase) -> str | None:
    """An optional ID number or account: letters, digits and -, within the column's length."""
    out = text(value, field, name, required=False)
    if out and not _IDENTIFIER.fullmatch(out):
        raise InvalidInput("error.input.bad_identifier", field=field, name=name)
    return out or None


def id_number(value: Any, field: str = "customer_id_number") -> str | None:
    return identifier(value, field, Phrase("error.field.id_number"))


def account_no(value: Any, field: str = "customer_account_no") -> str | None:
    return identifier(value, field, Phrase("error.field.account_no"))


def amount(value: Any, field: str) -> Decimal:
    """An amount in CNY: a number, 0 when empty, not negative, at most 9,999,999,999.99, in fen."""
    if isinstance(value, bool):
        raise InvalidInput("error.amount.not_a_number", field=field)
    try:
        out = Decimal(str(value if value not in (None, "") else 0).strip())
    except InvalidOperation:
        raise InvalidInput("error.amount.not_a_number", field=field) from None
    check_amount(out, field)
    return out


def check_amount(value: Decimal, field: str) -> None:
    if not value.is_finite():
        raise InvalidInput("error.amount.not_a_number", field=field)
    if value < 0:
        raise InvalidInput("error.amount.negative", field=field)
    if value > MAX_AMOUNT:
        raise InvalidInput("error.amount.too_large", field=field)
    if value != value.quantize(Decimal("0.01")):
        raise InvalidInput("error.amount.too_precise", field=field)


def received_at(at: datetime, now: datetime | None = None, field: str = "received_at", *,
                planned: bool = False) -> datetime:
    """A receipt time that has happened: not before 2000, not later than now (plus a small clock skew).
    `planned` allows a future time, for a what-if assessment that saves nothing."""
    if at < EARLIEST:
        raise InvalidInput("error.receipt.before_2000", field=field)
    if not planned and at > (now or clock.now()) + CLOCK_SKEW:
        raise InvalidInput("error.receipt.in_future", field=field)
    return at
