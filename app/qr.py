"""QR rendering: the only module that knows the QR library. render(payload, colour, fmt) -> bytes."""
import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def render(payload: str, colour: str = "black", fmt: str = "png", *, box_size: int = 8) -> bytes:
    """The payload as a QR image (PNG or SVG) drawn in the given colour."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    qr.add_data(payload)
    qr.make(fit=True)
    buf = io.BytesIO()
    if fmt == "svg":
        qr.make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buf)
    else:
        qr.make_image(fill_color=colour, back_color="white").save(buf, format="PNG")
    return buf.getvalue()
