"""A property test over every route of the OpenAPI document and every role (and no sign-in at all): whatever
hostile input hypothesis draws (forged cursors, dates in any year and offset, NUL characters, deep nesting,
huge numbers and long strings, in the path, the query and the body), the answer is never a 5xx.

The requests name the fields each operation documents, so most reach its validation or its service; real ids of
a venue, a health code, a group and a patrol make some pass the look-ups and go deeper."""
import base64
import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.auth.models import ROLES
from app.common.time import utcnow
from tests import factories

AREAS = ["4401", "440106", "440106001", "440106001001", "44010600100101"]


def _spec(app) -> dict:
    return app.test_client().get("/api/v1/openapi.json").get_json()


def _operations() -> list[tuple[str, str]]:
    from app import create_app
    from config import TestingConfig

    spec = _spec(create_app(TestingConfig))
    return [(method, path) for path, item in spec["paths"].items() for method in item if method != "parameters"]


OPERATIONS = _operations()


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


# -- strategies ---------------------------------------------------------------------------------------------------

def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


big_ints = st.one_of(st.integers(-2**70, 2**70), st.sampled_from([0, -1, 2**63 - 1, 2**63, 2**64, -2**63 - 1]))
scalars = st.one_of(st.none(), st.booleans(), big_ints, st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=20))
forged_keys = st.builds(_b64, st.lists(st.one_of(big_ints, st.booleans(), st.text(max_size=6), st.just("\u0000"),
                                                st.sampled_from(AREAS)), min_size=1, max_size=2))
cursors = st.one_of(forged_keys, forged_keys, forged_keys, st.builds(_b64, st.lists(scalars, max_size=4)),
                    st.builds(_b64, st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6)),
                    st.text(max_size=40), st.just("===="), st.just(_b64([2**64, "\u0000"])))
years = st.one_of(st.sampled_from([1, 1899, 1900, 1970, 2026, 2999, 3000, 9999]), st.integers(1, 9999))
offsets = st.sampled_from(["", "Z", "+14:00", "-12:00", "+08:00", "+23:59", "-00:00"])
days = st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", years, st.integers(1, 12), st.integers(1, 31))
moments = st.builds(lambda day, h, off: f"{day}T{h:02d}:00:00{off}", days, st.integers(0, 23), offsets)
nul_texts = st.builds(lambda a, b: f"{a}\u0000{b}", st.text(max_size=8), st.text(max_size=8))
long_texts = st.builds(lambda n, c: c * n, st.integers(200, 20_000), st.sampled_from(["a", "汉", "9", "\u202e"]))
nested = st.builds(lambda depth: json.loads("[" * depth + "]" * depth), st.integers(2, 30))


def hostile(real: list) -> st.SearchStrategy:
    """One value a field may be sent: hostile most of the time, sometimes a real id or area code."""
    return st.one_of(st.sampled_from(real), cursors, days, moments, nul_texts, long_texts, big_ints, scalars,
                     nested, st.lists(st.sampled_from(real), max_size=3),
                     st.dictionaries(st.text(max_size=5), scalars, max_size=3))


def query_value(name: str, real: list) -> st.SearchStrategy:
    """A query value: a forged cursor for `cursor`, a date in any year for dates, else anything."""
    if name == "cursor":
        return cursors
    if name in ("date", "from", "to", "since", "until"):
        return st.one_of(days, moments)
    if name in ("area", "parent"):
        return st.one_of(st.sampled_from(AREAS), st.sampled_from(AREAS), nul_texts, st.sampled_from(real))
    if name in ("group", "id"):
        return st.one_of(st.sampled_from(real), nul_texts, long_texts)
    return st.one_of(st.sampled_from(real), nul_texts, long_texts, big_ints.map(str), st.text(max_size=20))


def body_value(name: str, real: list) -> st.SearchStrategy:
    """A body value: a time in any year for `*_at` fields, else anything."""
    if name.endswith("_at") or name in ("since", "until", "date"):
        return st.one_of(moments, days, hostile(real))
    return hostile(real)


def path_value(real: list) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(real), big_ints.map(str), st.sampled_from(["%00", "a%00b", "0x10", "1e9", "-"]))


def shaped(spec: dict, schema: dict, real: list, name: str = "", depth: int = 0) -> st.SearchStrategy:
    """A body following the documented shape (objects, lists of objects), each leaf a hostile value, some
    fields left out; at any level the shape may be replaced by a hostile value."""
    schema = _resolve(spec, schema)
    if schema.get("type") == "object" and "properties" in schema and depth < 3:
        fields = {key: shaped(spec, sub, real, key, depth + 1) for key, sub in schema["properties"].items()}
        return st.fixed_dictionaries({}, optional=fields)
    if schema.get("type") == "array" and "items" in schema and depth < 3:
        return st.one_of(st.lists(shaped(spec, schema["items"], real, name, depth + 1), max_size=3),
                         body_value(name, real))
    return body_value(name, real)


def raw_bodies() -> st.SearchStrategy:
    """Bodies that are not a flat JSON object: deep nesting, NULs, not JSON at all, past the size limit."""
    return st.one_of(
        st.builds(lambda d: '{"a":' + "[" * d + "]" * d + "}", st.integers(30, 50_000)),
        st.builds(lambda d: "{" + '"a":{' * d + "}" * (d + 1), st.integers(30, 5_000)),
        st.just('{"\\u0000": "\\u0000"}'), st.just("not json"), st.just("\u0000"), st.just("[]"),
        st.just('{"a": 1e999}'), st.just(" " * (1024 * 1024 + 1)))


# -- the test -----------------------------------------------------------------------------------------------------

@pytest.fixture
def world(app, client):
    """Users of every role, and a venue, a health code, a group, a patrol and a report to aim at."""
    everyone = factories.user(roles=[(role, "4401") for role in ROLES])
    headers = factories.auth_headers(everyone)
    users = {role: factories.user(roles=[(role, "440106")]) for role in ROLES} | {"everyone": everyone}
    venue, code = str(factories.venue(owner=everyone).id), str(factories.health_code(owner=everyone).id)
    from tests.patrols.helpers import MEETING

    group = factories.community_group()
    starts = utcnow() + timedelta(days=1)
    patrol = client.post("/api/v1/patrols", headers=headers, json={
        "group_id": str(group.id), "area": "440106001001", "title": "夜间巡逻", "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(), "meeting_point": MEETING, "capacity": 3}).get_json()
    from app.reports import catalogue
    from tests.reports.helpers import body as report_body

    catalogue.seed()
    report = client.post("/api/v1/reports", headers=headers, json=report_body()).get_json()["id"]
    real = [venue, code, str(group.id), patrol["id"], report, str(everyone.id), "express", "running", *AREAS]
    return {"spec": _spec(app), "users": users, "real": real}


@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
@settings(max_examples=10, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hostile_input_never_answers_5xx(client, world, method, path, data):
    spec, real = world["spec"], world["real"]
    operation = spec["paths"][path][method]
    params = operation.get("parameters", []) + spec["paths"][path].get("parameters", [])
    url = path
    for p in params:
        if p["in"] == "path":
            url = url.replace("{%s}" % p["name"], data.draw(path_value(real), label=p["name"]))
    query = {p["name"]: data.draw(query_value(p["name"], real), label=p["name"]) for p in params
             if p["in"] == "query" and (p.get("required") or data.draw(st.integers(0, 3)) > 0)}
    roles = sorted(world["users"]) + ["anonymous"]
    who = data.draw(st.one_of(st.just("everyone"), st.sampled_from(roles)), label="role")
    headers = {} if who == "anonymous" else factories.auth_headers(world["users"][who])
    kwargs = {}
    if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
        import io

        blob = data.draw(st.binary(max_size=2000), label="file")
        kwargs = {"data": {"file": (io.BytesIO(blob), "v.xlsx")}, "content_type": "multipart/form-data"}
    elif "requestBody" in operation:
        content = operation["requestBody"]["content"]
        if data.draw(st.integers(0, 4), label="raw?") == 0:
            kwargs = {"data": data.draw(raw_bodies(), label="raw body"), "content_type": "application/json"}
        else:
            schema = next(iter(content.values()))["schema"]
            kwargs = {"json": data.draw(shaped(spec, schema, real), label="body")}
    r = client.open(url, method=method.upper(), query_string=query, headers=headers, **kwargs)
    assert r.status_code < 500, (method, url, query, who, kwargs, r.get_data(as_text=True)[:500])
    if r.status_code >= 400:
        assert {"code", "error", "message"} <= set(r.get_json()), r.get_data(as_text=True)[:500]
