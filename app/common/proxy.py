"""Behind a reverse proxy: take the client address from X-Forwarded-For, trusting only our own proxies."""
from werkzeug.middleware.proxy_fix import ProxyFix


def init_proxy(app) -> None:
    """With TRUSTED_PROXIES = n > 0, request.remote_addr is the address the n-th proxy from us saw.

    Per-IP limits (SMS daily cap, flask-limiter) would otherwise count the whole city as one client: the proxy."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
