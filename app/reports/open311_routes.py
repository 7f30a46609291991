"""/open311/services.json and /open311/requests.json: Open311 GeoReport v2 (JSON), so outside tools read and file."""
import marshmallow as ma
from flask import request
from marshmallow import fields, validate

from app.auth.access import require
from app.common.blueprint import Blueprint
from app.common.caller import current_user
from app.common.fields import Text
from app.errors import NotFound, doc_errors
from app.ops.idempotency import idempotent
from app.reports import open311

blp = Blueprint("open311", __name__, url_prefix="/api/v1/open311", description="Open311 GeoReport v2 接口")


class Open311Service(ma.Schema):
    service_code = Text(required=True)
    service_name = Text(required=True)
    description = Text()
    metadata = fields.Boolean()
    type = Text()
    keywords = Text()
    group = Text()


class Open311Request(ma.Schema):
    for _name in ("service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "media_url"):
        locals()[_name] = Text(allow_none=True)
    lat = fields.Float(allow_none=True, metadata={"description": "纬度，WGS-84（GeoReport v2；服务端以 GCJ-02 存储）"})
    long = fields.Float(allow_none=True, metadata={"description": "经度，WGS-84（GeoReport v2；服务端以 GCJ-02 存储）"})


class Open311RequestQuery(ma.Schema):
    service_request_id = Text(validate=validate.Regexp(r"^[1-9][0-9]{0,18}(,[1-9][0-9]{0,18}){0,99}$"))
    service_code = Text(validate=validate.Length(1, 32))
    start_date = fields.AwareDateTime()
    end_date = fields.AwareDateTime()
    status = Text(validate=validate.OneOf(("open", "closed")))
    jurisdiction_id = Text()


class Open311RequestCreate(ma.Schema):
    """The GeoReport v2 POST fields (attribute[...] and other extensions are ignored)."""

    class Meta:
        unknown = ma.EXCLUDE

    service_code = Text(required=True, validate=validate.Length(1, 32))
    jurisdiction_id = Text()
    lat = fields.Float(validate=validate.Range(-90, 90), allow_nan=False,
                       metadata={"description": "纬度，WGS-84（GeoReport v2；服务端换算为 GCJ-02）"})
    long = fields.Float(validate=validate.Range(-180, 180), allow_nan=False,
                        metadata={"description": "经度，WGS-84（GeoReport v2；服务端换算为 GCJ-02）"})
    address_string = Text(validate=validate.Length(max=200))
    address_id = Text(validate=validate.Regexp(r"^\d{14}$"), metadata={"description": "网格代码"})
    description = Text(validate=validate.Length(max=1000))
    media_url = Text()
    email = Text()
    device_id = Text()
    account_id = Text()
    first_name = Text()
    last_name = Text()
    phone = Text()
    api_key = Text()


class Open311Filed(ma.Schema):
    service_request_id = Text()
    token = Text(allow_none=True)
    service_notice = Text(allow_none=True)
    account_id = Text(allow_none=True)


@blp.route("/services.json", methods=["GET"])
@blp.response(200, Open311Service(many=True))
def services():
    """服务列表（Open311）：Service list: one service per report category."""
    return open311.services()


@blp.route("/requests.json", methods=["GET"])
@blp.arguments(Open311RequestQuery, location="query")
@blp.response(200, Open311Request(many=True))
@doc_errors(404, 422)
def requests(args):
    """请求列表（Open311）：Service requests: by ids, or by service, status and a window of up to 90 days."""
    ids = [int(i) for i in args["service_request_id"].split(",")] if args.get("service_request_id") else None
    return open311.requests(ids=ids, service_code=args.get("service_code"), start=args.get("start_date"),
                            end=args.get("end_date"), status=args.get("status"))


@blp.route("/requests/<int:request_id>.json", methods=["GET"])
@blp.response(200, Open311Request(many=True))
@doc_errors(404)
def one_request(request_id):
    """单个请求（Open311）：One service request (a list of one, as the standard has it)."""
    found = open311.one(request_id)
    if not found:
        raise NotFound("report_not_found", "报事不存在")
    return found


@blp.route("/requests.json", methods=["POST"])
@require("resident", "volunteer")
@idempotent
@blp.arguments(Open311RequestCreate, location="form")
@blp.response(201, Open311Filed(many=True))
@doc_errors(404, 422)
def create_request(form):
    """提交请求（Open311）：File a service request (form-encoded, signed in);
    an Idempotency-Key header makes retries safe."""
    key = request.headers.get("Idempotency-Key")
    return [open311.file(user=current_user, form=form, client_key=key[:64] if key else None)]
