"""A document a client can be generated from: valid OpenAPI, an operationId, a Chinese summary and the error codes
of every operation, string path ids, an open Error schema, and Swagger UI with no CDN."""
import re

from openapi_spec_validator import validate

CJK = re.compile(r"[\u4e00-\u9fff]")
METHODS = ("get", "post", "put", "patch", "delete")


def _doc(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def _operations(doc):
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_document_is_valid_openapi(client):
    validate(_doc(client))


def test_every_operation_has_an_id_a_chinese_summary_and_its_error_codes(client):
    doc = _doc(client)
    ids = []
    for path, method, operation in _operations(doc):
        where = f"{method.upper()} {path}"
        ids.append(operation.get("operationId"))
        assert re.fullmatch(r"[a-z][A-Za-z0-9]+", operation.get("operationId") or ""), where
        assert CJK.match(operation.get("summary", "")[:1] or " "), where
        codes = operation.get("x-error-codes")
        assert isinstance(codes, dict), where
        for status, response in operation["responses"].items():
            if status.isdigit() and int(status) >= 400:
                assert codes.get(status), f"{where}: no error codes for {status}"
    assert len(ids) == len(set(ids))
    checkin = next(op for path, m, op in _operations(doc) if path == "/api/v1/patrols/checkins")
    assert "outside_geofence" in checkin["x-error-codes"]["403"]
    join = doc["paths"]["/api/v1/patrols/{patrol_id}/signups"]["post"]
    assert "not_group_member" in sum(join["x-error-codes"].values(), [])


def test_path_ids_are_strings(client):
    for path, method, operation in _operations(_doc(client)):
        for parameter in operation.get("parameters", []) + []:
            if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                assert parameter["schema"]["type"] == "string", (path, parameter)
    doc = _doc(client)
    params = doc["paths"]["/api/v1/venues/{venue_id}"].get("parameters", [])
    assert params and all(p["schema"]["type"] == "string" for p in params if p["in"] == "path")


def test_error_schema_admits_the_extra_fields(client):
    error = _doc(client)["components"]["schemas"]["Error"]
    assert error["additionalProperties"] is True
    assert {"retry_after", "distance_m", "allowed_m"} <= set(error["properties"])


def test_real_name_pattern_is_portable(client):
    schemas = _doc(client)["components"]["schemas"]
    pattern = schemas["VolunteerCreate"]["properties"]["real_name"]["pattern"]
    assert pattern.endswith("$") and "\\Z" not in pattern
    # the pattern as a JavaScript engine reads it (\uXXXX escapes) accepts 陈大文
    assert re.match(pattern, "陈大文") and not re.match(pattern, "陈大文1")


def test_swagger_ui_is_served_from_the_package(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "cdn" not in page.lower() and "http" not in re.sub(r"<!DOCTYPE[^>]*>", "", page).split("<script>")[0]
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert f"/api/v1/docs/ui/{name}" in page
        r = client.get(f"/api/v1/docs/ui/{name}")
        assert r.status_code == 200 and len(r.data) > 1000
    assert client.get("/api/v1/docs/ui/../../../etc/passwd").status_code == 404


def test_method_override_and_datum_are_documented(client):
    description = _doc(client)["info"]["description"]
    assert "X-HTTP-Method-Override" in description and "coord_type" in description
    assert "fresh_token_required" in description
