"""Health-code hot paths, in-process: token issue, QR render (PNG and SVG), verify. Prints µs/op and ops/s.

    /work/main/.venv/bin/python bench/health_codes.py [-n 2000] [--database-url postgresql+psycopg://...]

A throw-away SQLite database by default; with --database-url the schema is migrated there, one bench user
and one code are created and removed again. "service" rows include the code's one indexed SELECT where
the path has one; "http" rows go through Flask's test client (routing, JWT, user load, JSON)."""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from flask import current_app  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import delete  # noqa: E402

from app import create_app, qr  # noqa: E402
from app.common.time import utcnow  # noqa: E402
from app.extensions import db  # noqa: E402
from app.health_codes import keys, service, tokens  # noqa: E402
from app.health_codes.models import ColourChange, HealthCode, Person  # noqa: E402
from config import TestingConfig  # noqa: E402
from tests import factories  # noqa: E402

ID_NUMBER = "11010519491231002X"


def measure(label: str, fn, n: int) -> None:
    """Run fn n times (after a warm-up) and print wall and CPU time per call."""
    for _ in range(min(50, n)):
        fn()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    wall, cpu = (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n
    print(f"{label:<44} {wall * 1e6:>9.1f} µs {cpu * 1e6:>9.1f} µs CPU {1 / wall:>10.0f} ops/s")


def run(n: int) -> None:
    """Set up one user and code, then time each path."""
    user = factories.user(roles=[("resident", "4401"), ("health_official", "4401")])  # verifies with no venue
    headers = factories.auth_headers(user)
    code = service.apply(owner_id=user.id, name="张三明", id_type="cn_resident_id", id_number=ID_NUMBER,
                         phone=None, relation="self", consent=True)
    ring, client = keys.keyring(), current_app.test_client()
    token = service.issue_token(code=code).token
    ref = bytes.fromhex(code.ref)
    print(f"token: {len(token)} characters, QR version {qr.version(token)}; n = {n}\n")
    print(f"{'path':<44} {'wall/op':>12} {'CPU/op':>16} {'rate':>16}")
    for name, key in (("cryptography", ring.signing_key), ("libsodium, the server's", ring.signer)):
        measure(f"token sign (Ed25519, {name})", lambda key=key: tokens.sign(
            key=key, kid=ring.kid, ref=ref, colour="green", issued_at=int(time.time()), ttl=120), n)
    measure("token issue (service)", lambda: service.issue_token(code=code), n)
    measure("token issue (http GET /token)", lambda: client.get(f"/api/v1/health-codes/{code.id}/token",
                                                                 headers=headers), n)
    measure("QR render PNG (qr.render)", lambda: qr.render(token, "green", "png"), max(n // 4, 50))
    measure("QR render SVG (qr.render)", lambda: qr.render(token, "green", "svg"), max(n // 4, 50))
    measure("QR PNG (http GET /qr.png)", lambda: client.get(f"/api/v1/health-codes/{code.id}/qr.png",
                                                             headers=headers), max(n // 4, 50))
    for name, verifiers in (("cryptography", ring.public_keys), ("libsodium, the server's", ring.verifiers)):
        measure(f"verify offline (tokens.verify, {name})", lambda v=verifiers: tokens.verify(token, v, utcnow()), n)
    measure("verify (service: 1 SELECT + status)", lambda: service.status(service.verify_token(token)), n)
    measure("verify (http POST /verify)", lambda: client.post("/api/v1/health-codes/verify", json={"token": token},
                                                               headers=headers), n)
    return user, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="operations per path (QR: a quarter)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='hc-bench-')}/bench.db"

    class BenchConfig(TestingConfig):
        TESTING = False
        SQLALCHEMY_DATABASE_URI = url
        REDIS_URL = None
        RATELIMIT_ENABLED = False

    app = create_app(BenchConfig)
    with app.app_context():
        upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
        user, code = run(args.n)
        db.session.rollback()
        db.session.execute(delete(ColourChange).where(ColourChange.health_code_id == code.id))
        db.session.execute(delete(HealthCode).where(HealthCode.id == code.id))
        db.session.execute(delete(Person).where(Person.id == code.person_id))
        db.session.delete(db.session.merge(user))
        db.session.commit()


if __name__ == "__main__":
    main()
