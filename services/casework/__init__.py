"""Casework: a complaint's life from intake to archive (RULES.md §2–§4).

Owns the lifecycle use cases, deadlines and their at-risk/overdue definitions, the queues, the case page,
the escalation board and automatic escalations, the printed handling form and the home counts.
May import: rules, db, the unit of work, institution.
"""
