"""/v/{id}: the link a poster's QR carries for 扫普通链接二维码打开小程序, and WeChat's domain-verification file.

WeChat opens the mini-program for links under the registered prefix; any other browser gets a short Chinese
page saying to open it in WeChat. The verification file WeChat asks for lives in the prefix's directory."""
from html import escape

from flask import Response, current_app

from app.common.blueprint import Blueprint
from app.errors import NotFound, doc_errors
from app.venues import codes

blp = Blueprint("links", __name__, url_prefix="/v", description="场所码链接：微信扫普通链接二维码打开小程序")

_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>请在微信中打开</title></head>
<body style="font-family:sans-serif;text-align:center;padding:3em 1em">
<h1 style="color:#009650">请在微信中打开</h1><p>这是穗康码场所码，请使用微信“扫一扫”扫描场所海报上的二维码登记。</p>
<p style="color:#888;font-size:small">场所码 {code}</p></body></html>"""


@blp.route("/<string:name>", methods=["GET"])
@blp.response(200, content_type="text/html", description="请在微信中打开的提示页（或微信校验文件，text/plain）")
@doc_errors(404)
def open_link(name):
    """场所码链接：在微信外打开时显示提示页；也提供微信要求的校验文件。"""
    cfg = current_app.config
    if cfg["WECHAT_LINK_VERIFY_FILE"] and name == cfg["WECHAT_LINK_VERIFY_FILE"]:
        return Response(cfg["WECHAT_LINK_VERIFY_CONTENT"], mimetype="text/plain")
    if codes.peek_venue_id(name) is None or not name.startswith(codes.SHORT_PREFIX):
        raise NotFound("venue_code_invalid", "场所码无效，请扫描场所张贴的最新场所码")
    return Response(_PAGE.format(code=escape(name)), mimetype="text/html",
                    headers={"Cache-Control": "public, max-age=300"})
