"""The demo institution: departments, a user per role and months of complaints, loaded through the same
service calls as real work, in the caller's one transaction. Sits above the services; nothing below imports it.
"""
