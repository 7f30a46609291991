"""/metrics: Prometheus's scrape, outside the public API path and behind METRICS_TOKEN."""
from app.common.blueprint import Blueprint
from app.errors import Unauthorized
from app.ops import metrics

blp = Blueprint("ops", __name__, url_prefix="", description="运维")


@blp.route("/metrics", methods=["GET"])
@blp.doc(security=[{"bearerAuth": []}], responses={
    200: {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}},
    401: {"description": "METRICS_TOKEN missing or wrong, or none configured"}})
def scrape():
    """监控指标：Prometheus metrics (bearer METRICS_TOKEN; every call is refused while no token is configured)."""
    if not metrics.authorised():
        raise Unauthorized("metrics_token_invalid", "监控凭证无效")
    return metrics.exposition()
