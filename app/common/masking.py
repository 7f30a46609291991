"""Masking of personal data for responses and logs: 138****1234, 440***********123X, 张*明."""


def mask_phone(phone: str | None) -> str | None:
    """138****1234: the first three and last four digits."""
    if not phone:
        return None
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(number: str | None) -> str | None:
    """440***********123X: the first three and last four characters."""
    if not number:
        return None
    if len(number) <= 7:
        return number[0] + "*" * (len(number) - 1)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_name(name: str | None) -> str | None:
    """张*明 / 张* / 欧**明: first and (for three or more characters) last character kept."""
    if not name:
        return None
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
