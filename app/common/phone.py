"""Mainland China mobile numbers: +86/86 prefixes normalised, anything else refused."""
import phonenumbers

from app.errors import ValidationFailed


def normalise_cn_mobile(raw: str) -> str:
    """Return the 11-digit mainland mobile number or raise ValidationFailed(phone_invalid)."""
    text = "".join(ch for ch in str(raw or "") if ch not in " -()")
    if text.startswith("86") and len(text) == 13:
        text = "+" + text
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if (number is None or number.country_code != 86 or not phonenumbers.is_valid_number(number)
            or phonenumbers.number_type(number) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)):
        raise ValidationFailed("phone_invalid", "请输入正确的中国大陆手机号码",
                               errors={"json": {"phone": ["手机号码格式不正确"]}})
    national = str(number.national_number)
    if len(national) != 11 or not national.startswith("1"):
        raise ValidationFailed("phone_invalid", "请输入正确的中国大陆手机号码",
                               errors={"json": {"phone": ["手机号码格式不正确"]}})
    return national
