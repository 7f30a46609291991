"""Identity documents: normalise and check a number for its type, each failure with its own error.

Mainland resident ID (居民身份证, GB 11643-1999): 18 characters, a known province code, a real birth
date not in the future, and the ISO 7064 MOD 11-2 check character (python-stdnum computes it).
Other documents get format checks only; their numbers carry no check digit we could verify."""
import re
from datetime import date

from stdnum.cn import ric

from app.errors import ValidationFailed

# GB/T 2260 province-level codes, plus 71 (台湾), 81/82 (香港/澳门) and 83 (台湾居民居住证).
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82", "83",
})
OTHER_FORMATS = {
    "hk_macao_permit": (re.compile(r"^[HM]\d{8}(\d{2})?$"),
                        "港澳居民来往内地通行证号码应为 H 或 M 开头，后接 8 位或 10 位数字"),
    "taiwan_permit": (re.compile(r"^\d{8}(\d{2})?$"), "台湾居民来往大陆通行证号码应为 8 位或 10 位数字"),
    "passport": (re.compile(r"^[A-Z0-9]{5,17}$"), "护照号码应为 5 到 17 位字母或数字"),
}
_SEPARATORS = re.compile(r"[\s\-]")


def _fail(error: str, message: str):
    raise ValidationFailed(error, message, errors={"json": {"id_number": [message]}})


def normalise(id_type: str, raw: str, *, today: date) -> str:
    """The number as stored (upper case, no spaces or dashes), or ValidationFailed saying what is wrong."""
    number = _SEPARATORS.sub("", raw or "").upper()
    if id_type == "cn_resident_id":
        return _check_resident_id(number, today)
    pattern, message = OTHER_FORMATS[id_type]
    if not pattern.match(number):
        _fail("document_number_invalid", message + "，请核对证件后重新输入")
    return number


def _check_resident_id(number: str, today: date) -> str:
    if len(number) != 18:
        _fail("id_number_length", f"身份证号码应为 18 位，您输入了 {len(number)} 位，请核对后重新输入")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        _fail("id_number_format", "身份证号码前 17 位应为数字，最后一位为数字或字母 X")
    if number[:2] not in PROVINCES:
        _fail("id_number_region", f"身份证号码前两位“{number[:2]}”不是有效的省份代码，请核对后重新输入")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        born = None
    if born is None or born.year < 1900:
        _fail("id_number_birth_date", "身份证号码中的出生日期（第 7 至 14 位）不是有效日期，请核对后重新输入")
    if born > today:
        _fail("id_number_birth_future", "身份证号码中的出生日期晚于今天，请核对后重新输入")
    if ric.calc_check_digit(number) != number[17]:
        _fail("id_number_checksum", "身份证号码校验位（最后一位）不正确，请核对后重新输入")
    return number
