"""Realistic demo volunteers: spread over the districts by population (2020 census), trades and interests skewed
as in real rosters, Cantonese surnames. Deterministic for a seed, so a re-run updates the same people."""
import csv
import random
from itertools import accumulate

from app.areas import service as area_service
from app.auth import service as auth_service
from app.volunteers import bulk
from app.volunteers.checks import Sealer
from app.volunteers.taxonomy import ROLE_NAMES, SERVICE_ROLES, Catalogue, interest_mask, role_id_mask

# Residents in millions, 7th census (2020).
DISTRICT_POPULATION = {"440103": 1.24, "440104": 1.04, "440105": 1.82, "440106": 2.24, "440111": 3.74,
                       "440112": 1.26, "440113": 2.65, "440114": 1.64, "440115": 0.85, "440117": 0.72,
                       "440118": 1.47}
TRADE_WEIGHTS = {"express": 6, "food_delivery": 5, "taxi": 3, "property_security": 6, "sanitation": 2, "medical": 3,
                 "teacher": 4, "legal": 1, "social_work": 2, "small_business": 9, "veteran": 3, "public_sector": 10,
                 "it": 6, "student": 9, "retired": 20, "other": 11}
INTEREST_WEIGHTS = {"running": 10, "cycling": 6, "square_dance": 12, "photography": 6, "calligraphy": 4,
                    "cantonese_opera": 3, "tai_chi": 6, "basketball": 5, "anti_fraud": 12, "waste_sorting": 10,
                    "elderly_care": 11, "youth_tutoring": 6, "free_clinic": 3, "other": 3}
INTEREST_COUNT_WEIGHTS = [15, 30, 28, 15, 8, 4]  # 0 … 5 interests
ROLE_WEIGHTS = {"informant": 20, "patroller": 35, "mediator": 5, "publicity": 15, "support": 15, "guide": 10}
ROLE_COUNT_WEIGHTS = [0, 55, 35, 10]  # 1 … 3 roles
SURNAMES = ("陈黄李梁林张罗何刘吴郑谢冯邓王周钟曾杨蔡郭卢许黎麦苏叶潘朱胡陆关莫邱余谭廖彭马区温"
            "袁赖方江龙严伍韦骆凌甘欧古")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲志红建国文辉晓婷俊鹏家豪嘉欣子健颖诗雅"
         "锦荣满兴宝珍燕萍海波永康梓浩泳琳卓凯炜铭宇翠玉")
MOBILE_PREFIXES = ("130 131 132 133 135 136 137 138 139 150 151 152 155 156 157 158 159 166 176 177 178 180 181 "
                   "182 183 185 186 187 188 189 191 198 199").split()


class People:
    """Draws demo volunteers: (phone, name, grid, trade_id, interest ids, role bits)."""

    def __init__(self, catalogue: Catalogue, seed: int = 4401, area: str = auth_service.CITY_CODE):
        self.rng = random.Random(seed)
        self.offset = self.rng.randrange(10**4)
        # Numbers come in blocks (号段 + 4-digit H code = the first 7 digits); a city's residents share a few
        # thousand blocks, so the demo draws its numbers from 2,000 of them.
        self.blocks = [f"{MOBILE_PREFIXES[k // 10**4]}{k % 10**4:04d}"
                       for k in self.rng.sample(range(len(MOBILE_PREFIXES) * 10**4), 2000)]
        grids = [code for code, _ in area_service.within(area, "grid")]
        districts = {}
        for code in grids:
            districts.setdefault(code[:6], []).append(code)
        # each grid weighted by its district's population shared among its grids
        self.grids = grids
        self.grid_cum = list(accumulate(DISTRICT_POPULATION.get(g[:6], 1.0) / len(districts[g[:6]]) for g in grids))
        self.trades = [catalogue.find("trade", code).id for code in TRADE_WEIGHTS]
        self.trade_cum = list(accumulate(TRADE_WEIGHTS.values()))
        self.interests = [catalogue.find("interest", code).id for code in INTEREST_WEIGHTS]
        self.interest_weights = list(INTEREST_WEIGHTS.values())
        self.roles = [[code for code, _ in SERVICE_ROLES].index(code) for code in ROLE_WEIGHTS]
        self.role_weights = list(ROLE_WEIGHTS.values())

    def phone(self, i: int) -> str:
        """The i-th phone of this seed, distinct for i < 20 million: block i mod 2,000, then a last-four-digits
        sequence permuted by a multiplier coprime to 10,000."""
        block, n = self.blocks[i % len(self.blocks)], i // len(self.blocks)
        return f"{block}{(self.offset + n * 7919) % 10**4:04d}"

    def _pick(self, items, weights, k):
        chosen = set()
        while len(chosen) < k:
            chosen.add(self.rng.choices(items, weights)[0])
        return sorted(chosen)

    def person(self, i: int) -> tuple:
        rng = self.rng
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        grid = rng.choices(self.grids, cum_weights=self.grid_cum)[0]
        trade = rng.choices(self.trades, cum_weights=self.trade_cum)[0]
        n_interests = rng.choices(range(6), INTEREST_COUNT_WEIGHTS)[0]
        n_roles = rng.choices(range(4), ROLE_COUNT_WEIGHTS)[0]
        return (self.phone(i), name, grid, trade, self._pick(self.interests, self.interest_weights, n_interests),
                self._pick(self.roles, self.role_weights, n_roles))


def batches(people: People, count: int, size: int, start: int = 0):
    """Encrypted batches of demo volunteers, ready for the bulk path."""
    sealer = Sealer()
    for first in range(start, start + count, size):
        rows = {}
        for i in range(first, min(first + size, start + count)):
            row = _sealed(sealer, i + 1, *people.person(i))
            rows[row.phone_hash] = row
        yield bulk.make_batch(rows)


def _sealed(sealer: Sealer, line: int, phone: str, name: str, grid: str, trade_id: int, interests, roles):
    return sealer.row(line, phone, name, grid, trade_id, interest_mask(interests), role_id_mask(roles))


def generate(*, count: int, seed: int = 4401, area: str = auth_service.CITY_CODE, batch_size: int = 20_000,
             on_written=None) -> bulk.Written:
    """Write `count` demo volunteers through the bulk path (reading overlapped with writing)."""
    people = People(Catalogue(), seed, area)
    return bulk.run(batches(people, count, batch_size), source="demo", background=count > batch_size,
                    on_written=on_written)


def write_csv(path, *, count: int, seed: int = 4401) -> None:
    """A CSV file of demo volunteers in the import format (Chinese names for trades, interests and roles)."""
    catalogue = Catalogue()
    people = People(catalogue, seed)
    trade, interest = catalogue.trade_by_id, catalogue.interest_by_id
    role_names = [ROLE_NAMES[code] for code, _ in SERVICE_ROLES]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["手机号", "姓名", "网格", "行业", "兴趣", "服务岗位"])
        for i in range(count):
            phone, name, grid, t, interests, roles = people.person(i)
            out.writerow([phone, name, grid, trade[t].name, "、".join(interest[n].name for n in interests),
                          "、".join(role_names[r] for r in roles)])


DEMO_VOLUNTEER = ("陈大文", "44010600100101", "express", ["running", "anti_fraud"], ["patroller"])
DEMO_GROUPS = [("天河快递街坊群", "trade", "440106", "express", None, "open"),
               ("五山跑步街坊群", "interest", "440106001", None, "running", "approval")]


def seed_small() -> list[str]:
    """The `make run` set (idempotent): the demo resident as a volunteer in 五山街道, 199 more (most in 天河区),
    two groups."""
    from sqlalchemy import select

    from app.common.time import utcnow
    from app.demo import DEMO_RESIDENT_PHONE as phone
    from app.extensions import db
    from app.volunteers import service
    from app.volunteers.models import Group

    catalogue = Catalogue()
    resident = auth_service.resident_by_phone(phone)
    name, grid, trade, interests, roles = DEMO_VOLUNTEER
    written = bulk.Written()
    if service.volunteer_of(resident) is None:  # registered as a resident does it (an import never makes one)
        service.register(user=resident, real_name=name, grid=grid, trade=trade, interests=interests,
                         service_roles=roles)
        written.inserted += 1
    for seed, area, count in ((2021, "440106001", 60), (2022, "440106", 60), (2023, auth_service.CITY_CODE, 79)):
        done = bulk.run(batches(People(catalogue, seed, area), count, count), source="demo")
        written.inserted += done.inserted
        written.updated += done.updated
    for group_name, kind, area, trade_code, interest_code, policy in DEMO_GROUPS:
        if db.session.execute(select(Group.id).where(Group.area_code == area, Group.name == group_name)).first():
            continue
        db.session.add(Group(name=group_name, kind=kind, area_code=area, join_policy=policy, member_count=0,
                             trade_id=catalogue.find("trade", trade_code).id if trade_code else None,
                             interest_id=catalogue.find("interest", interest_code).id if interest_code else None,
                             description="演示数据", created_at=utcnow(), updated_at=utcnow()))
    db.session.commit()
    return [f"demo volunteers: {written.inserted} added, {written.updated} updated "
            f"(the demo resident {phone} is one of them, in 五山街道)", f"demo groups: {len(DEMO_GROUPS)}"]
