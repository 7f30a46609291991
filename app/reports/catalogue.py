"""Departments and categories: seeded once, then data an admin edits (names, handling department, deadlines)."""
from sqlalchemy import func, select

from app.areas import service as area_service
from app.auth import service as auth_service
from app.common.views import View
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.reports.models import Category, Department, DepartmentStaff

CITY = "4401"
# (id, code, name): the city's functional departments that answer reports.
DEPARTMENTS = [
    (1, "public_security", "公安分局"), (2, "fire", "消防救援大队"), (3, "sanitation", "环卫所"),
    (4, "urban_management", "城管执法队"), (5, "eco_environment", "生态环境分局"), (6, "mediation", "司法所"),
    (7, "housing", "住建局"), (8, "street_office", "街道综合办"),
]
# (id, code, name, department id, accept h, resolve h, urgent accept h, urgent resolve h)
CATEGORIES = [
    (1, "public_security", "治安隐患", 1, 4, 72, 1, 24), (2, "fire_hazard", "消防隐患", 2, 2, 48, 1, 12),
    (3, "sanitation", "环境卫生", 3, 8, 72, 2, 24), (4, "street_vending", "占道经营", 4, 8, 72, 2, 24),
    (5, "noise", "噪音扰民", 5, 8, 72, 2, 24), (6, "dispute", "矛盾纠纷", 6, 8, 120, 2, 48),
    (7, "facility_damage", "设施损坏", 7, 8, 120, 2, 48), (8, "other", "其他", 8, 24, 168, 4, 72),
]


def seed() -> int:
    """Add the built-in departments and categories that are missing (idempotent); returns how many were added."""
    added = 0
    for id_, code, name in DEPARTMENTS:
        if db.session.get(Department, id_) is None:
            db.session.add(Department(id=id_, code=code, name=name, area_code=CITY))
            added += 1
    db.session.flush()
    for id_, code, name, dept, accept, resolve, urgent_accept, urgent_resolve in CATEGORIES:
        if db.session.get(Category, id_) is None:
            db.session.add(Category(id=id_, code=code, name=name, department_id=dept, accept_hours=accept,
                                    resolve_hours=resolve, urgent_accept_hours=urgent_accept,
                                    urgent_resolve_hours=urgent_resolve))
            added += 1
    db.session.commit()
    return added


def categories(*, active_only: bool = True) -> list[Category]:
    """Categories in id order."""
    query = select(Category).order_by(Category.id)
    return list(db.session.execute(query.where(Category.active) if active_only else query).scalars())


def departments() -> list[Department]:
    """Departments in id order."""
    return list(db.session.execute(select(Department).order_by(Department.id)).scalars())


def with_departments(categories: list[Category]) -> list[View]:
    """Categories with their handling department's code, the departments read in one query."""
    ids = {c.department_id for c in categories}
    codes = dict(db.session.execute(select(Department.id, Department.code).where(Department.id.in_(ids))).all()) \
        if ids else {}
    return [View(c, department=codes[c.department_id]) for c in categories]


def _small(ref) -> bool:
    return not isinstance(ref, int) or 0 < ref < 2**15  # ids are SMALLINT: larger ones name nothing


def _by_ref(model, ref, error: str, message: str):
    """A row of model by id (int) or code (str), or NotFound(error)."""
    found = None
    if _small(ref):
        query = select(model).where(model.id == ref if isinstance(ref, int) else model.code == ref)
        found = db.session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(error, message)
    return found


def category(ref) -> Category:
    """A category by id or code, or NotFound(category_not_found)."""
    return _by_ref(Category, ref, "category_not_found", "报事类别不存在")


def department(ref) -> Department:
    """A department by id or code, or NotFound(department_not_found)."""
    return _by_ref(Department, ref, "department_not_found", "职能部门不存在")


def _next_id(model) -> int:
    return (db.session.execute(select(func.max(model.id))).scalar() or 0) + 1


def _unique(model, **values) -> None:
    for column, value in values.items():
        if db.session.execute(select(model).where(getattr(model, column) == value)).first():
            raise Conflict(f"{column}_taken", "代码或名称已存在")


def create_category(*, data: dict) -> Category:
    """新增报事类别：Add a category (admins)."""
    _unique(Category, code=data["code"], name=data["name"])
    dept = department(data.pop("department"))
    row = Category(id=_next_id(Category), department_id=dept.id, **data)
    db.session.add(row)
    db.session.commit()
    return row


def update_category(*, category_id: int, data: dict) -> Category:
    """修改报事类别：Change a category's name, department, deadlines or whether it is offered (admins)."""
    row = category(category_id)
    if "name" in data and data["name"] != row.name:
        _unique(Category, name=data["name"])
    if "department" in data:
        row.department_id = department(data.pop("department")).id
    for key, value in data.items():
        setattr(row, key, value)
    db.session.commit()
    return row


def create_department(*, data: dict) -> Department:
    """新增职能部门：Add a department over an area (admins)."""
    _unique(Department, code=data["code"])
    area_service.get(data["area"])
    row = Department(id=_next_id(Department), code=data["code"], name=data["name"], area_code=data["area"])
    db.session.add(row)
    db.session.commit()
    return row


def add_staff(*, department_id: int, username: str, password: str, area: str) -> DepartmentStaff:
    """Make a staff account of a department, with the department_staff role over an area inside the department's."""
    dept = department(department_id)
    if not area.startswith(dept.area_code):
        raise ValidationFailed("area_outside_department", "账号的区域应在部门的辖区之内",
                               errors={"json": {"area": ["不在部门辖区内"]}})
    user = auth_service.create_staff(username=username, password=password, role="department_staff", area_code=area)
    link = db.session.get(DepartmentStaff, (dept.id, user.id)) or DepartmentStaff(department_id=dept.id,
                                                                                  user_id=user.id)
    db.session.add(link)
    db.session.commit()
    return link


def departments_of(user_id: int) -> list[int]:
    """Ids of the departments a user works for."""
    return list(db.session.execute(select(DepartmentStaff.department_id)
                                   .where(DepartmentStaff.user_id == user_id)).scalars())


def staff_over(department_id: int, area_code: str) -> list[int]:
    """Ids of a department's active staff whose department_staff role covers the area."""
    members = set(db.session.execute(select(DepartmentStaff.user_id)
                                     .where(DepartmentStaff.department_id == department_id)).scalars())
    return [uid for uid in auth_service.holders(roles=("department_staff",), area_code=area_code) if uid in members]


def deadlines(cat: Category, urgency: str) -> tuple[int, int]:
    """(accept hours, resolve hours) of a category at an urgency."""
    if urgency == "urgent":
        return cat.urgent_accept_hours, cat.urgent_resolve_hours
    return cat.accept_hours, cat.resolve_hours
