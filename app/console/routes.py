"""/console/: server-rendered page shells; their script reads and writes through /api/v1 with the signed-in
staff member's token, so that every page is limited by the API's own role and area checks."""
from flask import Blueprint, abort, render_template

from app.console.pages import BY_SLUG, PAGES, SCRIPTS

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")

# Pages run only the console's own script and style: no inline script, nothing from another origin.
_POLICY = ("default-src 'self'; img-src 'self' data: blob:; script-src 'self'; style-src 'self'; "
           "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


@bp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = _POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@bp.get("/login")
def login():
    """The sign-in page (staff username and password)."""
    return render_template("console/login.html")


@bp.get("/", defaults={"slug": ""})
@bp.get("/<slug>")
def page(slug: str):
    """One console page: the layout, the navigation and an empty main area its script fills."""
    if slug not in BY_SLUG:
        abort(404)
    return render_template(f"console/{slug or 'home'}.html", page=BY_SLUG[slug], pages=PAGES, scripts=SCRIPTS)
