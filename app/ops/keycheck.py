"""Startup checks: the configured keys are the ones this database was written with.

At first start (an empty `key_checks` table) what each key makes of a known text is recorded: a blob encrypted
with each data key, the blind index, the venue-code and patrol check-in MACs, and the public key of every
published signing key (the key document scanners hold). At every later start the configured keys must make the
same, or the app refuses to start with one line saying which key differs: a database restored without its keys
would otherwise answer 200 on /health while every sign-in by phone made a new, empty account."""
import hashlib
import hmac
import logging

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app
from sqlalchemy import inspect, select
from sqlalchemy.exc import OperationalError

from app.common.crypto import DataCipher, cipher, parse_keys
from app.common.upsert import insert
from app.extensions import db
from app.ops.models import KeyCheck

KNOWN = "jiefang key check"
_AAD = b"key-check"


def _mac(config_name: str) -> bytes:
    return hmac.new(current_app.config[config_name].encode(), KNOWN.encode(), hashlib.sha256).digest()


def _fixed() -> dict[str, tuple[str, bytes]]:
    """Rows compared byte for byte: name -> (the setting it checks, the value it must hold)."""
    from app.health_codes.keys import keyring

    rows = {"blind_index": ("BLIND_INDEX_KEY", cipher().blind_index(KNOWN, "key-check").encode()),
            "venue_code": ("VENUE_CODE_KEY", _mac("VENUE_CODE_KEY")),
            "patrol_checkin": ("PATROL_CHECKIN_KEY", _mac("PATROL_CHECKIN_KEY"))}
    for kid, key in keyring().public_keys.items():
        rows[f"signing:{kid}"] = ("HEALTH_CODE_SIGNING_KEYS", key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    return rows


def _data_problems(stored: dict[str, bytes], keys: dict[str, bytes]) -> list[str]:
    problems, known = [], [name.removeprefix("data:") for name in stored if name.startswith("data:")]
    for kid in keys:
        blob = stored.get(f"data:{kid}")
        try:
            if blob is not None and cipher().decrypt(blob, _AAD) != KNOWN:
                raise ValueError
        except (InvalidTag, ValueError, KeyError):
            problems.append(f"DATA_ENCRYPTION_KEYS key {kid!r} does not decrypt this database's key-check row")
    if known and not set(known) & set(keys):
        problems.append(f"DATA_ENCRYPTION_KEYS holds none of this database's keys ({', '.join(sorted(known))})")
    return problems


def check() -> list[str]:
    """The keys that differ from those recorded (one phrase each); records the missing rows when none differs.
    Nothing is checked before the migrations have made the table."""
    if not inspect(db.engine).has_table(KeyCheck.__tablename__):
        return []
    stored = {row.name: bytes(row.value) for row in db.session.execute(select(KeyCheck)).scalars()}
    keys = parse_keys(current_app.config["DATA_ENCRYPTION_KEYS"])
    problems = _data_problems(stored, keys)
    fixed = _fixed()
    problems += [f"{setting} differs from the key this database was written with" if not name.startswith("signing:")
                 else f"{setting} key {name.removeprefix('signing:')!r} differs from the published key document"
                 for name, (setting, value) in fixed.items() if name in stored and stored[name] != value]
    if problems:
        db.session.rollback()
        return list(dict.fromkeys(problems))
    missing = {name: value for name, (_, value) in fixed.items() if name not in stored}
    missing.update({f"data:{kid}": DataCipher({kid: key}, kid, b"").encrypt(KNOWN, _AAD)
                    for kid, key in keys.items() if f"data:{kid}" not in stored})
    if missing:
        db.session.execute(insert(KeyCheck).values([{"name": n, "value": v} for n, v in missing.items()])
                           .on_conflict_do_nothing(index_elements=["name"]))
    db.session.commit()
    return []


def refuse_unless_keys_match(app) -> None:
    """Exit with one line naming the keys that differ (the serving entry point calls this)."""
    with app.app_context():
        try:
            problems = check()
        except OperationalError as error:  # the database is away: it answers 503 until it is back
            logging.getLogger("jiefang.keys").warning("key check skipped: database unreachable (%s)",
                                                      type(error.orig).__name__)
            problems = []
        db.session.remove()
    if problems:
        raise SystemExit("Refusing to start: " + "; ".join(problems))
