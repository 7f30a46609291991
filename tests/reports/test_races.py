"""Races on PostgreSQL: retries of one submission at the same moment make one report; two staff taking the same
step at once move the case once (the row is locked for the step)."""
import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.errors import Conflict
from app.extensions import db
from app.reports import service, workflow
from app.reports.models import Report, Transition
from tests.reports.helpers import body, file


@pytest.mark.postgres
def test_simultaneous_retries_file_one_report(concurrently, volunteer):
    user, _ = volunteer()
    payload = body()

    def submit(_i):
        report, created = service.file(user=db.session.get(User, user.id), data=dict(payload))
        return str(report.id), created

    results = concurrently(submit, 4)
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert len({rid for rid, _ in results}) == 1
    assert db.session.execute(select(func.count()).select_from(Report)).scalar() == 1


@pytest.mark.postgres
def test_two_staff_accepting_at_once_move_the_case_once(client, concurrently, volunteer, community, login):
    _, headers = volunteer()
    rid = int(file(client, headers)["id"])
    first = community[0].id
    second = login("community_staff", "440106001001")[0].id

    def accept(i):
        try:
            workflow.act(user=db.session.get(User, (first, second)[i]), report_id=rid, data={"action": "accept"})
            return "accepted"
        except Conflict as exc:
            return exc.error

    assert sorted(concurrently(accept, 2)) == ["accepted", "report_state_conflict"]
    assert db.session.execute(select(func.count()).select_from(Transition).where(
        Transition.report_id == rid, Transition.action == "accept")).scalar() == 1
