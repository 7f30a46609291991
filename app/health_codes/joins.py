"""Codes and their persons inside another domain's statements. A check-in reads the venue, the code and its person
in one SELECT, and a trace is one statement over scans, codes and persons: venues builds those statements with
the pieces below, so that it never names these tables or their columns. Each piece only adds to the statement it
is given (no statement of its own, nothing run): the caller builds its statement once, as a module constant."""
from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm.attributes import set_committed_value

from app.health_codes.models import HealthCode, Person


def with_code(stmt: Select, code_id: ColumnElement) -> Select:
    """`stmt` with two more entities, the code whose id is `code_id` (a bound parameter) and its person (None when
    it has none), joined to each row of stmt (which reads one table): no row when there is no such code (`attach`
    then hands the code its person)."""
    return stmt.select_from(*stmt.columns_clause_froms).join(HealthCode, true()) \
        .outerjoin(Person, Person.id == HealthCode.person_id).where(HealthCode.id == code_id) \
        .add_columns(HealthCode, Person)


def attach(code: HealthCode, person: Person | None) -> HealthCode:
    """The code with its person as read in the same row (`with_code`): reading code.person loads nothing."""
    set_committed_value(code, "person", person)
    return code


def from_code(stmt: Select, code_id: ColumnElement) -> Select:
    """`stmt` read from the code whose id is `code_id`: whatever stmt then joins is joined to that code's one row
    (with outer joins: one row even when nothing joins), and there is no row without such a code. Call it before
    stmt's joins."""
    codes = HealthCode.__table__
    return stmt.select_from(codes).where(codes.c.id == code_id)


def codes_of_holder(code_id: ColumnElement) -> Select:
    """SELECT the ids of every code of the person who holds the code `code_id` (the case's codes, in a trace)."""
    codes = HealthCode.__table__
    case_codes = codes.alias("case_codes")
    person = select(codes.c.person_id).where(codes.c.id == code_id).scalar_subquery()
    return select(case_codes.c.id).where(case_codes.c.person_id == person)


def with_holder(stmt: Select, code_id: ColumnElement) -> Select:
    """`stmt` outer-joined to the code `code_id` (a column of stmt) names and to that code's person, with three
    more columns: the person's id and colour, and the name on the code (encrypted: `service.masked_names`)."""
    holder, holder_person = HealthCode.__table__.alias("holder"), Person.__table__.alias("holder_person")
    return stmt.add_columns(holder_person.c.id, holder_person.c.colour, holder.c.name_enc) \
        .outerjoin(holder, holder.c.id == code_id).outerjoin(holder_person, holder_person.c.id == holder.c.person_id)
