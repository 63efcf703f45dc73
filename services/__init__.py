"""The use cases. Importing any of them installs db.guard, the ORM's last check on lengths and NUL
characters before PostgreSQL (issue 8 §5)."""

import db.guard  # noqa: F401
