"""Authentication: passwords (argon2), TOTP second factor, sessions, rate limits."""
