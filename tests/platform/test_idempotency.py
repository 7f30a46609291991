"""Idempotency-Key: the same key and request replay the first answer (nothing done twice), another request with
the key is 422, keys are per account, a failure releases the key, stored answers expire and are purged."""
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.ops.models import IdempotentRequest
from app.venues.models import Scan, Venue
from tests.venues.test_scans import _token, holder, place  # noqa: F401 — fixtures
from tests.venues.test_venues import VENUE

VERIFY = "/api/v1/health-codes/verify"


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _key(headers: dict, key: str) -> dict:
    return {**headers, "Idempotency-Key": key}


def test_verify_retried_with_its_key_records_the_scan_once(client, db, place, holder):
    body = {"token": _token(client, holder)["token"], "venue_id": place["venue"]["id"]}
    first = client.post(VERIFY, json=body, headers=_key(place["inspector"], "scan-0001"))
    again = client.post(VERIFY, json=body, headers=_key(place["inspector"], "scan-0001"))
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(db, Scan) == 1
    other = client.post(VERIFY, json=body, headers=_key(place["inspector"], "scan-0002"))
    # A new key runs the scan again (no replay); the visit itself counts once per person and venue in the window.
    assert other.status_code == 200 and "Idempotent-Replayed" not in other.headers
    assert other.get_json()["duplicate"] is True and _count(db, Scan) == 1


def test_same_key_with_another_body_is_a_conflict_and_changes_nothing(client, db, place, holder):
    body = {"token": _token(client, holder)["token"], "venue_id": place["venue"]["id"]}
    assert client.post(VERIFY, json=body, headers=_key(place["inspector"], "k-1")).status_code == 200
    r = client.post(VERIFY, json={**body, "venue_id": None}, headers=_key(place["inspector"], "k-1"))
    assert r.status_code == 422 and r.get_json()["error"] == "idempotency_conflict"
    assert _count(db, Scan) == 1


def test_venue_created_once_per_key_and_keys_are_per_account(client, db, login):
    alice, bob = login("resident")[1], login("resident")[1]
    first = client.post("/api/v1/venues", json=VENUE, headers=_key(alice, "new-venue"))
    again = client.post("/api/v1/venues", json=dict(reversed(list(VENUE.items()))), headers=_key(alice, "new-venue"))
    assert first.status_code == again.status_code == 201 and again.get_json()["id"] == first.get_json()["id"]
    assert client.post("/api/v1/venues", json=VENUE, headers=_key(bob, "new-venue")).status_code == 201
    assert _count(db, Venue) == 2
    assert client.post("/api/v1/venues", json=VENUE, headers=alice).status_code == 201, "no key: no replay"
    assert _count(db, Venue) == 3


def test_a_refused_request_releases_its_key(client, db, login):
    alice = login("resident")[1]
    bad = client.post("/api/v1/venues", json={**VENUE, "area": "440106999999"}, headers=_key(alice, "try"))
    assert bad.status_code == 404 and _count(db, IdempotentRequest) == 0
    good = client.post("/api/v1/venues", json=VENUE, headers=_key(alice, "try"))
    assert good.status_code == 201 and _count(db, Venue) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "含中文", "tab\tkey"])
def test_bad_keys_are_refused(client, db, login, key):
    r = client.post("/api/v1/venues", json=VENUE, headers=_key(login("resident")[1], key))
    assert r.status_code == 422 and r.get_json()["error"] == "idempotency_key_invalid"
    assert _count(db, Venue) == 0 and _count(db, IdempotentRequest) == 0


def test_a_request_in_progress_is_409_until_its_claim_goes_stale(client, db, clock, login):
    user, headers = login("resident")
    fingerprint = _fingerprint_of(client, headers)
    db.session.add(IdempotentRequest(account_id=user.id, key="busy", fingerprint=fingerprint,
                                     expires_at=clock.now + timedelta(hours=24), created_at=clock.now))
    db.session.commit()
    r = client.post("/api/v1/venues", json=VENUE, headers=_key(headers, "busy"))
    assert r.status_code == 409 and r.get_json()["error"] == "idempotency_in_progress"
    assert _count(db, Venue) == 0
    clock.advance(minutes=2)  # its request died without answering
    assert client.post("/api/v1/venues", json=VENUE, headers=_key(headers, "busy")).status_code == 201
    assert _count(db, Venue) == 1


def _fingerprint_of(client, headers) -> str:
    """The fingerprint the venue POST gets (read from a stored claim, then removed)."""
    client.post("/api/v1/venues", json=VENUE, headers=_key(headers, "probe"))
    from app.extensions import db

    row = db.session.scalar(select(IdempotentRequest).where(IdempotentRequest.key == "probe"))
    fingerprint = row.fingerprint
    db.session.execute(Venue.__table__.delete())
    db.session.delete(row)
    db.session.commit()
    return fingerprint


def test_answers_expire_and_are_purged(app, client, db, clock, login):
    headers = login("resident")[1]
    assert client.post("/api/v1/venues", json=VENUE, headers=_key(headers, "old")).status_code == 201
    clock.advance(hours=25)
    assert client.post("/api/v1/venues", json=VENUE, headers=_key(headers, "fresh")).status_code == 201
    result = app.test_cli_runner().invoke(args=["ops", "purge"])
    assert result.exit_code == 0 and "idempotent_requests: 1 deleted" in result.output
    assert db.session.scalars(select(IdempotentRequest.key)).all() == ["fresh"]
    again = client.post("/api/v1/venues", json=VENUE, headers=_key(headers, "old"))
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers, "an expired key is new again"
    assert _count(db, Venue) == 3


def test_every_creating_post_declares_the_header(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    # before sign-in there is no account to scope a key to: a retried enrolment only starts a new secret
    signed_out = {"/api/v1/auth/totp/enrolment"}
    missing = [path for path, ops in spec["paths"].items() if "post" in ops and path not in signed_out
               and ("201" in ops["post"]["responses"] or path.endswith("/verify"))
               and not any(p.get("name") == "Idempotency-Key" for p in ops["post"].get("parameters", []))]
    assert missing == [], missing


def test_an_upload_retried_with_its_key_is_replayed_with_its_location(client, db, login):
    """A retried upload draws a new multipart boundary; it is still the same request, and its replay keeps the
    Location of the job the first one started."""
    from app.volunteers.models import ImportJob
    from tests.volunteers.test_import import GOOD, csv_bytes

    admin = _key(login("admin")[1], "upload-1")
    content = csv_bytes(GOOD)

    def upload(data=content):
        return client.post("/api/v1/admin/volunteers/imports", data={"file": (io.BytesIO(data), "v.csv")},
                           headers=admin, content_type="multipart/form-data")

    first, again = upload(), upload()
    assert first.status_code == again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"] == \
        f"/api/v1/admin/volunteers/imports/{first.get_json()['id']}"
    assert _count(db, ImportJob) == 1
    other = upload(content + b"13800138999,\xe6\x9d\x8e\xe5\x9b\x9b,44010600100101,,,\n")
    assert other.status_code == 422 and other.get_json()["error"] == "idempotency_conflict"
    assert _count(db, ImportJob) == 1
