"""/me/subscriptions: the templates to ask for, and what wx.requestSubscribeMessage answered."""
from app.auth.access import require
from app.common.blueprint import Blueprint
from app.common.caller import current_user
from app.errors import doc_errors
from app.subscriptions import schemas, service

blp = Blueprint("subscriptions", __name__, url_prefix="/api/v1/me", description="订阅消息")


@blp.route("/subscriptions", methods=["GET"])
@require()
@blp.response(200, schemas.SubscriptionsRead)
def my_subscriptions():
    """我的订阅消息：可订阅的模板及我的授权次数。"""
    return service.mine(user=current_user)


@blp.route("/subscriptions", methods=["POST"])
@require()
@blp.arguments(schemas.SubscriptionResults)
@blp.response(200, schemas.SubscriptionsRead)
@doc_errors(422)
def record_subscriptions(data):
    """记录 wx.requestSubscribeMessage 的结果：每次同意（accept）可发送一条该模板的消息。"""
    return service.record(user=current_user, results=data["results"])
