"""/health-codes: apply, list, show, withdraw, verify the holder, family holders, declare, token, QR, public keys,
verify a token.

Verifying a token records the scan, which is venues' work (`app.venues.scans`): venues builds on this domain and
this domain imports nothing of venues, so create_app hands that service to these routes (`use_scans`)."""
import dataclasses
from types import ModuleType

from flask import Response, request, url_for

from app.api import hot_route
from app.auth.access import require
from app.auth.signed_urls import signed, signed_or_require, signed_uid, signed_url
from app.common.blueprint import Blueprint
from app.common.caller import current_user
from app.common.limits import shared
from app.errors import Forbidden, doc_errors
from app.extensions import limiter
from app.health_codes import keys, schemas, service, tokens
from app.ops.idempotency import idempotent

blp = Blueprint("health_codes", __name__, url_prefix="/api/v1/health-codes",
                description="穗康码：申领、申报、亮码与验码")
CODE = "/<int:code_id>"  # out-of-range ids are 404 in the service
NO_STORE = {"Cache-Control": "no-store"}
scans: ModuleType | None = None  # venues' scan service: `staff_verify`, `verify_keys` (use_scans)
_IMAGE = {"image/png": {"schema": {"type": "string", "format": "binary"}},
          "image/svg+xml": {"schema": {"type": "string"}}}


def check_config(cfg) -> None:
    """Refuse to start with unusable signing keys or token lifetime rather than fail at the first token."""
    keys.build(cfg["HEALTH_CODE_SIGNING_KEYS"], cfg.get("HEALTH_CODE_SIGNING_KEY_ID"),
               cfg.get("HEALTH_CODE_RETIRED_KEY_IDS"))
    if not 0 < cfg["HEALTH_CODE_TOKEN_TTL_SECONDS"] <= tokens.MAX_TTL_SECONDS:
        raise RuntimeError(f"HEALTH_CODE_TOKEN_TTL_SECONDS must be 1-{tokens.MAX_TTL_SECONDS}")


blp.record_once(lambda state: check_config(state.app.config))


@blp.route("", methods=["POST"])
@require()
@idempotent
# Per account, checked once the caller is known (this decorator runs inside @require), every attempt counted: a
# 409 tells whether a document number holds a code, so the limit also bounds probing of ID numbers.
@limiter.limit(shared("RATELIMIT_HEALTH_CODE_APPLY"), key_func=lambda: f"account:{current_user.id}")
@blp.arguments(schemas.HealthCodeCreate)
@blp.response(201, schemas.HealthCodeRead)
@doc_errors(403, 409, 422, 429, 503)
def apply(data):
    """Apply for a code (申领), for oneself or a family member; needs separate consent and a real-name match.

    A self code checks name + ID number + the account's SMS-proven mobile (three elements), a family code name +
    ID number (two). The code shows the person's current colour: applying again after a withdrawal never resets
    it. Errors: 403 `phone_unverified` (self code without an SMS-proven phone); 409 `health_code_exists` (this
    account holds it, or the person's verified self code exists), `self_code_exists`, `health_code_limit`,
    `family_holder_limit`; 422 `id_number_invalid` (a character other than digits and X after normalisation),
    `id_number_region` (unknown county code), `identity_mismatch`; 503 `identity_unavailable` (nothing saved)."""
    return service.view(service.apply(owner_id=current_user.id, **data))


@blp.route("", methods=["GET"])
@require()
@blp.response(200, schemas.HealthCodeList)
def list_codes():
    """The caller's codes (at most ten), masked, with their current colour."""
    return {"items": [service.view(code) for code in service.list_own(owner_id=current_user.id)]}


@blp.route("/keys", methods=["GET"])
@blp.response(200, schemas.KeySet)
def public_keys():
    """Public keys that verify dynamic tokens (JWKS-like, OKP/Ed25519), for scanners working offline."""
    return keys.keyring().jwks(), {"Cache-Control": "public, max-age=300"}


def use_scans(module: ModuleType) -> None:
    """Record verified scans with this service module (venues' `scans`), set once by create_app."""
    global scans
    scans = module


def _verify_keys(caller_id: int) -> list[str]:
    return scans.verify_keys(caller_id, request.get_json(silent=True))


@hot_route(blp, "/verify", method="POST", roles=("venue_staff", "health_official"), idempotent=True,
           caller_keys=_verify_keys, arguments=schemas.VerifyRequest, response=(200, schemas.VerifyResult),
           errors=(403, 410, 422))
def verify(data):
    """验码: check a scanned token; the colour is the person's current one, the holder's name masked.
    With `venue_id` (staff of that venue only) the scan is recorded for the venue, once per person and venue within
    the dedupe window (`duplicate: true` otherwise, nothing recorded); without, only health officials and inspectors
    a checkpoint assigned."""
    return scans.staff_verify(user=current_user, token=data["token"], venue_id=data["venue_id"]), NO_STORE


@blp.route(CODE, methods=["GET"])
@require()
@blp.response(200, schemas.HealthCodeRead)
@doc_errors(404)
def get_code(code_id):
    """One of the caller's codes."""
    return service.view(service.get_own(code_id=code_id, owner_id=current_user.id))


@blp.route(CODE, methods=["DELETE"])
@require()
@blp.response(204)
@doc_errors(404)
def withdraw(code_id):
    """Withdraw consent: the personal data is erased and the code stops working for good."""
    service.withdraw(code_id=code_id, owner_id=current_user.id)


@blp.route(CODE + "/verification", methods=["POST"])
@require()
@blp.response(200, schemas.HealthCodeRead)
@doc_errors(403, 404, 422, 503)
def verify_holder(code_id):
    """补做实名核验：Verify the holder of a code made before real-name checks (idempotent).

    Errors: 403 `phone_unverified`; 422 `identity_mismatch`; 503 `identity_unavailable` (nothing saved)."""
    return service.view(service.verify_holder(code_id=code_id, owner_id=current_user.id))


@blp.route(CODE + "/holders", methods=["GET"])
@require()
@blp.response(200, schemas.HolderList)
@doc_errors(403, 404)
def family_holders(code_id):
    """代领人列表：The family holders (代领) of the person of the caller's verified self code, masked.

    Errors: 403 `self_holder_only` (not a verified self code)."""
    return {"items": service.family_holders(code_id=code_id, owner_id=current_user.id)}


@blp.route(CODE + "/holders/<int:holder_id>", methods=["DELETE"])
@require()
@blp.response(204)
@doc_errors(403, 404)
def revoke_family(code_id, holder_id):
    """撤销代领：Remove a family holder's code (its account is notified).

    Errors: 403 `self_holder_only`; 404 `holder_not_found`."""
    service.revoke_family(code_id=code_id, owner_id=current_user.id, holder_id=holder_id)


@blp.route(CODE + "/declarations", methods=["POST"])
@require()
@idempotent
@blp.arguments(schemas.DeclarationCreate)
@blp.response(201, schemas.DeclarationRead)
@doc_errors(403, 404, 422, 429)
def declare(data, code_id):
    """健康申报: temperature, symptoms and exposure; answers with the person's new colour and reason.

    Errors: 403 `verification_required` (an unverified code cannot declare)."""
    return service.declare(code_id=code_id, owner_id=current_user.id, **data)


@hot_route(blp, CODE + "/token", method="GET", keys=lambda code_id: [service.card_key(code_id)],
           response=(200, schemas.TokenRead), errors=(403, 404))
def token(code_id):
    """亮码: a signed token valid two minutes; refresh every refresh_in seconds.

    Errors: 403 `verification_required` (an unverified code past its verify_by)."""
    issued = service.issue_own_token(code_id=code_id, owner_id=current_user.id)
    qr_url = signed_url(url_for("health_codes.qr_image", code_id=code_id), issued.expires_at, uid=current_user.id)
    return dataclasses.replace(issued, qr_url=qr_url), NO_STORE


@blp.route(CODE + "/qr.png", methods=["GET"])
@signed_or_require()
@blp.arguments(schemas.QrArgs, location="query")
@blp.doc(responses={"200": {"description": "二维码图片（PNG，或 ?format=svg 时为 SVG）", "content": _IMAGE}})
@doc_errors(403, 404, 422)
def qr_image(args, code_id):
    """The current token as a QR image in the code's colour (PNG, or SVG with ?format=svg); also by the signed
    qr_url of the token route, which expires with that token."""
    owner_id = signed_uid() if signed() else current_user.id
    if owner_id is None:
        raise Forbidden("image_url_invalid", "图片链接无效，请重新获取")
    image = service.qr_image(code_id=code_id, owner_id=owner_id, fmt=args["format"])
    return Response(image, mimetype="image/png" if args["format"] == "png" else "image/svg+xml", headers=NO_STORE)
