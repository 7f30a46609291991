"""QR images: the only module that knows the QR library. render(payload, colour, fmt) -> PNG or SVG bytes.

Error correction M. The mask pattern is fixed rather than searched: every mask is a valid QR code that any
reader decodes, and scoring all eight in pure Python costs most of the CPU budget per image."""
import io

import qrcode
from PIL import Image

# Module colours residents know from the real code, dark enough on white for camera binarisation.
COLOURS = {"green": (0, 150, 80), "yellow": (214, 160, 0), "red": (214, 40, 40), "black": (0, 0, 0)}
BORDER = 4
SCALE = 8
_MASK = 2


def matrix(payload: str) -> list[list[bool]]:
    """The QR modules (quiet zone included) for a payload, error correction M, smallest version that fits."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=BORDER, mask_pattern=_MASK)
    code.add_data(payload.encode(), optimize=0)
    code.make(fit=True)
    return code.get_matrix()


def version(payload: str) -> int:
    """The QR version (1-40) the payload needs."""
    return (len(matrix(payload)) - 2 * BORDER - 17) // 4


def _png(modules: list[list[bool]], rgb: tuple[int, int, int], scale: int) -> bytes:
    n = len(modules)
    image = Image.frombytes("P", (n, n), bytes(1 if dark else 0 for row in modules for dark in row))
    image.putpalette([255, 255, 255, *rgb])
    image = image.resize((n * scale, n * scale), Image.NEAREST)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _svg(modules: list[list[bool]], rgb: tuple[int, int, int], scale: int) -> bytes:
    n = len(modules)
    runs = []
    for y, row in enumerate(modules):
        x = 0
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            x += 1
    size = n * scale
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {n} {n}" '
            f'shape-rendering="crispEdges"><rect width="{n}" height="{n}" fill="#fff"/>'
            f'<path fill="#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}" d="{"".join(runs)}"/></svg>').encode()


def render(payload: str, colour: str = "black", fmt: str = "png", *, scale: int = SCALE) -> bytes:
    """The payload as a QR image in `colour` (green, yellow, red or black), fmt "png" or "svg"."""
    modules = matrix(payload)
    rgb = COLOURS[colour]
    return _png(modules, rgb, scale) if fmt == "png" else _svg(modules, rgb, scale)
