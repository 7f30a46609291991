"""The API's Blueprint (app/common/blueprint.py): argument schemas made once, the OpenAPI document unchanged."""
import flask_smorest
import marshmallow as ma
from flask import Flask

from app.common.blueprint import Blueprint
from app.venues import scan_schemas


class Body(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 8))


class Query(ma.Schema):
    page = ma.fields.Integer(load_default=1)


def _spec(blueprint_class) -> dict:
    app = Flask(__name__)
    app.config.update(API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = flask_smorest.Api(app)
    blp = blueprint_class("things", __name__, url_prefix="/things")

    @blp.route("", methods=["POST"])
    @blp.arguments(Body)
    @blp.arguments(Query, location="query")
    def create(body, query):
        return {"name": body["name"], "page": query["page"]}

    api.register_blueprint(blp)
    return app, api.spec.to_dict()


def test_the_openapi_document_is_the_one_the_schema_classes_give():
    assert _spec(Blueprint)[1] == _spec(flask_smorest.Blueprint)[1]


def test_an_argument_schema_is_made_once_and_loads_every_request(monkeypatch):
    app, _ = _spec(Blueprint)
    made = []
    monkeypatch.setattr(Body, "__init__", lambda self, *a, **k: made.append(self))  # would break a new instance
    client = app.test_client()
    assert client.post("/things?page=2", json={"name": "张三"}).get_json() == {"name": "张三", "page": 2}
    assert client.post("/things", json={"name": "李四"}).get_json() == {"name": "李四", "page": 1}
    assert client.post("/things", json={"name": "toolongname"}).status_code == 422  # still validated
    assert made == []


def test_the_app_routes_load_their_bodies_with_one_instance(client, login, monkeypatch):
    """A check-in's body is read by the instance made at import: no CheckinCreate is built per request, and the
    instance still refuses a bad body and an unknown field with the one error envelope."""
    made = []
    monkeypatch.setattr(scan_schemas.CheckinCreate, "__init__", lambda self, *a, **k: made.append(self))
    _, headers = login("resident")
    for body in ({"venue_code": "", "health_code_id": "1"}, {"venue_code": "x", "health_code_id": "1", "x": 1}):
        response = client.post("/api/v1/checkins", json=body, headers=headers)
        assert response.status_code == 422 and response.get_json()["error"] == "validation_failed"
    assert made == []
