"""The printable 场所码 poster (A4 at 150 dpi, as PNG or a one-page PDF), set in Noto Sans CJK SC
shipped by a pinned PyPI package."""
import io
import os
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from app import qr
from app.common import wechat_api
from app.venues import codes, wxacode

WIDTH, HEIGHT = 1240, 1754
GREEN = (0, 150, 80)


@lru_cache(maxsize=8)
def _font(size: int, weight: str = "Regular") -> ImageFont.FreeTypeFont:
    import manimgx_fonts_cjk

    path = os.path.join(os.path.dirname(manimgx_fonts_cjk.__file__), "NotoSansCJK-VF.otf.ttc")
    font = ImageFont.truetype(path, size, index=2)  # index 2: Simplified Chinese
    font.set_variation_by_name(weight)
    return font


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if draw.textlength(line + ch, font=font) > width and line:
            lines.append(line)
            line = ""
        line += ch
    return lines + ([line] if line else [])


def _centred(draw, y: int, text: str, font, fill) -> int:
    w = draw.textlength(text, font=font)
    draw.text(((WIDTH - w) / 2, y), text, font=font, fill=fill)
    return y + font.size + 20


POSTER_CACHE_SIZE = 32  # PNGs of about 100 KB each, per process


def code_image(venue_id: int, version: int) -> tuple[bytes, str]:
    """(image, instruction) for the poster: the 小程序码 when WeChat is configured, else a QR of the link."""
    short = codes.short_id(venue_id, version)
    if wechat_api.configured():
        return wxacode.miniprogram_code(short), "请用微信扫一扫扫码登记，出示绿码通行"
    return qr.render(codes.link(short), "black", "png", scale=20), "请用微信扫一扫扫码登记，出示绿码通行"


def for_venue(venue) -> bytes:
    """The venue's poster, drawn once per venue, code version, name and address (the last few kept)."""
    return _drawn(venue.id, venue.code_version, venue.name, venue.address)


@lru_cache(maxsize=POSTER_CACHE_SIZE)
def _drawn(venue_id: int, version: int, name: str, address: str) -> bytes:
    return render(name=name, address=address, venue_id=venue_id, version=version)


def render(*, name: str, address: str, venue_id: int, version: int) -> bytes:
    """PNG poster: title band, the venue's name, the code, a one-line instruction, address and code version."""
    image, instruction = code_image(venue_id, version)
    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, WIDTH, 220], fill=GREEN)
    _centred(draw, 50, "穗康码 · 场所码", _font(96, "Bold"), "white")
    y = 270
    for line in _wrap(draw, name, _font(72, "Bold"), WIDTH - 160)[:3]:
        y = _centred(draw, y, line, _font(72, "Bold"), "black")
    code = Image.open(io.BytesIO(image)).convert("RGB")
    side = min(900, HEIGHT - y - 380)
    code = code.resize((side, side), Image.NEAREST if code.width < side else Image.LANCZOS)
    img.paste(code, ((WIDTH - side) // 2, y + 20))
    y += side + 60
    y = _centred(draw, y, instruction, _font(52, "Medium"), GREEN)
    for line in _wrap(draw, address, _font(36), WIDTH - 200)[:2]:
        y = _centred(draw, y, line, _font(36), (80, 80, 80))
    _centred(draw, HEIGHT - 80, f"场所码版本 {version} · 旧版场所码已失效", _font(28), (120, 120, 120))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


DPI = 150  # WIDTH × HEIGHT at this resolution is exactly A4 (210 × 297 mm)


def as_pdf(png: bytes) -> bytes:
    """The poster as a one-page A4 PDF (Pillow's writer): the PNG at DPI, stored as a JPEG of high
    quality with full colour resolution, so the code's modules keep their edges in print."""
    buf = io.BytesIO()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.save(buf, format="PDF", resolution=DPI, quality=95, subsampling=0, title="穗康码 · 场所码")
    return buf.getvalue()
