"""The area tree. Codes nest by prefix (4401 → 440106 → 440106001 → 440106001001 → 44010600100101),
so "is X inside Y" is a prefix test and a subtree is one index range scan."""
from sqlalchemy import ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.common.types import code_string
from app.extensions import db

LEVELS = ("city", "district", "street", "community", "grid")
CODE_LENGTH = {"city": 4, "district": 6, "street": 9, "community": 12, "grid": 14}


class Area(db.Model):
    """One node of the Guangzhou area tree (市/区/街道镇/社区村/网格)."""

    __tablename__ = "areas"
    __table_args__ = (Index("ix_areas_parent_code", "parent_code", "code"),
                      Index("ix_areas_level_code", "level", "code"))

    code: Mapped[str] = mapped_column(code_string(14), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(10))
    depth: Mapped[int] = mapped_column(SmallInteger)
    parent_code: Mapped[str | None] = mapped_column(code_string(14), ForeignKey("areas.code"))
