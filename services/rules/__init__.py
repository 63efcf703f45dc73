"""The rules, as the institutions' policy documents and RULES.md state them: pure, no database.

Owns the policy packs (TOML files, their schema and loading), the working calendar and its periods, the facts
of a complaint and their assessment (grade, handling level, routing, escalation, deadlines, reasons), the
state table of a case, input validation and the clock. May import: services.errors, services.words.
"""
