"""The assessment's reasons are data (issue 9 §6): cases stored before this keep their prose, readable.

Revision ID: 0013
Revises: 0011 (0012 once merged beside migration 0012_pack_vocabulary_in_data)

A case assessed before this holds `explanation` and `warnings` as Chinese prose (intake always wrote Chinese).
Parsing that prose back into rules and parameters would guess, and re-assessing here would need the
application's code and today's pack, which may differ from the rules that applied at intake. So each old line
becomes a reason that shows its recorded text as it was written (`reason.recorded`), in the new shape:
`reasons` (head, why, notes; no rule) and `notices`. New cases store rules, seed articles, keys and parameters.
Case events are history (append-only) and keep the assessment they recorded.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _recorded(array: str, as_reason: bool) -> str:
    """Each text of the JSON array `array` as a recorded phrase (or a reason holding one), in order."""
    item = "jsonb_build_object('key', 'reason.recorded', 'params', jsonb_build_object('text', e.line))"
    if as_reason:
        item = f"jsonb_build_object('head', jsonb_build_array({item}), 'why', '[]'::jsonb, 'notes', '[]'::jsonb)"
    return (f"(SELECT coalesce(jsonb_agg({item} ORDER BY e.n), '[]'::jsonb) "
            f"FROM jsonb_array_elements_text(coalesce(assessment -> '{array}', '[]'::jsonb)) "
            "WITH ORDINALITY AS e(line, n))")


def upgrade() -> None:
    op.execute(
        "UPDATE cases SET assessment = (assessment - 'explanation' - 'warnings') || jsonb_build_object("
        f"'reasons', {_recorded('explanation', True)}, 'notices', {_recorded('warnings', False)}) "
        "WHERE assessment ? 'explanation'")


def _prose(array: str, phrase: str) -> str:
    """Back to text: a recorded line or a pack text as it was, else the rule and source it cites, else its key."""
    text = (f"coalesce({phrase} -> 'params' -> 'text' ->> 'zh', {phrase} -> 'params' ->> 'text', "
            "nullif(concat_ws('，', r.item ->> 'rule', r.item ->> 'source'), ''), "
            f"{phrase} ->> 'key')")
    return (f"(SELECT coalesce(jsonb_agg({text} ORDER BY r.n), '[]'::jsonb) "
            f"FROM jsonb_array_elements(coalesce(assessment -> '{array}', '[]'::jsonb)) WITH ORDINALITY AS r(item, n))")


def downgrade() -> None:
    head = "(r.item -> 'head' -> 0)"
    op.execute(
        "UPDATE cases SET assessment = (assessment - 'reasons' - 'notices') || jsonb_build_object("
        f"'explanation', {_prose('reasons', head)}, 'warnings', {_prose('notices', 'r.item')}) "
        "WHERE assessment ? 'reasons'")
