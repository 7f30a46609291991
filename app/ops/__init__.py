"""Operations: Redis freshness, idempotent requests, metrics, startup key checks."""
