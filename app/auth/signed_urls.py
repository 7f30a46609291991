"""Short-lived signed image URLs: `<image src>` in a mini-program cannot send an Authorization header, so each
image route also answers `?exp=&sig=` (and `uid=` when the image is someone's own), a URL its JSON route hands out.

sig = HMAC-SHA256(SECRET_KEY, "image-url|path|exp|uid"), 16 bytes base64url. An expired, altered or foreign
signature is 403; without `sig` the route asks for the bearer token as before."""
import base64
import hashlib
import hmac
from datetime import datetime
from functools import wraps
from urllib.parse import urlencode

import marshmallow as ma
from flask import current_app, g, request
from marshmallow import fields, validate

from app.auth.access import require
from app.common import time as clock
from app.errors import Forbidden, doc_errors

_CONTEXT = b"image-url|"


class SignedArgs(ma.Schema):
    """The query parameters of a signed image URL (all three come from the JSON route that gave the URL)."""

    exp = fields.Integer(validate=validate.Range(0, 2**40), metadata={"description": "签名链接失效时间（Unix 秒）"})
    sig = fields.String(validate=validate.Length(1, 64), metadata={"description": "签名（由对应 JSON 接口返回）"})
    uid = fields.String(validate=validate.Length(1, 20), metadata={"description": "签发对象（由对应 JSON 接口返回）"})


def _sig(path: str, exp: int, uid: str) -> str:
    message = _CONTEXT + f"{path}|{exp}|{uid}".encode()
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signed_url(path: str, expires_at: datetime, uid: int | None = None) -> str:
    """path?exp=…&sig=… (and uid) valid until expires_at, rounded down to the second: never later."""
    exp = int(expires_at.timestamp())
    params = {"exp": exp, **({"uid": str(uid)} if uid is not None else {})}
    return f"{path}?{urlencode({**params, 'sig': _sig(path, exp, params.get('uid', ''))})}"


def _verify() -> str:
    """The uid a valid signature was issued to ('' for none); Forbidden for expired or altered."""
    args = request.args
    exp, sig, uid = args.get("exp", ""), args.get("sig", ""), args.get("uid", "")
    if not exp.isdigit() or not hmac.compare_digest(_sig(request.path, int(exp), uid).encode(), sig.encode()):
        raise Forbidden("image_url_invalid", "图片链接无效，请重新获取")
    if int(exp) < clock.utcnow().timestamp():
        raise Forbidden("image_url_expired", "图片链接已过期，请重新获取")
    return uid


def signed_or_require(*roles: str):
    """Decorate an image view: a valid signature stands in for the bearer token (g.signed_uid says whose it is)."""

    def decorator(func):
        authenticated = require(*roles)(func)

        @wraps(func)
        def wrapper(*args, **kwargs):
            if "sig" in request.args or "exp" in request.args:
                g.signed_uid = _verify()
                return func(*args, **kwargs)
            g.signed_uid = None
            return authenticated(*args, **kwargs)

        wrapper = doc_errors(401, 403, security=True)(wrapper)
        wrapper._apidoc["manual_doc"]["security"] = [{"bearerAuth": []}, {}]  # or no token, with a signature
        return wrapper

    return decorator


def signed_uid() -> int | None:
    """The user id a signed URL of this request was issued to, else None (the bearer token's user acts)."""
    uid = g.get("signed_uid")
    return int(uid) if uid else None


def signed() -> bool:
    """Whether this request came in by a valid signed URL."""
    return g.get("signed_uid") is not None
