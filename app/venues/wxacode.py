"""The 小程序码 of a venue's poster: wxacode.getUnlimited with the short id as its `scene`."""
from flask import current_app

from app.common import wechat_api
from app.errors import ServiceUnavailable

_ERRCODES = {
    41030: (ServiceUnavailable, "wechat_page_missing", "小程序登记页面不存在或未发布，请联系管理员"),
    40169: (ServiceUnavailable, "wechat_scene_invalid", "小程序码参数无效，请联系管理员"),
    40097: (ServiceUnavailable, "wechat_scene_invalid", "小程序码参数无效，请联系管理员"),
}


def miniprogram_code(scene: str) -> bytes:
    """The image WeChat draws for `scene` (≤ 32 characters) opening WECHAT_CHECKIN_PAGE."""
    cfg = current_app.config
    body = {"scene": scene, "page": cfg["WECHAT_CHECKIN_PAGE"], "check_path": cfg["WECHAT_ENV_VERSION"] == "release",
            "env_version": cfg["WECHAT_ENV_VERSION"], "width": 860}
    try:
        return wechat_api.call("/wxa/getwxacodeunlimit", body, binary=True)
    except wechat_api.WeChatError as exc:
        raise wechat_api.as_app_error(exc, _ERRCODES) from None
