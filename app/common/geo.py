"""Distances on the Earth: haversine in metres (GCJ-02 points, as phones report them in China)."""
from math import asin, cos, radians, sin, sqrt

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
