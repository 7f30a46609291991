"""A test client that speaks like wx.request: PATCH and DELETE go out as POST + X-HTTP-Method-Override.

Modules that import `client` from here re-run tests written for the plain client through the override."""
import pytest
from flask.testing import FlaskClient

from app.common.method_override import HEADER, WX_REQUEST_METHODS


class WxClient(FlaskClient):
    """Sends only methods wx.request has; counts the overridden requests it sent."""

    overridden = 0

    def open(self, *args, method: str = "GET", headers=None, **kwargs):
        method = method.upper()
        if method in ("PATCH", "DELETE"):
            headers = {**dict(headers or {}), HEADER: method}
            method = "POST"
            WxClient.overridden += 1
        assert method in WX_REQUEST_METHODS, method
        return super().open(*args, method=method, headers=headers, **kwargs)


@pytest.fixture
def client(app):
    """The wx.request-like client; the test fails if it never had to override a method."""
    before = WxClient.overridden
    app.test_client_class = WxClient
    try:
        yield app.test_client()
    finally:
        app.test_client_class = None
    assert WxClient.overridden > before, "no request went through the method override"
