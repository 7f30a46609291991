"""/admin/users/{id}/…: an admin disables, enables, revokes a role of, or resets the password or authenticator of
an account whose grants all lie inside the admin's areas; each is effective on the account's next request."""
import marshmallow as ma
from marshmallow import fields, validate

from app.auth import accounts
from app.auth.access import require
from app.auth.models import ROLES
from app.auth.schemas import GrantRead
from app.common.blueprint import Blueprint
from app.common.caller import current_user
from app.errors import doc_errors

blp = Blueprint("admin_users", __name__, url_prefix="/api/v1/admin/users",
                description="管理员：停用、启用账号，撤销角色，重置密码或身份验证器（下一次请求即生效）")
USER = "/<int:user_id>"


class AccountRead(ma.Schema):
    id = fields.String(required=True)
    username = fields.String(allow_none=True)
    is_active = fields.Boolean(required=True)
    totp_enrolled = fields.Function(lambda user: user.totp_enabled_at is not None, required=True,
                                    metadata={"type": "boolean"})
    roles = fields.List(fields.Nested(GrantRead), required=True, attribute="grants_in_order")


class RoleRevoke(ma.Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    area = fields.String(validate=validate.Regexp(r"^\d{4,14}$"),
                         metadata={"description": "只撤销该区域的授权；省略则全部撤销"})


class PasswordReset(ma.Schema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(accounts.MIN_PASSWORD, 256))


def _managed(user_id: int):
    user = accounts.find(user_id=user_id)
    accounts.ensure_may_manage(current_user, user)
    return user


def _simple(path: str, change, summary: str) -> None:
    """A POST without a body that applies `change` to the account."""

    def view(user_id):
        return change(_managed(user_id))

    view.__doc__ = summary
    view.__name__ = change.__name__
    blp.route(USER + path, methods=["POST"], endpoint=change.__name__)(
        require("admin", fresh=True)(blp.response(200, AccountRead)(doc_errors(404)(view))))


_simple("/disable", accounts.disable, "停用账号：Disable an account and sign it out everywhere.")
_simple("/enable", accounts.enable, "启用账号：Enable a disabled account.")
_simple("/totp/reset", accounts.reset_totp,
        "重置身份验证器：Forget the account's authenticator: it enrols again before signing in.")


@blp.route(USER + "/roles/revoke", methods=["POST"])
@require("admin", fresh=True)
@blp.arguments(RoleRevoke)
@blp.response(200, AccountRead)
@doc_errors(404, 422)
def revoke_role(data, user_id):
    """撤销角色：Take a role away (over one area, or everywhere) and sign the account out everywhere."""
    return accounts.revoke_role(_managed(user_id), role=data["role"], area_code=data.get("area"))


@blp.route(USER + "/password", methods=["POST"])
@require("admin", fresh=True)
@blp.arguments(PasswordReset)
@blp.response(200, AccountRead)
@doc_errors(404, 422)
def reset_password(data, user_id):
    """重置密码：Set a new password, lift the lockout and sign the account out everywhere."""
    return accounts.reset_password(_managed(user_id), password=data["password"])
