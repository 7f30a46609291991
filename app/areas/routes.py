"""/areas: browse the Guangzhou area tree (public)."""

from app.areas import schemas, service
from app.common.blueprint import Blueprint
from app.common.pagination import page_schema
from app.errors import doc_errors

blp = Blueprint("areas", __name__, url_prefix="/api/v1/areas", description="地缘：区、街道、社区、网格")


@blp.route("", methods=["GET"])
@blp.arguments(schemas.AreaQuery, location="query")
@blp.response(200, page_schema(schemas.AreaRead))
@doc_errors(404, 422)
def list_areas(args):
    """List areas by parent, level or name (without filters: the city and its districts)."""
    return service.list_areas(parent=args.get("parent"), level=args.get("level"), q=args.get("q"),
                              cursor=args["cursor"], limit=args["limit"])


@blp.route("/<string:code>", methods=["GET"])
@blp.response(200, schemas.AreaDetail)
@doc_errors(404)
def get_area(code):
    """One area with its ancestors."""
    return service.detail(code)
