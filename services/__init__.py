"""The service layer: the domain's use cases over a unit of work. Never imports Streamlit.

Packages, lowest first; each may import those before it, never one after (tests/unit/test_layers.py):
  words, errors, export   the catalogue of words, the domain error (a key of it) and the spreadsheet writer
  rules            the policy packs, the working calendar, facts and their assessment; pure, no database
  (db)             tables, engine, migrations
  unit_of_work     one transaction, and the one door to the active pack, the calendar and "now"
  institution      who works here, what they may do, what is configured, the audit trail
  casework         a complaint's life: intake to archive, deadlines, queues, the board, the printed form
  supervision      sampling, reviews, KPIs and the monthly report
  training         the practice library and the walkthrough
  administration   set-up, users, pack and calendar edits, import, backup
  __main__         the command line
"""
