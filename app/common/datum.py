"""Datums: phones in China report GCJ-02 (火星坐标); GPS receivers and outside tools send WGS-84. Positions are
stored in GCJ-02, so a WGS-84 point is shifted on the way in (the published GCJ-02 approximation, about 1 m)."""
from math import cos, pi, sin, sqrt

_A = 6378245.0
_EE = 0.00669342162296594323
DATUMS = ("gcj02", "wgs84")


def outside_china(lat: float, lng: float) -> bool:
    """Whether a point lies outside the box where GCJ-02 applies (there it equals WGS-84)."""
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
    ret += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0
    return ret + (160.0 * sin(y / 12.0 * pi) + 320 * sin(y * pi / 30.0)) * 2.0 / 3.0


def _shift_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
    ret += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0
    return ret + (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """A WGS-84 point in GCJ-02 (unchanged outside China)."""
    if outside_china(lat, lng):
        return lat, lng
    dlat, dlng = _shift_lat(lng - 105.0, lat - 35.0), _shift_lng(lng - 105.0, lat - 35.0)
    rad = lat / 180.0 * pi
    magic = 1 - _EE * sin(rad) ** 2
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt(magic)) * pi)
    dlng = (dlng * 180.0) / (_A / sqrt(magic) * cos(rad) * pi)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """A GCJ-02 point back in WGS-84 (one fixed-point step: within a couple of metres)."""
    shifted_lat, shifted_lng = wgs84_to_gcj02(lat, lng)
    return lat - (shifted_lat - lat), lng - (shifted_lng - lng)


def to_gcj02(lat: float, lng: float, datum: str = "gcj02") -> tuple[float, float]:
    """A point given in datum (gcj02 or wgs84) as GCJ-02."""
    return wgs84_to_gcj02(lat, lng) if datum == "wgs84" else (lat, lng)
