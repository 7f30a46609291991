"""The dynamic token: compact, signed, pseudonymous; every way of breaking it is refused (offline and over HTTP)."""
import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import qr
from app.health_codes import keys, tokens

NOW = 1_780_000_000
KEY = Ed25519PrivateKey.from_private_bytes(b"k" * 32)
OTHER = Ed25519PrivateKey.from_private_bytes(b"o" * 32)
REF = bytes.fromhex("0123456789abcdef")
PUBLIC = {"k1": KEY.public_key()}


def make(kid="k1", key=KEY, colour="green", issued_at=NOW, ttl=120, ref=REF) -> str:
    return tokens.sign(key=key, kid=kid, ref=ref, colour=colour, issued_at=issued_at, ttl=ttl)


def raw(token: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(bytes(data)).decode().rstrip("=")


def test_round_trip_carries_only_pseudonymous_claims():
    claims = tokens.verify(make(colour="yellow"), PUBLIC, NOW + 10)
    assert claims == tokens.Claims("k1", REF, "yellow", NOW, NOW + 120)


def test_fits_qr_version_7_at_m_even_with_the_longest_key_id():
    token = make(kid="k" * tokens.MAX_KID_LENGTH)
    assert len(token) == 118 and qr.version(token) <= 7


def test_every_flipped_bit_is_refused():
    token = make()
    data = raw(token)
    for i in range(len(data) * 8):
        flipped = bytearray(data)
        flipped[i // 8] ^= 1 << (i % 8)
        with pytest.raises(tokens.TokenInvalid):
            tokens.verify(encode(flipped), PUBLIC, NOW)


@pytest.mark.parametrize("token", [
    make(kid="k2"),                                 # a key id nobody configured (or one retired)
    make(key=OTHER),                                # the right kid, another key's signature
    make()[:-4], make() + "AAAA", "", "not a token", "a", "abcde", "AQ", "x" * 300,
    make().replace("-", "+").replace("_", "/"),     # base64, not base64url
    make() + "==",                                  # padding is not part of the format
])
def test_bad_tokens_are_invalid(token):
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(token, PUBLIC, NOW)


def test_non_canonical_spelling_is_refused():
    token = make()
    assert len(raw(token)) % 3  # the last character carries unused bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]
    assert raw(twin) == raw(token)
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(twin, PUBLIC, NOW)


def test_expiry_and_clock():
    assert tokens.verify(make(), PUBLIC, NOW + 119)
    with pytest.raises(tokens.TokenExpired):
        tokens.verify(make(), PUBLIC, NOW + 120)
    with pytest.raises(tokens.TokenInvalid):  # issued well in the future
        tokens.verify(make(issued_at=NOW + 60), PUBLIC, NOW)
    assert tokens.verify(make(issued_at=NOW + 20), PUBLIC, NOW)  # small skew tolerated


def test_validity_longer_than_two_minutes_cannot_be_made():
    with pytest.raises(ValueError):
        make(ttl=121)


def test_verifies_with_raw_public_key_bytes_from_jwks():
    ring = keys.build("k1:" + base64.b64encode(b"k" * 32).decode())
    published = tokens.keys_from_jwks(ring.jwks())
    assert published == {"k1": KEY.public_key().public_bytes_raw()}
    assert tokens.verify(make(), published, NOW).ref == REF


def test_the_servers_libsodium_keys_make_and_check_the_same_tokens():
    """Ed25519 is deterministic: the ring's libsodium signer gives cryptography's exact token, and its verifiers
    accept what cryptography accepts and refuse a flipped bit or another key's signature."""
    ring = keys.build("k1:" + base64.b64encode(b"k" * 32).decode() + ",o1:" + base64.b64encode(b"o" * 32).decode())
    for colour in tokens.COLOURS:
        assert make(key=ring.signer, colour=colour) == make(colour=colour)
    token = make(key=ring.signer)
    assert tokens.verify(token, ring.verifiers, NOW) == tokens.verify(token, PUBLIC, NOW)
    flipped = raw(token)
    flipped[-1] ^= 1
    foreign = make(key=OTHER, kid="k1")
    for bad in (encode(flipped), foreign):
        with pytest.raises(tokens.TokenInvalid):
            tokens.verify(bad, ring.verifiers, NOW)
    assert tokens.verify(make(key=OTHER, kid="o1"), ring.verifiers, NOW).kid == "o1"


def test_key_ring_rotation_and_retirement():
    seeds = {kid: base64.b64encode(bytes([n]) * 32).decode() for n, kid in enumerate(("new", "old", "gone"), 1)}
    spec = ",".join(f"{kid}:{seed}" for kid, seed in seeds.items())
    ring = keys.build(spec, retired="gone")
    assert ring.kid == "new" and set(ring.public_keys) == {"new", "old"}
    assert [k["kid"] for k in ring.jwks()["keys"]] == ["new", "old"]
    old_token = make(kid="old", key=Ed25519PrivateKey.from_private_bytes(bytes([2]) * 32))
    assert tokens.verify(old_token, ring.public_keys, NOW).kid == "old"
    retired = keys.build(spec, retired="old,gone")
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(old_token, retired.public_keys, NOW)
    assert keys.build(spec, signing_kid="old").kid == "old"
    for bad in ({"retired": "new"}, {"signing_kid": "nope"}):
        with pytest.raises(RuntimeError):
            keys.build(spec, **bad)
    with pytest.raises(RuntimeError):
        keys.build("much-too-long-kid:" + seeds["new"])
