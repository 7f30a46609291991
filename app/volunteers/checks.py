"""One row of a volunteer file: checked (every reason it is refused, or its clean values) and sealed (encrypted,
hashed) for the bulk path. Both run once per row of a 1.31 M-row import, so the common case takes a short way."""
import re
from functools import lru_cache

from app.areas import service as area_service
from app.auth import service as auth_service
from app.common.crypto import cipher
from app.common.phone import normalise_cn_mobile
from app.errors import ValidationFailed
from app.volunteers import bulk
from app.volunteers.service import NAME_AAD, REAL_NAME, name_index
from app.volunteers.taxonomy import Catalogue, interest_mask, role_id_mask

MAX_INTERESTS_PER_VOLUNTEER = 5
TAG_CACHE_SIZE = 50_000  # distinct interest/role cells remembered per import (a few MB at most)
_LIST_SPLIT = re.compile(r"[,，;；、|/\s]+")
_PLAIN_MOBILE = re.compile(r"1\d{10}")
_FIELDS = ("phone", "real_name", "grid", "trade", "interests", "service_roles")


@lru_cache(maxsize=None)
def _mobile_prefix_valid(prefix: str) -> bool:
    # Whether a plain 11-digit number is a mainland mobile depends on its first five digits only: libphonenumber's
    # CN mobile pattern (1(?:610\d|740[0-5])\d{6}|1(?:[38]\d|4[57]|…)\d{8}) decides on at most five, and no other
    # type's pattern takes an 11-digit number starting 1 but 10…, which is never mobile. Checked against the full
    # check for every 7-digit prefix (two tails each) with phonenumbers 9.0.43; tests compare every 5-digit prefix.
    try:
        normalise_cn_mobile(prefix + "000000")
        return True
    except ValidationFailed:
        return False


def checked_phone(raw: str) -> str:
    """normalise_cn_mobile, with plain 11-digit numbers answered from a per-5-digit-prefix cache (bulk speed)."""
    text = raw.strip()
    if _PLAIN_MOBILE.fullmatch(text):
        if _mobile_prefix_valid(text[:5]):
            return text
        raise ValidationFailed("phone_invalid", "请输入正确的中国大陆手机号码")
    return normalise_cn_mobile(raw)


class RowChecker:
    """Checks one row's cells; returns the clean values or the list of reasons it is refused."""

    def __init__(self, catalogue: Catalogue, allowed_areas: list[str] | None = None):
        self.catalogue = catalogue
        self.grids = frozenset(code for code, _ in area_service.within(auth_service.CITY_CODE, "grid"))
        self.allowed = tuple(allowed_areas) if allowed_areas else None
        # a roster repeats the same tag lists: (kind, cell) -> (ids, reasons, mask)
        self._parsed: dict[tuple[str, str], tuple[frozenset, tuple, int]] = {}
        self._header, self._at = None, None

    def check(self, cells: list[str], header: dict[str, int]) -> tuple | list[str]:
        """(phone, name, grid, trade_id, interest mask, role mask), or the reasons the row is refused."""
        if header is not self._header:
            self._header = header
            self._at = tuple(header[f] for f in _FIELDS) if all(f in header for f in _FIELDS) else None
        if self._at is not None and len(cells) > max(self._at):
            clean = self._usual(cells, *self._at)
            if clean is not None:
                return clean
        return self._full(cells, header)

    def _usual(self, cells, phone, name, grid, trade, interests, roles) -> tuple | None:
        """The clean values of a row that is plainly right (every cell present, a plain 11-digit phone, tag lists
        seen before), else None: then _full decides, and tells why."""
        phone, name, grid = cells[phone].strip(), cells[name].strip(), cells[grid].strip()
        interests = self._parsed.get(("interest", cells[interests]))
        roles = self._parsed.get(("service_role", cells[roles]))
        trade = self.catalogue.find("trade", cells[trade])
        if (_PLAIN_MOBILE.fullmatch(phone) and _mobile_prefix_valid(phone[:5]) and REAL_NAME.fullmatch(name)
                and grid in self.grids and (not self.allowed or grid.startswith(self.allowed)) and trade is not None
                and interests is not None and not interests[1] and len(interests[0]) <= MAX_INTERESTS_PER_VOLUNTEER
                and roles is not None and not roles[1] and roles[0]):
            return phone, name, grid, trade.id, interests[2], roles[2]
        return None

    def _full(self, cells: list[str], header: dict[str, int]) -> tuple | list[str]:
        errors, find, phone, width = [], self.catalogue.find, None, len(cells)
        value = {column: cells[n] for column, n in header.items() if n < width}

        def get(column: str) -> str:
            return value.get(column, "")

        try:
            phone = checked_phone(get("phone"))
        except ValidationFailed:
            errors.append("手机号：格式不正确，应为 11 位中国大陆手机号")
        name = get("real_name").strip()
        if not REAL_NAME.fullmatch(name):
            errors.append("姓名：应为 1–32 个汉字或字母" if name else "姓名：不能为空")
        grid = get("grid").strip()
        if grid not in self.grids:
            errors.append(f"网格：代码「{grid[:20]}」不存在，应为 14 位网格代码" if grid else "网格：不能为空")
        elif self.allowed and not grid.startswith(self.allowed):
            errors.append("网格：不在您的管辖范围内")
        trade = find("trade", get("trade"))
        if trade is None:
            errors.append(f"行业：未知的行业「{get('trade').strip()[:20]}」" if get("trade").strip()
                          else "行业：不能为空")
        interests = self._tags("interest", get("interests"), "兴趣", errors)
        if len(interests[0]) > MAX_INTERESTS_PER_VOLUNTEER:
            errors.append(f"兴趣：最多 {MAX_INTERESTS_PER_VOLUNTEER} 项")
        roles = self._tags("service_role", get("service_roles"), "服务岗位", errors)
        if not roles[0] and not any(e.startswith("服务岗位") for e in errors):
            errors.append("服务岗位：至少填写一项（信息员、巡防员、调解员、宣传员、支援员、引导员）")
        if errors:
            return errors
        return phone, name, grid, trade.id, interests[2], roles[2]

    def _tags(self, kind: str, text: str, label: str, errors: list) -> tuple[frozenset, tuple, int]:
        parsed = self._parsed.get((kind, text))
        if parsed is None:
            parsed = self._parse(kind, text, label)
            if len(self._parsed) < TAG_CACHE_SIZE:
                self._parsed[(kind, text)] = parsed
        errors.extend(parsed[1])
        return parsed

    def _parse(self, kind: str, text: str, label: str) -> tuple[frozenset, tuple, int]:
        ids, errors = set(), []
        for part in filter(None, _LIST_SPLIT.split(text.strip())):
            entry = self.catalogue.find(kind, part)
            if entry is None:
                errors.append(f"{label}：未知的{label}「{part[:20]}」")
            else:
                ids.add(entry.id)
        # interest id n is bit n-1 of the mask (taxonomy.interest_mask); service role n is bit n
        mask = interest_mask(ids) if kind == "interest" else role_id_mask(ids)
        return frozenset(ids), tuple(errors), mask


class Sealer:
    """Encrypts checked rows for the stage: the cipher looked up once, nonces drawn in blocks, one thread."""

    def __init__(self):
        self.cipher, self.encrypt = cipher(), cipher().encryptor()

    def row(self, line: int, phone: str, name: str, grid: str, trade_id: int, interests: int, roles: int):
        """A checked row (interest and service-role masks) as the bulk path stages it."""
        c, encrypt = self.cipher, self.encrypt
        # the phone's hash and ciphertext as auth stores them (auth_service.phone_hash; aad b"phone"): imported
        # people sign in by SMS with the same phone (tests check find_by_phone and phone_of on imported rows)
        return bulk.StageRow(line, c.blind_index(phone, "phone"), encrypt(phone, b"phone"), encrypt(name, NAME_AAD),
                             name_index(name, c), grid, trade_id, interests, roles,
                             0)  # new_id: drawn per batch, in grid order (bulk.make_batch)
