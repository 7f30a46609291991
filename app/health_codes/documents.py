"""Identity documents: normalise and check a number for its type, each failure with its own error.

Normalisation comes before anything else, so that one document has one spelling (and one blind index): each
character is read under NFKC, spaces and hyphens (any width) go, decimal digits of any width become ASCII, `x`
becomes `X`. A character that is neither (a superscript ², a letter in an ID number, an Arabic-Indic digit) is
`id_number_invalid`. Mainland resident ID (居民身份证, GB 11643-1999): 18 characters, a county code known to
GB/T 2260 (historical codes included: python-stdnum's `cn/loc` list), a real birth date not in the future, and
the ISO 7064 MOD 11-2 check character. Other documents get format checks only."""
import functools
import re
import unicodedata
from datetime import date

from stdnum import numdb
from stdnum.cn import ric

from app.errors import ValidationFailed

# The first six characters of residence permits for Hong Kong, Macao and Taiwan residents (港澳台居民居住证): not
# county codes, and 830000 is not in the GB/T 2260 list.
PERMIT_PREFIXES = frozenset({"810000", "820000", "830000"})
OTHER_FORMATS = {
    "hk_macao_permit": (re.compile(r"^[HM]\d{8}(\d{2})?$"),
                        "港澳居民来往内地通行证号码应为 H 或 M 开头，后接 8 位或 10 位数字"),
    "taiwan_permit": (re.compile(r"^\d{8}(\d{2})?$"), "台湾居民来往大陆通行证号码应为 8 位或 10 位数字"),
    "passport": (re.compile(r"^[A-Z0-9]{5,17}$"), "护照号码应为 5 到 17 位字母或数字"),
}
_SEPARATORS = frozenset(" -")
_RESIDENT_ID = re.compile(r"^[0-9X]*$")


def _fail(error: str, message: str):
    raise ValidationFailed(error, message, errors={"json": {"id_number": [message]}})


def _fold(char: str) -> str:
    """One typed character as stored: '' for a separator; the NFKC form in upper case for a decimal digit or a
    letter that NFKC makes ASCII (full-width ２, ｘ); the character itself otherwise, which no check accepts
    (superscript ² and circled ① are NFKC digits but not decimal digits, so they are refused, not read)."""
    folded = unicodedata.normalize("NFKC", char)
    if folded.isspace() or folded in _SEPARATORS or unicodedata.category(char) == "Pd":
        return ""
    category = unicodedata.category(char)
    if folded.isascii() and len(folded) == 1 and (category == "Nd" or category[0] == "L"):
        return folded.upper()
    return char


def fold(raw: str) -> str:
    """The number with every character folded (see _fold)."""
    return "".join(_fold(c) for c in raw or "")


def normalise(id_type: str, raw: str, *, today: date) -> str:
    """The number as stored (see the module doc), or ValidationFailed saying what is wrong."""
    number = fold(raw)
    if id_type == "cn_resident_id":
        return _check_resident_id(number, today)
    pattern, message = OTHER_FORMATS[id_type]
    if not pattern.match(number):
        _fail("document_number_invalid", message + "，请核对证件后重新输入")
    return number


@functools.cache
def county_known(code: str) -> bool:
    """Whether six digits are a county code of GB/T 2260, past or present (python-stdnum's list), or a permit's."""
    if code in PERMIT_PREFIXES:
        return True
    try:
        parts = numdb.get("cn/loc").info(code)
    except (KeyError, ValueError):
        return False
    return any("county" in props for _, props in parts)


def _check_resident_id(number: str, today: date) -> str:
    if not _RESIDENT_ID.match(number):
        _fail("id_number_invalid", "身份证号码只能包含数字和最后一位的字母 X，请核对后重新输入")
    if len(number) != 18:
        _fail("id_number_length", f"身份证号码应为 18 位，您输入了 {len(number)} 位，请核对后重新输入")
    if not number[:17].isdigit():
        _fail("id_number_format", "身份证号码前 17 位应为数字，最后一位为数字或字母 X")
    if not county_known(number[:6]):
        _fail("id_number_region", f"身份证号码前六位“{number[:6]}”不是有效的行政区划代码，请核对后重新输入")
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
