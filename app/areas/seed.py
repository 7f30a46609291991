"""Load the real districts and streets, and generate communities and grids below them with stable codes."""
import csv
import random
from pathlib import Path

from sqlalchemy import insert, select

from app.areas.models import Area
from app.extensions import db

STREETS_CSV = Path(__file__).resolve().parent.parent / "data" / "guangzhou_streets.csv"
CITY = ("4401", "广州市")
COMMUNITIES, GRIDS = 2740, 19500

_WORDS = ("东风 西华 南岸 北园 新村 龙津 华林 金花 兴隆 和平 安泰 康乐 德政 福地 瑞宝 宝岗 富华 荣华 明珠 光塔 "
          "朝阳 凤凰 桂花 荔枝 榕荫 江南 沙河 石牌 五山 员村 棠下 车陂 珠江 滨江 海印 流花 越华 环市 登峰 "
          "南华 逢源 多宝 昌华 彩虹 岭南 鹤洞 芳村 花地 南源 西村 站前 桥中 冲口 茶滘 东漖 石围 白云 三元 "
          "松柏 景泰 同德 棠景 新市 黄石 京溪 永平 嘉禾 均禾 金沙 龙归 人和 太和 钟落 新华 秀全 狮岭 花东 "
          "炭步 赤坭 梯面 云山 翠园 碧桂 丽景 锦绣 文德 书院 学府 工业 商贸 港湾 渔民 果园 茶园 竹林 荷塘").split()


def _allocate(total: int, weights: list[float], minimum: int, maximum: int) -> list[int]:
    """Split total over the weights (largest remainder), each share within [minimum, maximum]."""
    spare = total - minimum * len(weights)
    scale = spare / sum(weights)
    raw = [w * scale for w in weights]
    shares = [min(maximum - minimum, int(r)) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    left, i = spare - sum(shares), 0
    while left > 0:
        j = order[i % len(order)]
        if shares[j] < maximum - minimum:
            shares[j] += 1
            left -= 1
        i += 1
    return [s + minimum for s in shares]


def generate() -> list[dict]:
    """Every area row: city, 11 districts, 178 streets (real), 2,740 communities and 19,500 grids (generated)."""
    rng = random.Random(4401)
    rows = [dict(code=CITY[0], name=CITY[1], level="city", depth=0, parent_code=None)]
    streets = []
    with STREETS_CSV.open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            if not any(r["code"] == rec["district_code"] for r in rows):
                rows.append(dict(code=rec["district_code"], name=rec["district_name"], level="district", depth=1,
                                 parent_code=CITY[0]))
            streets.append(dict(code=rec["street_code"], name=rec["street_name"], level="street", depth=2,
                                parent_code=rec["district_code"]))
    rows += streets
    per_street = _allocate(COMMUNITIES, [rng.uniform(0.5, 1.5) for _ in streets], 4, 60)
    communities = []
    for street, count in zip(streets, per_street):
        base = street["name"].removesuffix("街道").removesuffix("镇").removesuffix("街")
        suffix = "村" if street["name"].endswith("镇") else "社区"
        words = rng.sample(_WORDS, count)
        for n, word in enumerate(words, start=1):
            communities.append(dict(code=f"{street['code']}{n:03d}", name=f"{base}{word}{suffix}", level="community",
                                    depth=3, parent_code=street["code"]))
    rows += communities
    per_community = _allocate(GRIDS, [rng.uniform(0.5, 1.5) for _ in communities], 3, 20)
    for community, count in zip(communities, per_community):
        rows += [dict(code=f"{community['code']}{n:02d}", name=f"{community['name']}第{n}网格", level="grid",
                      depth=4, parent_code=community["code"]) for n in range(1, count + 1)]
    return rows


def seed_areas() -> int:
    """Insert whatever areas are missing (idempotent); returns how many were added."""
    existing = set(db.session.execute(select(Area.code)).scalars())
    missing = [r for r in generate() if r["code"] not in existing]
    for level in ("city", "district", "street", "community", "grid"):  # parents before children
        batch = [r for r in missing if r["level"] == level]
        for start in range(0, len(batch), 5000):
            db.session.execute(insert(Area), batch[start:start + 5000])
    db.session.commit()
    return len(missing)
