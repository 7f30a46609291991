"""Positions in requests: every lat/lng states its datum in `coord_type` (gcj02 by default, as wx.getLocation
gives with type "gcj02"; wgs84, its default, is converted on load), so services only ever see GCJ-02."""
import marshmallow as ma
from marshmallow import ValidationError, fields, post_load, validate

from app.common.geo import COORD_TYPES, to_gcj02

DATUM = "坐标系见 coord_type（默认 GCJ-02）"


def latitude(**kwargs) -> fields.Float:
    """A latitude field documented with its datum."""
    return fields.Float(allow_nan=False, metadata={"description": f"纬度；{DATUM}", **kwargs.pop("metadata", {})},
                        **kwargs)


def longitude(**kwargs) -> fields.Float:
    """A longitude field documented with its datum."""
    return fields.Float(allow_nan=False, metadata={"description": f"经度；{DATUM}", **kwargs.pop("metadata", {})},
                        **kwargs)


class Datum(ma.Schema):
    """Mixin for a schema with lat and lng: the `coord_type` they are in; they load as GCJ-02."""

    coord_type = fields.String(load_default="gcj02", validate=validate.OneOf(COORD_TYPES), load_only=True,
                               metadata={"description": "lat/lng 的坐标系：gcj02（默认，wx.getLocation type=gcj02）"
                                                        "或 wgs84（wx.getLocation 默认，服务端换算为 GCJ-02）"})

    @post_load
    def _as_gcj02(self, data, **_kwargs):
        coord_type = data.pop("coord_type", "gcj02")
        if "lat" in data and "lng" in data:
            data["lat"], data["lng"] = to_gcj02(data["lat"], data["lng"], coord_type)
        elif coord_type != "gcj02" and ("lat" in data or "lng" in data):
            raise ValidationError("换算坐标系需要同时提供 lat 与 lng", "lng")
        return data
