"""Mainland China mobile numbers: +86/86 prefixes, spaces and hyphens normalised, anything else refused."""
import re

import phonenumbers

from app.errors import ValidationFailed

_SEPARATORS = str.maketrans("", "", " -\t\u00a0\u3000")
# ASCII digits only: phonenumbers alone would also read letters (139CALL5678), extensions and full-width digits.
_SHAPE = re.compile(r"(?:\+86|0086|86)?(1[0-9]{10})")


def _invalid() -> ValidationFailed:
    return ValidationFailed("phone_invalid", "请输入正确的中国大陆手机号码（11 位，以 1 开头）",
                            errors={"json": {"phone": ["手机号码格式不正确"]}})


def normalise_cn_mobile(raw: str) -> str:
    """Return the 11-digit mainland mobile number or raise ValidationFailed(phone_invalid)."""
    match = _SHAPE.fullmatch(str(raw or "").translate(_SEPARATORS))
    if match is None:
        raise _invalid()
    national = match.group(1)
    number = phonenumbers.parse("+86" + national)
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in (
            phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise _invalid()
    return national
