"""Infrastructure every feature uses: the database session pattern, the audit
trail, idempotency keys, the private cluster, the OpenAPI document, validation."""
