"""Idempotent retries: the first answer to each caller's Idempotency-Key, kept to be replayed."""
