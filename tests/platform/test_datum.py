"""The datum shift: WGS-84 points become GCJ-02 on the way in, and back for Open311."""
import pytest

from app.common.geo import distance_m, gcj02_to_wgs84, to_gcj02, wgs84_to_gcj02


@pytest.mark.parametrize("lat, lng", [(23.1291, 113.3437), (23.3958, 113.2144), (39.9042, 116.4074)])
def test_shift_is_a_few_hundred_metres_and_reverses_within_a_metre(lat, lng):
    shifted = wgs84_to_gcj02(lat, lng)
    assert 100 < distance_m(lat, lng, *shifted) < 800
    assert distance_m(lat, lng, *gcj02_to_wgs84(*shifted)) < 2


def test_guangzhou_known_shift():
    # Guangzhou's published offset: about 0.0025° south and 0.0054° east
    lat, lng = wgs84_to_gcj02(23.1291, 113.3437)
    assert lat - 23.1291 == pytest.approx(-0.00255, abs=0.0003) and lng - 113.3437 == pytest.approx(0.0054, abs=0.0003)


def test_outside_china_and_gcj02_input_are_unchanged():
    assert wgs84_to_gcj02(51.5074, -0.1278) == (51.5074, -0.1278)
    assert to_gcj02(23.1, 113.3, "gcj02") == (23.1, 113.3)
