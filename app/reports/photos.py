"""Report photos: checked, re-encoded with Pillow (EXIF and GPS gone), stored once per content hash, and served
through short-lived signed URLs (app/common/signing: the photo's id and the URL's expiry, HMAC-sealed)."""
import hashlib
import hmac
import io
import struct
import warnings

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from app.common import signing
from app.common import time as clock
from app.errors import Gone, NotFound, ValidationFailed
from app.extensions import db
from app.reports.models import Photo, ReportPhoto

MAX_PHOTOS = 3
MAX_SIDE = 1600  # stored photos fit in MAX_SIDE × MAX_SIDE
MAX_PIXELS = 40_000_000  # refuse to decode anything larger (decompression bombs)
FORMATS = ("JPEG", "PNG", "WEBP")
PREFIX = "rp1."
_CONTEXT = b"report-photo"


def _invalid(error: str, message: str) -> ValidationFailed:
    return ValidationFailed(error, message, errors={"files": {"photo": [message]}})


def reencode(raw: bytes) -> tuple[bytes, int, int]:
    """The upload as a fresh JPEG without any metadata, upright and at most MAX_SIDE a side."""
    if len(raw) > current_app.config["REPORT_PHOTO_MAX_BYTES"]:
        raise _invalid("photo_too_large", "照片过大，请压缩后再上传")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as image:
                if image.format not in FORMATS or image.width * image.height > MAX_PIXELS:
                    raise _invalid("photo_invalid", "仅支持 JPEG、PNG、WEBP 格式的照片")
                upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct.error,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _invalid("photo_invalid", "无法识别的图片文件") from None
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=85, optimize=True)  # no exif= / icc_profile=: nothing carried over
    return out.getvalue(), upright.width, upright.height


def store(*, user, raw: bytes) -> Photo:
    """Keep an uploaded photo (the same picture twice is one row)."""
    data, width, height = reencode(raw)
    digest = hashlib.sha256(data).hexdigest()
    photo = db.session.execute(select(Photo).where(Photo.sha256 == digest)).scalar_one_or_none()
    if photo is None:
        photo = Photo(sha256=digest, data=data, width=width, height=height, uploaded_by=user.id)
        db.session.add(photo)
        db.session.commit()
    return photo


def attach(*, user, report_id: int, photo_ids: list[int], stage: str) -> None:
    """Link up to MAX_PHOTOS of the user's uploads to a report; no commit."""
    if len(set(photo_ids)) > MAX_PHOTOS:
        raise ValidationFailed("too_many_photos", f"最多 {MAX_PHOTOS} 张照片", errors={"json": {"photos": ["过多"]}})
    for position, photo_id in enumerate(dict.fromkeys(photo_ids)):
        photo = db.session.get(Photo, photo_id)
        if photo is None or photo.uploaded_by != user.id:
            raise ValidationFailed("photo_not_found", "照片不存在，请重新上传", errors={"json": {"photos": ["不存在"]}})
        db.session.add(ReportPhoto(report_id=report_id, photo_id=photo.id, stage=stage, position=position))


def _key() -> str:
    config = current_app.config
    return config["REPORT_PHOTO_KEY"] or hmac.new(config["SECRET_KEY"].encode(), _CONTEXT, "sha256").hexdigest()


def url(photo_id: int) -> str:
    """A signed URL of a photo, valid REPORT_PHOTO_URL_TTL_SECONDS (rounded up to the minute, so it caches)."""
    ttl = current_app.config["REPORT_PHOTO_URL_TTL_SECONDS"]
    expires = (int(clock.utcnow().timestamp()) + ttl) // 60 * 60 + 60
    token = signing.seal(prefix=PREFIX, key=_key(), context=_CONTEXT, first=photo_id, second=expires)
    return f"/api/v1/report-photos/{token}"


def urls(report_id: int, stage: str) -> list[str]:
    """Signed URLs of a report's photos at a stage, in order."""
    ids = db.session.execute(select(ReportPhoto.photo_id).where(
        ReportPhoto.report_id == report_id, ReportPhoto.stage == stage).order_by(ReportPhoto.position)).scalars()
    return [url(i) for i in ids]


def open_signed(token: str) -> Photo:
    """The photo a signed URL names: NotFound for a forged token, Gone once it expired."""
    sealed = signing.unseal(prefix=PREFIX, key=_key(), context=_CONTEXT, token=token)
    photo = db.session.get(Photo, sealed[0]) if sealed else None
    if photo is None:
        raise NotFound("photo_not_found", "照片不存在")
    if sealed[1] < clock.utcnow().timestamp():
        raise Gone("photo_link_expired", "照片链接已过期，请刷新后查看")
    return photo
