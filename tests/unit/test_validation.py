"""The limits the services check are the columns' limits, so db.guard never has to speak first
(issue 8 §5)."""

from __future__ import annotations

from db.models import Case, CaseEvent, Customer, Extension
from services.rules import validation


def test_the_services_limits_are_the_columns_limits() -> None:
    assert Case.__table__.c.content.info["max_chars"] == validation.CONTENT_CHARS
    assert CaseEvent.__table__.c.note.info["max_chars"] == validation.CONTENT_CHARS  # intake notes the content
    for text in ("handling_form", "fact_finding", "measures", "accountability", "signed_confirmation"):
        assert Case.__table__.c[text].info["max_chars"] == validation.NOTE_CHARS
    columns = {"customer_name": Customer.__table__.c.name, "customer_phone": Customer.__table__.c.phone,
               "customer_id_number": Customer.__table__.c.id_number,
               "customer_account_no": Customer.__table__.c.account_no,
               "informed_method": Extension.__table__.c.customer_informed_method}
    for field, column in columns.items():
        assert validation.FIELD_CHARS[field] == column.type.length, field
