"""Training: the practice library on its own database and the guided walkthrough of real-looking cases.

May import: rules, db, the unit of work, institution, casework.
"""
