"""ID numbers: normalised first (NFKC, separators, full-width digits), then every kind of bad mainland ID has its
own error; other documents get format checks."""
from datetime import date

import pytest
from sqlalchemy import func, select

from app.errors import ValidationFailed
from app.health_codes import documents
from app.health_codes.models import HealthCode
from tests.health_codes.conftest import URL, application, resident_id

TODAY = date(2026, 3, 2)
GOOD = resident_id()


def _with_check(body17: str) -> str:
    return resident_id(body17[:6], body17[6:14], body17[14:17])


BAD_RESIDENT_IDS = [
    (GOOD[:17], "id_number_length", "18 位"),
    (GOOD + "1", "id_number_length", "18 位"),
    ("", "id_number_length", "18 位"),
    ("44010619900307A23" + GOOD[-1], "id_number_invalid", "数字和最后一位的字母 X"),
    (GOOD[:17] + "Y", "id_number_invalid", "数字和最后一位的字母 X"),
    ("4401061990030712X" + GOOD[-1], "id_number_format", "前 17 位应为数字"),
    ("440²06199003071231", "id_number_invalid", "数字和最后一位的字母 X"),
    (_with_check("99010619900307123"), "id_number_region", "行政区划代码"),
    (_with_check("00010619900307123"), "id_number_region", "行政区划代码"),
    (_with_check("44019919900307123"), "id_number_region", "行政区划代码"),
    (_with_check("44010619901307123"), "id_number_birth_date", "出生日期"),
    (_with_check("44010619900230123"), "id_number_birth_date", "出生日期"),
    (_with_check("44010618500101123"), "id_number_birth_date", "出生日期"),
    (_with_check("44010620260303123"), "id_number_birth_future", "晚于今天"),
    (GOOD[:17] + ("0" if GOOD[-1] != "0" else "1"), "id_number_checksum", "校验位"),
]


@pytest.mark.parametrize("number, error, words", BAD_RESIDENT_IDS)
def test_each_bad_resident_id_has_its_own_error(number, error, words):
    with pytest.raises(ValidationFailed) as info:
        documents.normalise("cn_resident_id", number, today=TODAY)
    assert info.value.error == error and words in info.value.message
    assert info.value.errors == {"json": {"id_number": [info.value.message]}}


def test_good_resident_ids_normalised():
    with_x = next(resident_id(seq=f"{n:03d}") for n in range(1000) if resident_id(seq=f"{n:03d}").endswith("X"))
    assert documents.normalise("cn_resident_id", with_x.lower(), today=TODAY) == with_x
    assert documents.normalise("cn_resident_id", f" {GOOD[:6]} {GOOD[6:14]}-{GOOD[14:]} ", today=TODAY) == GOOD
    wide = "".join(chr(ord(c) + 0xFEE0) for c in with_x.lower())  # full-width digits and ｘ
    assert documents.normalise("cn_resident_id", f"{wide[:6]}\u3000{wide[6:]}", today=TODAY) == with_x
    assert documents.normalise("cn_resident_id", f"{GOOD[:6]}－{GOOD[6:]}", today=TODAY) == GOOD
    born_today = _with_check("44010620260302123")
    assert documents.normalise("cn_resident_id", born_today, today=TODAY) == born_today
    for region in ("11", "65", "81", "82", "83"):
        number = _with_check(region + "0000" + "20000101" + "001")
        assert documents.normalise("cn_resident_id", number, today=TODAY) == number


@pytest.mark.parametrize("id_type, number, ok", [
    ("hk_macao_permit", "H12345678", True), ("hk_macao_permit", "m1234567801", True),
    ("hk_macao_permit", "X12345678", False), ("hk_macao_permit", "H1234567", False),
    ("taiwan_permit", "12345678", True), ("taiwan_permit", "1234567890", True), ("taiwan_permit", "1234567A", False),
    ("passport", "E12345678", True), ("passport", "ab 12 34", True), ("passport", "E12", False),
    ("passport", "E1234567890123456789", False), ("passport", "E1234567!", False),
])
def test_other_documents_format(id_type, number, ok):
    if ok:
        assert documents.normalise(id_type, number, today=TODAY) == number.upper().replace(" ", "")
    else:
        with pytest.raises(ValidationFailed) as info:
            documents.normalise(id_type, number, today=TODAY)
        assert info.value.error == "document_number_invalid" and "请核对证件" in info.value.message


@pytest.mark.parametrize("number, error", [(n, e) for n, e, _ in BAD_RESIDENT_IDS if n] +
                         [("E12", "document_number_invalid")])
def test_bad_numbers_over_http_change_nothing(client, db, clock, resident, number, error):
    id_type = "passport" if error == "document_number_invalid" else "cn_resident_id"
    r = client.post(URL, json=application(id_type=id_type, id_number=number), headers=resident[1])
    assert r.status_code == 422
    body = r.get_json()
    assert body["error"] == error and body["errors"]["json"]["id_number"] == [body["message"]]
    assert db.session.execute(select(func.count()).select_from(HealthCode)).scalar() == 0
