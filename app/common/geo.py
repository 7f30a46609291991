"""Distances on the Earth: haversine in metres (GCJ-02 points, as phones report them in China)."""
from math import asin, cos, pi, radians, sin, sqrt

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance between two points, in metres (error well under 0.5 % at city scale)."""
    dlat, dlng = radians(lat2 - lat1), radians(lng2 - lng1)
    h = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))


# Guangzhou's outline, coarse (about 2 km off in places), clockwise from the north of 从化 (lat, lng, GCJ-02):
# it keeps out the neighbouring city centres (佛山, 东莞, 中山) that the city's bounding box takes in.
GUANGZHOU_OUTLINE = ((23.93, 113.60), (23.85, 113.95), (23.55, 114.05), (23.20, 114.05), (23.08, 113.85),
                     (23.08, 113.62), (22.95, 113.55), (22.56, 113.65), (22.60, 113.45), (22.85, 113.28),
                     (23.05, 113.20), (23.25, 113.10), (23.40, 112.95), (23.60, 113.10), (23.85, 113.35))


def in_guangzhou(lat: float, lng: float) -> bool:
    """Whether a point lies inside Guangzhou's coarse outline (ray casting)."""
    inside, outline = False, GUANGZHOU_OUTLINE
    for (lat1, lng1), (lat2, lng2) in zip(outline, outline[1:] + outline[:1]):
        if (lat1 > lat) != (lat2 > lat) and lng < lng1 + (lat - lat1) * (lng2 - lng1) / (lat2 - lat1):
            inside = not inside
    return inside
# WGS-84 → GCJ-02: the published transform (Krasovsky 1940 ellipsoid), as map SDKs in China apply it.
_A = 6378245.0
_EE = 0.00669342162296594323
COORD_TYPES = ("gcj02", "wgs84")


def _outside_china(lat: float, lng: float) -> bool:
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
    ret += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0
    return ret + (160.0 * sin(y / 12.0 * pi) + 320.0 * sin(y * pi / 30.0)) * 2.0 / 3.0


def _shift_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
    ret += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0
    return ret + (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """A WGS-84 point (GPS, wx.getLocation's default) as GCJ-02; points outside China are returned unchanged."""
    if _outside_china(lat, lng):
        return lat, lng
    dlat, dlng = _shift_lat(lng - 105.0, lat - 35.0), _shift_lng(lng - 105.0, lat - 35.0)
    magic = 1 - _EE * sin(radians(lat)) ** 2
    dlat = dlat * 180.0 / ((_A * (1 - _EE)) / (magic * sqrt(magic)) * pi)
    dlng = dlng * 180.0 / (_A / sqrt(magic) * cos(radians(lat)) * pi)
    return lat + dlat, lng + dlng


def to_gcj02(lat: float, lng: float, coord_type: str) -> tuple[float, float]:
    """A point given in coord_type (gcj02 or wgs84), as GCJ-02 (the datum stored and compared)."""
    return wgs84_to_gcj02(lat, lng) if coord_type == "wgs84" else (lat, lng)


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """A GCJ-02 point back in WGS-84 (one fixed-point step: within a couple of metres)."""
    shifted_lat, shifted_lng = wgs84_to_gcj02(lat, lng)
    return lat - (shifted_lat - lat), lng - (shifted_lng - lng)
