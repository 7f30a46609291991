"""Personal data at rest: AES-GCM with rotating keys (key id stored), and keyed hashes for lookup."""
import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app


def parse_keys(spec: str) -> dict[str, bytes]:
    """Parse "kid:base64,kid2:base64" into {kid: key bytes}."""
    keys = {}
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        kid, _, b64 = part.partition(":")
        raw = base64.b64decode(b64)
        if len(raw) != 32 or not kid or len(kid) > 16:
            raise RuntimeError(f"key {kid!r} must be a short id and 32 bytes of base64")
        keys[kid] = raw
    if not keys:
        raise RuntimeError("no keys configured")
    return keys


class DataCipher:
    """AES-GCM: blob = len(kid) | kid | nonce(12) | ciphertext+tag; decrypts with any configured key."""

    def __init__(self, keys: dict[str, bytes], current: str | None, index_key: bytes):
        self.keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.current = current or next(iter(keys))
        self.index_key = index_key
        self._index_macs: dict[str, hmac.HMAC] = {}  # purpose -> HMAC keyed and fed "purpose:", copied per value

    def encrypt(self, plaintext: str | None, aad: bytes = b"") -> bytes | None:
        """Encrypt text with the current key."""
        if plaintext is None:
            return None
        return self.encryptor().seal(os.urandom(12), plaintext, aad)

    def decrypt(self, blob: bytes | None, aad: bytes = b"") -> str | None:
        """Decrypt a blob written by encrypt(), whichever configured key wrote it."""
        if blob is None:
            return None
        blob = bytes(blob)
        n = blob[0]
        kid, nonce, body = blob[1:1 + n].decode(), blob[1 + n:13 + n], blob[13 + n:]
        return self.keys[kid].decrypt(nonce, body, aad).decode()

    @staticmethod
    def key_id(blob: bytes | None) -> str | None:
        """The key id a blob was written with (for re-encryption after rotation)."""
        if blob is None:
            return None
        blob = bytes(blob)
        return blob[1:1 + blob[0]].decode()

    def blind_index(self, value: str, purpose: str) -> str:
        """A keyed hash (HMAC-SHA256, 128 bits hex) for uniqueness and lookup without plaintext."""
        # Copying a keyed HMAC that has already taken the prefix skips the key set-up: half the cost in bulk imports.
        base = self._index_macs.get(purpose)
        if base is None:
            base = self._index_macs[purpose] = hmac.new(self.index_key, f"{purpose}:".encode(), hashlib.sha256)
        mac = base.copy()
        mac.update(value.encode())
        return mac.hexdigest()[:32]

    def encryptor(self) -> "Encryptor":
        """encrypt() for bulk paths, in one thread: the same blobs, nonces drawn from the OS in blocks."""
        kid = self.current.encode()
        return Encryptor(self.keys[self.current], bytes([len(kid)]) + kid)


class Encryptor:
    """Encrypts with one key, taking each 12-byte random nonce from a block of os.urandom (one system call per
    4,096 values instead of one per value). Not for sharing between threads: two could take the same nonce."""

    BLOCK = 12 * 4096

    def __init__(self, aead: AESGCM, head: bytes):
        self.aead, self.head, self.nonces, self.at = aead, head, b"", 0

    def __call__(self, plaintext: str, aad: bytes = b"") -> bytes:
        at = self.at
        if at == len(self.nonces):
            self.nonces, at = os.urandom(self.BLOCK), 0
        self.at = at + 12
        return self.seal(self.nonces[at:at + 12], plaintext, aad)

    def seal(self, nonce: bytes, plaintext: str, aad: bytes) -> bytes:
        """The blob of one value under a given nonce."""
        return self.head + nonce + self.aead.encrypt(nonce, plaintext.encode(), aad)


def init_cipher(app) -> None:
    """Build the app's cipher from config."""
    app.extensions["data_cipher"] = DataCipher(parse_keys(app.config["DATA_ENCRYPTION_KEYS"]),
                                               app.config.get("DATA_ENCRYPTION_KEY_ID"),
                                               app.config["BLIND_INDEX_KEY"].encode())


def cipher() -> DataCipher:
    """The current app's cipher."""
    return current_app.extensions["data_cipher"]
