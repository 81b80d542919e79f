"""Administration: users, agencies, panels, boundary sets and the audit page."""
