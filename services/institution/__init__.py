"""The institution: who works here and what they may do, what it has configured, and its audit trail.

Owns access (roles per action, scope of cases), sign-in, sessions and identity, the directory of people and
departments, settings (the active pack) and the audit trail. May import: rules, db, the unit of work.
"""
