"""Random identifiers: never sequential, so ids reveal neither counts nor neighbours."""
import secrets


def random_id() -> int:
    """A random positive 63-bit integer (BIGINT); the API shows it as a string."""
    return secrets.randbits(63) or 1


def random_token(nbytes: int = 16) -> str:
    """A URL-safe random string."""
    return secrets.token_urlsafe(nbytes)
