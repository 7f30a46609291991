"""The patrol check-in code's image by its signed URL (the screen's <image src>)."""
from tests.auth_flows import envelope
from tests.platform.test_signed_images import _altered, _decode


def test_patrol_checkin_code_url(client, new_patrol, organiser):
    patrol = new_patrol()
    shown = client.get(f"/api/v1/patrols/{patrol['id']}/checkin-code", headers=organiser[1]).get_json()
    assert _decode(client.get(shown["qr_url"])) == shown["token"]
    envelope(client.get(_altered(shown["qr_url"], sig="A" * 22)), 403, "image_url_invalid")
    envelope(client.get(f"/api/v1/patrols/{patrol['id']}/checkin-code.png"), 401, "token_missing")
