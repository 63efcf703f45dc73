"""Administration: first-run set-up, users and departments, pack and calendar edits (which move open cases'
deadlines), spreadsheet import, backup and restore.

May import everything below it: rules, db, the unit of work, institution, casework.
"""
