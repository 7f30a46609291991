"""Every route × every role (and anonymous) → the expected answer, held in one table.

A route missing from ACCESS fails the test, so every new endpoint must state who may call it.
Values: PUBLIC (anyone), SIGNED_IN (any role), or the set of roles that pass the role check.
Denied roles must get 403, anonymous 401; allowed callers must get past the check (any status but 401/403,
unless the route itself answers 403 for a scope reason: list those in SCOPE_CHECKED)."""
import re

import pytest

from app.auth.models import ROLES
from tests import factories

PUBLIC = "public"
SIGNED_IN = "signed_in"
STAFF = {"organiser", "venue_staff", "health_official", "admin"}
TEAM = {"volunteer", "organiser", "admin"}  # patrols: volunteers (leaders among them), organisers, admins

ACCESS = {
    # platform
    "GET /api/v1/openapi.json": PUBLIC,
    "GET /api/v1/docs": PUBLIC,
    "GET /api/v1/docs/ui/<path:filename>": PUBLIC,
    "GET /api/v1/health": PUBLIC,
    "POST /api/v1/auth/sms-codes": PUBLIC,
    "POST /api/v1/auth/login/sms": PUBLIC,
    "POST /api/v1/auth/login/wechat": PUBLIC,
    "POST /api/v1/auth/login/password": PUBLIC,
    "POST /api/v1/auth/refresh": PUBLIC,  # needs a refresh token, checked separately in test_auth
    "POST /api/v1/auth/logout": SIGNED_IN,
    "GET /api/v1/me": SIGNED_IN,
    "POST /api/v1/auth/totp/enrolment": PUBLIC,
    "POST /api/v1/auth/totp/enrolment/confirm": PUBLIC,
    "POST /api/v1/admin/users/<int:user_id>/disable": {"admin"},
    "POST /api/v1/admin/users/<int:user_id>/enable": {"admin"},
    "POST /api/v1/admin/users/<int:user_id>/totp/reset": {"admin"},
    "POST /api/v1/admin/users/<int:user_id>/roles/revoke": {"admin"},
    "POST /api/v1/admin/users/<int:user_id>/password": {"admin"},
    "GET /api/v1/areas": PUBLIC,
    "GET /api/v1/areas/<string:code>": PUBLIC,
    # health codes
    "POST /api/v1/health-codes": SIGNED_IN,
    "GET /api/v1/health-codes": SIGNED_IN,
    "GET /api/v1/health-codes/keys": PUBLIC,
    "POST /api/v1/health-codes/verify": {"venue_staff", "health_official"},
    "GET /api/v1/health-codes/<int:code_id>": SIGNED_IN,
    "DELETE /api/v1/health-codes/<int:code_id>": SIGNED_IN,
    "POST /api/v1/health-codes/<int:code_id>/declarations": SIGNED_IN,
    "GET /api/v1/health-codes/<int:code_id>/token": SIGNED_IN,
    "GET /api/v1/health-codes/<int:code_id>/qr.png": SIGNED_IN,
    "POST /api/v1/health-codes/<int:code_id>/verification": SIGNED_IN,
    "GET /api/v1/health-codes/<int:code_id>/holders": SIGNED_IN,
    "DELETE /api/v1/health-codes/<int:code_id>/holders/<int:holder_id>": SIGNED_IN,
    # venues and scans
    "POST /api/v1/venues": SIGNED_IN,
    "GET /api/v1/venues": {"organiser", "health_official", "admin"},
    "GET /api/v1/venues/<int:venue_id>": SIGNED_IN,
    "PATCH /api/v1/venues/<int:venue_id>": SIGNED_IN,
    "GET /api/v1/venues/<int:venue_id>/staff": SIGNED_IN,
    "POST /api/v1/venues/<int:venue_id>/staff": SIGNED_IN,
    "DELETE /api/v1/venues/<int:venue_id>/staff/<int:user_id>": SIGNED_IN,
    "GET /api/v1/venues/<int:venue_id>/code": SIGNED_IN,
    "POST /api/v1/venues/<int:venue_id>/code/rotate": SIGNED_IN,
    "GET /api/v1/venues/<int:venue_id>/poster.png": SIGNED_IN,
    "GET /api/v1/venues/<int:venue_id>/poster.pdf": SIGNED_IN,
    "POST /api/v1/venues/<int:venue_id>/approval": {"organiser", "admin"},
    "GET /api/v1/venues/<int:venue_id>/stats": SIGNED_IN,
    "POST /api/v1/checkins": SIGNED_IN,
    "POST /api/v1/scans/batch": {"venue_staff"},
    "GET /api/v1/health-codes/<int:code_id>/visits": {"resident"},
    "PATCH /api/v1/admin/health-codes/<int:code_id>/colour": {"health_official"},
    "GET /api/v1/admin/health-codes/<int:code_id>/history": {"health_official"},
    "POST /api/v1/admin/tracing": {"health_official"},
    "POST /api/v1/admin/tracing/apply": {"health_official"},
    "GET /api/v1/admin/health-codes/colour-counts": {"health_official", "admin"},
    # volunteers and groups
    "GET /api/v1/trades": PUBLIC,
    "POST /api/v1/trades": {"admin"},
    "GET /api/v1/interests": PUBLIC,
    "POST /api/v1/interests": {"admin"},
    "POST /api/v1/volunteers": SIGNED_IN,
    "GET /api/v1/volunteers/me": SIGNED_IN,
    "PATCH /api/v1/volunteers/me": SIGNED_IN,
    "DELETE /api/v1/volunteers/me": SIGNED_IN,
    "GET /api/v1/volunteers/me/group-suggestions": SIGNED_IN,
    "GET /api/v1/volunteers": {"organiser", "admin"},
    "GET /api/v1/stats/volunteers": {"organiser", "admin"},
    "GET /api/v1/volunteers/export.csv": {"organiser", "admin"},
    "GET /api/v1/volunteers/export.xlsx": {"organiser", "admin"},
    "POST /api/v1/admin/volunteers/imports": {"admin"},
    "GET /api/v1/admin/volunteers/imports/<int:job_id>": {"admin"},
    "GET /api/v1/admin/volunteers/imports/<int:job_id>/rejected.csv": {"admin"},
    "POST /api/v1/groups": {"organiser", "admin"},
    "GET /api/v1/groups": SIGNED_IN,
    "GET /api/v1/groups/pending": {"organiser", "admin"},
    "GET /api/v1/groups/<int:group_id>": SIGNED_IN,
    "PATCH /api/v1/groups/<int:group_id>": {"organiser", "admin"},
    "POST /api/v1/groups/<int:group_id>/members": {"volunteer", "organiser", "admin"},
    "GET /api/v1/groups/<int:group_id>/members": {"volunteer", "organiser", "admin"},
    "PATCH /api/v1/groups/<int:group_id>/members/<int:volunteer_id>": {"volunteer", "organiser", "admin"},
    "DELETE /api/v1/groups/<int:group_id>/members/<int:volunteer_id>": {"volunteer", "organiser", "admin"},
    # patrols
    "POST /api/v1/patrols": TEAM,
    "GET /api/v1/patrols": TEAM,
    "GET /api/v1/patrols/<int:patrol_id>": TEAM,
    "PATCH /api/v1/patrols/<int:patrol_id>": TEAM,
    "POST /api/v1/patrols/<int:patrol_id>/cancel": TEAM,
    "POST /api/v1/patrols/<int:patrol_id>/signups": {"volunteer"},
    "DELETE /api/v1/patrols/<int:patrol_id>/signups/me": {"volunteer"},
    "GET /api/v1/patrols/<int:patrol_id>/signups": TEAM,
    "GET /api/v1/patrols/<int:patrol_id>/checkin-code": TEAM,
    "GET /api/v1/patrols/<int:patrol_id>/checkin-code.png": TEAM,
    "POST /api/v1/patrols/checkins": {"volunteer"},
    "POST /api/v1/patrols/<int:patrol_id>/checkout": {"volunteer"},
    "GET /api/v1/patrols/<int:patrol_id>/attendances": TEAM,
    "POST /api/v1/patrols/<int:patrol_id>/attendances/<int:volunteer_id>/certifications": TEAM,
    "POST /api/v1/patrols/<int:patrol_id>/attendances/certify": TEAM,
    "POST /api/v1/points/grants": {"organiser", "admin"},
    "GET /api/v1/volunteers/me/service-record": {"volunteer"},
    "GET /api/v1/leaderboards": TEAM,
    "GET /api/v1/me/notifications": SIGNED_IN,
    "GET /api/v1/me/signups": SIGNED_IN,
    "GET /api/v1/me/venues": SIGNED_IN,
    "GET /api/v1/me/subscriptions": SIGNED_IN,
    "POST /api/v1/me/subscriptions": SIGNED_IN,
    "POST /api/v1/me/notifications/read": SIGNED_IN,
    # invitations (to a group, to a venue's staff), answered by the invitee
    "GET /api/v1/me/invitations": SIGNED_IN,
    "POST /api/v1/me/invitations/<int:invitation_id>/accept": SIGNED_IN,
    "POST /api/v1/me/invitations/<int:invitation_id>/decline": SIGNED_IN,
    # 有呼必应 reports: any signed-in caller reaches the queue and case routes, which check roles per queue / step
    "POST /api/v1/reports": {"resident", "volunteer"},
    "GET /api/v1/reports": SIGNED_IN,
    "GET /api/v1/reports/<int:report_id>": SIGNED_IN,
    "POST /api/v1/reports/<int:report_id>/transitions": SIGNED_IN,
    "POST /api/v1/report-photos": {"resident", "volunteer", "department_staff"},
    "GET /api/v1/report-photos/<string:token>": PUBLIC,  # the signed link is the permission
    "GET /api/v1/report-categories": PUBLIC,
    "POST /api/v1/report-categories": {"admin"},
    "PUT /api/v1/report-categories/<int:category_id>": {"admin"},
    "GET /api/v1/report-departments": PUBLIC,
    "POST /api/v1/report-departments": {"admin"},
    "POST /api/v1/report-departments/<int:department_id>/staff": {"admin"},
    "GET /api/v1/stats/reports": {"community_staff", "street_staff", "admin"},
    "GET /api/v1/open311/services.json": PUBLIC,
    "GET /api/v1/open311/requests.json": PUBLIC,
    "GET /api/v1/open311/requests/<int:request_id>.json": PUBLIC,
    "POST /api/v1/open311/requests.json": {"resident", "volunteer"},
    # the benchmark yardsticks /api/v1/bench/* belong to the bench's app (bench/wsgi.py), never to this one:
    # tests/bench/test_yardsticks.py proves them absent here and serves them from the bench's gunicorn.
    # the poster's link for 扫普通链接二维码打开小程序 (outside /api/v1: its prefix is registered with WeChat)
    "GET /v/<string:name>": PUBLIC,
}

# Routes whose allowed roles may still get 403 from a scope check on the dummy ids used here.
SCOPE_CHECKED: set[str] = set()

_DUMMY = {"int": "987654321", "uuid": "00000000-0000-4000-8000-000000000000"}
_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/v1", "/v/")) or rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield f"{method} {rule.rule}", method, rule


def _url(rule) -> str:
    """The rule with every path parameter replaced by an id that exists nowhere."""
    return _PARAM.sub(lambda m: _DUMMY.get(m.group(1) or "", "987654321"), rule.rule)


def test_every_route_is_in_the_table(app):
    routes = {key for key, _, _ in _routes(app)}
    missing = sorted(routes - set(ACCESS))
    stale = sorted(set(ACCESS) - routes)
    assert not missing, f"routes without an access rule: {missing}"
    assert not stale, f"access rules for routes that no longer exist: {stale}"


def _call(client, method, url, headers):
    kwargs = {"headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    return client.open(url, method=method, **kwargs)


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
def test_access_matrix(app, client, login, who):
    user = None if who == "anonymous" else login(who)[0]
    failures = []
    for key, method, rule in _routes(app):
        rule_access = ACCESS.get(key)
        if rule_access is None:
            continue
        headers = factories.auth_headers(user) if user else {}  # a new token each call: logout revokes one
        status = _call(client, method, _url(rule), headers).status_code
        if rule_access == PUBLIC:
            ok = status not in (401, 403) or key == "POST /api/v1/auth/refresh"
        elif who == "anonymous":
            ok = status == 401
        elif rule_access == SIGNED_IN or who in rule_access:
            ok = status != 401 and (status != 403 or key in SCOPE_CHECKED)
        else:
            ok = status == 403
        if not ok:
            failures.append(f"{who}: {key} -> {status}")
    assert not failures, "\n".join(failures)
