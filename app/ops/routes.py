"""/metrics: Prometheus's scrape, outside the public API path and behind METRICS_TOKEN."""
from flask import current_app

from app.common.blueprint import Blueprint
from app.errors import NotFound, Unauthorized
from app.ops import metrics

blp = Blueprint("ops", __name__, url_prefix="", description="运维")


@blp.route("/metrics", methods=["GET"])
@blp.doc(security=[{"bearerAuth": []}], responses={
    200: {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}},
    401: {"description": "METRICS_TOKEN missing or wrong"}, 404: {"description": "METRICS_TOKEN not configured"}})
def scrape():
    """Prometheus metrics (bearer METRICS_TOKEN; 404 when no token is configured)."""
    if not current_app.config.get("METRICS_TOKEN"):
        raise NotFound()
    if not metrics.authorised():
        raise Unauthorized("metrics_token_invalid", "监控凭证无效")
    return metrics.exposition()
