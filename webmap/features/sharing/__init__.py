"""Redacted sharing: shares, the publication ledger, every shared output,
and external recipients' signed links."""
