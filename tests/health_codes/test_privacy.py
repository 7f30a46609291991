"""Personal data at rest and in logs: a raw dump of the health-code tables holds no name, number or phone."""
import logging

from sqlalchemy import text

from app.common.crypto import cipher
from app.health_codes import personal
from app.health_codes.models import HealthCode
from tests.health_codes.conftest import URL, resident_id

NAME, FAMILY_NAME, PHONE = "张三明", "李秀英", "13812341234"
NUMBER, FAMILY_NUMBER = resident_id(), resident_id("440104", "19560612", "004")
TABLES = ("health_codes", "health_declarations", "health_code_colour_changes")


def _dump(db) -> str:
    """Every value of every row of the health-code tables, as text and as decoded bytes."""
    parts = []
    for table in TABLES:
        for row in db.session.execute(text(f"SELECT * FROM {table}")).all():
            for value in row:
                parts.append(bytes(value).decode("utf-8", "replace") if isinstance(value, (bytes, memoryview))
                             else str(value))
    return "\n".join(parts)


def test_raw_rows_hold_no_plaintext(client, db, resident, apply_code, caplog):
    headers = resident[1]
    with caplog.at_level(logging.DEBUG):
        code = apply_code(headers, name=NAME, id_number=NUMBER, phone=PHONE)
        apply_code(headers, name=FAMILY_NAME, id_number=FAMILY_NUMBER, relation="family", phone="13900001111")
        client.post(f"{URL}/{code['id']}/declarations", headers=headers,
                    json={"temperature_c": 38.0, "symptoms": ["cough"], "risk_area_visit_14d": False,
                          "case_contact_14d": False})
        token = client.get(f"{URL}/{code['id']}/token", headers=headers).get_json()["token"]
        client.get(f"{URL}", headers=headers)
    dump = _dump(db)
    assert len(dump) > 200
    for secret in (NAME, FAMILY_NAME, PHONE, "13900001111", NUMBER, FAMILY_NUMBER, NUMBER[:14], PHONE[3:]):
        assert secret not in dump, secret
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (NAME, PHONE, NUMBER, token):
        assert secret not in logged


def test_ciphertexts_are_bound_to_their_row_and_column(db, resident, apply_code):
    a = apply_code(resident[1], name=NAME, id_number=NUMBER)
    row = db.session.get(HealthCode, int(a["id"]))
    assert cipher().decrypt(row.name_enc, personal.aad(row.id, "name")) == NAME
    assert cipher().key_id(row.name_enc) == "dev1"  # the key id is stored: keys can rotate
    for wrong in (personal.aad(row.id, "phone"), personal.aad(row.id + 1, "name")):
        try:
            cipher().decrypt(row.name_enc, wrong)
        except Exception as exc:  # noqa: BLE001 — AES-GCM refuses: cryptography's InvalidTag
            assert type(exc).__name__ == "InvalidTag"
        else:
            raise AssertionError("decrypted with the wrong associated data")


def test_lookups_use_the_keyed_hash(db, resident, apply_code):
    a = apply_code(resident[1], id_number=NUMBER)
    row = db.session.get(HealthCode, int(a["id"]))
    assert row.person.doc_hash == cipher().blind_index(f"cn_resident_id:{NUMBER}", "health_code_document")
    assert len(row.person.doc_hash) == 32 and NUMBER not in row.person.doc_hash
