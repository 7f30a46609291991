"""Signing keys for the dynamic token, from config: HEALTH_CODE_SIGNING_KEYS = "kid:base64(32-byte seed),..."
(the first, or HEALTH_CODE_SIGNING_KEY_ID, signs; the others still verify) and HEALTH_CODE_RETIRED_KEY_IDS
(ids that neither verify nor are published any more).

Rotation without a failed scan: (1) add the new key to the list while HEALTH_CODE_SIGNING_KEY_ID keeps the
old one signing; (2) after scanners have fetched the keys again (GET /health-codes/keys is cacheable for
5 minutes), make the new key sign; (3) two minutes later no valid token uses the old key: retire its id,
and later drop it from the list."""
import base64
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app

from app.common.crypto import parse_keys
from app.health_codes import tokens


class Signer:
    """An Ed25519 private key signing with libsodium (PyNaCl): Ed25519 is deterministic, so the signature is the
    one `cryptography` makes, in less CPU (`bench/health_codes.py` compares them; a token issue signs once)."""

    def __init__(self, key: Ed25519PrivateKey):
        self._key = nacl.signing.SigningKey(key.private_bytes_raw())

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data).signature


class Verifier:
    """An Ed25519 public key verifying with libsodium, in about half the CPU of `cryptography`'s
    (`bench/health_codes.py` compares them; a staff scan verifies once). Raises `cryptography`'s InvalidSignature,
    as `tokens.verify` expects of any key."""

    def __init__(self, key: Ed25519PublicKey):
        self._key = nacl.signing.VerifyKey(key.public_bytes_raw())

    def verify(self, signature: bytes, data: bytes) -> None:
        try:
            self._key.verify(data, signature)
        except nacl.exceptions.BadSignatureError:
            raise InvalidSignature() from None


@dataclass(frozen=True)
class KeyRing:
    kid: str
    signing_key: Ed25519PrivateKey
    public_keys: dict[str, Ed25519PublicKey]
    signer: Signer  # signing_key, by libsodium
    verifiers: dict[str, Verifier]  # public_keys, by libsodium

    def jwks(self) -> dict:
        """The public keys as a JWKS-like document (OKP / Ed25519, RFC 8037)."""
        return {"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
                          "x": base64.urlsafe_b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw))
                          .decode().rstrip("=")} for kid, key in self.public_keys.items()],
                "signing_kid": self.kid}


def build(spec: str, signing_kid: str | None = None, retired: str | None = None) -> KeyRing:
    """A key ring from the config strings; RuntimeError when the signing key is missing or retired."""
    seeds = parse_keys(spec)
    retired_ids = {k.strip() for k in (retired or "").split(",") if k.strip()}
    kid = signing_kid or next(iter(seeds))
    if not all(k.isascii() and len(k) <= tokens.MAX_KID_LENGTH for k in seeds):
        raise RuntimeError(f"health-code key ids must be ASCII, at most {tokens.MAX_KID_LENGTH} characters")
    if kid not in seeds or kid in retired_ids:
        raise RuntimeError(f"health-code signing key {kid!r} is not configured or is retired")
    private = {k: Ed25519PrivateKey.from_private_bytes(seed) for k, seed in seeds.items() if k not in retired_ids}
    public = {k: p.public_key() for k, p in private.items()}
    return KeyRing(kid, private[kid], public, Signer(private[kid]), {k: Verifier(p) for k, p in public.items()})


def keyring() -> KeyRing:
    """The app's key ring, built once per distinct configuration."""
    cfg = current_app.config
    spec = (cfg["HEALTH_CODE_SIGNING_KEYS"], cfg.get("HEALTH_CODE_SIGNING_KEY_ID"),
            cfg.get("HEALTH_CODE_RETIRED_KEY_IDS"))
    cached = current_app.extensions.get("health_code_keys")
    if cached is None or cached[0] != spec:
        cached = (spec, build(*spec))
        current_app.extensions["health_code_keys"] = cached
    return cached[1]
