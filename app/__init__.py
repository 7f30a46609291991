"""Jiefang 街坊: the application factory."""
from flask import Flask

from app.common import messages
from config import Config

messages.install()  # before any schema is defined: validators format their messages when built


def create_app(config_class: type[Config] = Config) -> Flask:
    """Build the app: config, extensions, error envelope, request log, blueprints, CLI."""
    app = Flask(__name__, instance_relative_config=True, instance_path=getattr(config_class, "INSTANCE_PATH", None))
    app.config.from_object(config_class)
    app.json.ensure_ascii = False
    if hasattr(config_class, "validate"):
        config_class.validate(app.config)
    if app.config.get("INSTANCE_SECRETS"):
        from app.common import instance_secrets

        instance_secrets.load(app)
    register_extensions(app)
    register_signals()  # before the blueprints: the OpenAPI document follows the views into the services
    register_blueprints(app)
    from app.cli import register_cli

    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions and the helpers that read config."""
    from app.auth.access import init_jwt_callbacks
    from app.common import converters
    from app.common.cache import init_redis
    from app.common.crypto import init_cipher
    from app.common.headers import init_security_headers
    from app.common.input_guard import init_input_guard
    from app.common.method_override import init_method_override
    from app.common.proxy import init_proxy
    from app.common.request_log import init_request_log
    from app.errors import register_error_handlers
    from app.extensions import NoCookieSessions, api, db, jwt, limiter, migrate
    from app.ops.metrics import init_metrics

    app.session_interface = NoCookieSessions()
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///") and ":memory:" not in \
            app.config["SQLALCHEMY_DATABASE_URI"]:
        import os

        os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    from app.common.pool import install_idle_ping

    with app.app_context():
        install_idle_ping(db.engine, app.config["DB_PING_AFTER_IDLE_SECONDS"])
    migrate.init_app(app, db)
    jwt.init_app(app)
    init_jwt_callbacks(jwt)
    limiter.init_app(app)
    from app.common.openapi import DESCRIPTION, ClientDocs, init_swagger_ui

    docs_ui = app.config.get("API_DOCS_UI", True)
    if not docs_ui:
        app.config["OPENAPI_SWAGGER_UI_PATH"] = None  # flask-smorest then registers no /docs route
    app.config.setdefault("API_SPEC_OPTIONS", {"info": {"description": DESCRIPTION}})
    api.init_app(app, spec_kwargs={"extra_plugins": [ClientDocs(lambda: app.view_functions)]})
    if docs_ui:
        init_swagger_ui(app)
    converters.install(app, api)
    strict_query_arguments()
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    register_error_handlers(app)
    init_cipher(app)
    init_redis(app)
    init_request_log(app)
    init_proxy(app)
    init_method_override(app)
    init_security_headers(app)
    init_input_guard(app)
    init_metrics(app)
    # One session per request, even where a caller (a test) keeps an app context across requests.
    app.teardown_request(lambda _exc: db.session.remove())


def strict_query_arguments() -> None:
    """Unknown query parameters are refused (422) like unknown JSON fields: the spec lists every parameter, and
    a typo (?trad=it) must not silently widen a search. webargs drops them by default; the parser is
    flask-smorest's, shared by every Blueprint of the process, and this is the one place that sets its policy."""
    import marshmallow as ma

    from app.common.blueprint import Blueprint

    parser = Blueprint.ARGUMENTS_PARSER
    parser.DEFAULT_UNKNOWN_BY_LOCATION = {**parser.DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE,
                                          "querystring": ma.RAISE}


def register_blueprints(app: Flask) -> None:
    """Every domain's routes under /api/v1, and the staff console's pages under /console/."""
    from app.areas.routes import blp as areas
    from app.auth.admin_routes import blp as admin_users
    from app.auth.routes import blp as auth
    from app.extensions import api
    from app.health_codes.official_routes import admin as admin_health
    from app.health_codes.routes import blp as health_codes
    from app.invitations.routes import blp as invitations
    from app.ops.routes import blp as ops
    from app.patrols.routes import blp as patrols
    from app.reports.open311_routes import blp as open311
    from app.reports.routes import blp as reports
    from app.subscriptions.routes import blp as subscriptions
    from app.system import blp as system
    from app.venues.link_routes import blp as links
    from app.venues.routes import blp as venues
    from app.venues.routes import mine as my_venues
    from app.venues.scan_routes import blp as scans
    from app.volunteers.group_routes import blp as groups
    from app.volunteers.routes import blp as volunteers

    for blueprint in (system, auth, admin_users, areas, health_codes, venues, scans, admin_health, volunteers,
                      groups, patrols, invitations, links, my_venues, subscriptions, reports, open311, ops):
        api.register_blueprint(blueprint)
    from app.health_codes.stats_routes import blp as health_code_stats

    api.register_blueprint(health_code_stats)
    from app.console.routes import bp as console

    app.register_blueprint(console)


def register_signals() -> None:
    """Cross-domain effects, each connected here: what accepting each kind of invitation does, what follows an
    account merge, a person's erasure or a volunteer's move, the venues' services behind health-code routes
    (verify, tracing), and the report tallies kept in every flush."""
    from app.auth import signals as auth_signals
    from app.health_codes import official_routes, personal
    from app.health_codes import routes as health_code_routes
    from app.health_codes import signals as health_code_signals
    from app.invitations import service as invitations
    from app.patrols import volunteer_moves
    from app.reports import tallies
    from app.subscriptions import service as subscriptions
    from app.venues import retention, scans, staff_invites, tracing
    from app.volunteers import group_invites, signals

    invitations.register(group_invites.KIND, group_invites.on_accept)
    invitations.register(staff_invites.KIND, staff_invites.on_accept)
    signals.volunteers_moved.connect(volunteer_moves.follow_moves)
    auth_signals.accounts_merging.connect(personal.follow_merge)
    auth_signals.accounts_merging.connect(subscriptions.follow_merge)
    health_code_signals.person_erasing.connect(retention.forget_person)
    health_code_routes.use_scans(scans)
    official_routes.use_tracing(tracing)
    tallies.install()
