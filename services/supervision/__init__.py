"""Supervision: sampling closed cases, reviews and rectification, KPIs and the monthly report (RULES.md §5–§6).

May import: rules, db, the unit of work, institution, casework.
"""
