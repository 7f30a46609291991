"""Configuration classes: Development (SQLite, no set-up), Testing and Production (everything from the environment)."""
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# The secrets every environment needs. Production takes them from the environment; development generates its own
# on first start (app/common/instance_secrets.py, a 0600 file in instance/); testing uses fixed values of its own.
SECRET_NAMES = ("SECRET_KEY", "JWT_SECRET_KEY", "DATA_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "HEALTH_CODE_SIGNING_KEYS",
                "VENUE_CODE_KEY", "PATROL_CHECKIN_KEY")
# Set to 1 to run the development configuration under gunicorn or on a database other than SQLite (benchmarks,
# the test suite's own servers): anywhere else that combination is a deployment that forgot JIEFANG_ENV=production.
ALLOW_DEVELOPMENT_ENV = "JIEFANG_ALLOW_DEVELOPMENT"


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_bool(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


class Config:
    """Settings shared by every environment; each can be overridden by an environment variable."""

    INSTANCE_PATH = None  # where instance/ (SQLite file, development secrets) lives; None: next to the code
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'jiefang.db'}")
    # No pool_pre_ping (a round trip on every request): app/common/pool.py pings only connections idle longer
    # than DB_PING_AFTER_IDLE_SECONDS; pool_recycle retires them before server/proxy idle timeouts.
    # hide_parameters: a failing statement's error and log line never carry its values (personal data).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": 1800, "hide_parameters": True}
    DB_PING_AFTER_IDLE_SECONDS = float(os.environ.get("DB_PING_AFTER_IDLE_SECONDS", 10.0))
    # A request the database cannot serve (refused, terminated, pool exhausted) answers 503 with this Retry-After.
    DATABASE_RETRY_AFTER_SECONDS = _env_int("DATABASE_RETRY_AFTER_SECONDS", 5)
    REDIS_URL = os.environ.get("REDIS_URL") or None
    # After a Redis error, go without it this long instead of waiting on each request (memory limits,
    # database revocation checks, cache misses meanwhile).
    REDIS_PAUSE_SECONDS = float(os.environ.get("REDIS_PAUSE_SECONDS", 5.0))
    # How often each process reads the database's Redis generation (docs/operations.md): the longest a fact written
    # while Redis was unreachable can be missed by a process that trusts Redis.
    REDIS_SYNC_CHECK_SECONDS = float(os.environ.get("REDIS_SYNC_CHECK_SECONDS", 1.0))
    # Prometheus scrape token for /metrics (unset: /metrics refuses every call).
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    # Idempotency-Key: how long a stored answer is replayed (purged by `flask ops purge`).
    IDEMPOTENCY_TTL_HOURS = _env_int("IDEMPOTENCY_TTL_HOURS", 24)
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 1024 * 1024)
    # Reverse proxies in front of gunicorn (nginx = 1): their X-Forwarded-For gives the client address.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)

    # OpenAPI / flask-smorest
    API_TITLE = "Jiefang 街坊 API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/api/v1/docs/ui/"  # Swagger UI's files from the swagger-ui-bundle package
    # The interactive docs page (/api/v1/docs); API_DOCS_UI=off removes it (openapi.json stays).
    API_DOCS_UI = os.environ.get("API_DOCS_UI", "on").strip().lower() not in ("0", "false", "no", "off")

    # JWT: algorithm pinned, short access tokens, rotating refresh tokens.
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY")
    JWT_ALGORITHM = "HS256"
    JWT_DECODE_ALGORITHMS = ["HS256"]
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=15)
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=30)
    JWT_DECODE_LEEWAY = 10
    # A second refresh with the same token this soon after the first gets the same new pair (parallel requests
    # of a mini-program); later, it is reuse and revokes the sign-in.
    REFRESH_GRACE_SECONDS = float(os.environ.get("REFRESH_GRACE_SECONDS", 10.0))
    JWT_TOKEN_LOCATION = ["headers"]
    JWT_COOKIE_CSRF_PROTECT = False  # tokens travel in headers only: no csrf claim in them
    JWT_ERROR_MESSAGE_KEY = "message"

    # Personal data: AES-GCM keys "kid:base64(32 bytes),kid2:..."; the first (or DATA_ENCRYPTION_KEY_ID) encrypts.
    DATA_ENCRYPTION_KEYS = os.environ.get("DATA_ENCRYPTION_KEYS")
    DATA_ENCRYPTION_KEY_ID = os.environ.get("DATA_ENCRYPTION_KEY_ID") or None
    BLIND_INDEX_KEY = os.environ.get("BLIND_INDEX_KEY")

    # Health-code token signing: Ed25519 seeds "kid:base64(32 bytes),..."; the first signs, all verify,
    # except the comma-separated ids in HEALTH_CODE_RETIRED_KEY_IDS (no longer verified nor published).
    HEALTH_CODE_SIGNING_KEYS = os.environ.get("HEALTH_CODE_SIGNING_KEYS")
    HEALTH_CODE_SIGNING_KEY_ID = os.environ.get("HEALTH_CODE_SIGNING_KEY_ID") or None
    HEALTH_CODE_RETIRED_KEY_IDS = os.environ.get("HEALTH_CODE_RETIRED_KEY_IDS", "")
    HEALTH_CODE_TOKEN_TTL_SECONDS = 120  # at most 2 minutes (tokens.MAX_TTL_SECONDS)
    HEALTH_CODE_TOKEN_REFRESH_SECONDS = 60
    # Version of the personal-information policy a resident consents to when applying (recorded per code).
    HEALTH_CODE_CONSENT_POLICY = os.environ.get("HEALTH_CODE_CONSENT_POLICY", "2026-11")

    # 场所码: HMAC key of the static venue codes printed on posters
    VENUE_CODE_KEY = os.environ.get("VENUE_CODE_KEY")
    # Posters' QR (without WeChat configured) holds VENUE_LINK_BASE + short id: the prefix registered for
    # 扫普通链接二维码打开小程序, served by /v/<id>; WeChat's verification file for it is served from the same place.
    POSTER_URL_TTL_SECONDS = _env_int("POSTER_URL_TTL_SECONDS", 3600)  # signed poster.png URLs
    VENUE_LINK_BASE = os.environ.get("VENUE_LINK_BASE", "http://localhost:5000/v/")
    WECHAT_LINK_VERIFY_FILE = os.environ.get("WECHAT_LINK_VERIFY_FILE", "")  # e.g. "abc123def.txt"
    WECHAT_LINK_VERIFY_CONTENT = os.environ.get("WECHAT_LINK_VERIFY_CONTENT", "")

    # Patrol check-in codes: HMAC key of the tokens that rotate every PATROL_CHECKIN_WINDOW_SECONDS
    PATROL_CHECKIN_KEY = os.environ.get("PATROL_CHECKIN_KEY")
    PATROL_CHECKIN_WINDOW_SECONDS = 60
    # Points per certified hour a patrol gets unless set; only organisers and admins of the area set more.
    PATROL_POINTS_PER_HOUR_DEFAULT = _env_int("PATROL_POINTS_PER_HOUR_DEFAULT", 10)
    # Certified hours may exceed the recorded ones by this many tenths of an hour; more needs an organiser.
    PATROL_HOURS_TOLERANCE_TENTHS = _env_int("PATROL_HOURS_TOLERANCE_TENTHS", 5)
    # A check-out this many metres beyond the geofence is flagged: no hours until an organiser reviews it.
    PATROL_CHECKOUT_REVIEW_M = _env_int("PATROL_CHECKOUT_REVIEW_M", 1000)

    # SMS sign-in
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "console")  # console (dev/test) | http (gateway)
    SMS_ECHO_CODE = False  # the console sender's code in the reply: development and testing only
    SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
    SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN", "")
    SMS_CODE_TTL_SECONDS = 300
    SMS_RESEND_SECONDS = 60
    SMS_MAX_ATTEMPTS = 5
    SMS_PHONE_DAILY_LIMIT = _env_int("SMS_PHONE_DAILY_LIMIT", 10)
    SMS_IP_DAILY_LIMIT = _env_int("SMS_IP_DAILY_LIMIT", 100)

    # Staff sign-in: a username is locked after this many failures in a row, for SIGN_IN_LOCK_SECONDS, doubling
    # with each further failure up to SIGN_IN_LOCK_MAX_SECONDS (on top of RATELIMIT_AUTH per IP address).
    SIGN_IN_LOCK_AFTER = _env_int("SIGN_IN_LOCK_AFTER", 5)
    SIGN_IN_LOCK_SECONDS = _env_int("SIGN_IN_LOCK_SECONDS", 60)
    SIGN_IN_LOCK_MAX_SECONDS = _env_int("SIGN_IN_LOCK_MAX_SECONDS", 3600)
    # Roles whose every sign-in needs a TOTP code (pyotp; enrolment at /auth/totp/enrolment).
    TOTP_ROLES = ("admin", "health_official")
    TOTP_ISSUER = os.environ.get("TOTP_ISSUER", "Jiefang 街坊")

    # WeChat mini-program login
    WECHAT_BACKEND = os.environ.get("WECHAT_BACKEND", "fake")  # fake (dev/test) | real
    WECHAT_APPID = os.environ.get("WECHAT_APPID", "")
    WECHAT_SECRET = os.environ.get("WECHAT_SECRET", "")
    WECHAT_API_BASE = os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com")
    WECHAT_TIMEOUT_SECONDS = 3.0
    # The page a 小程序码 opens (its `scene` is the venue's short id) and the mini-program version it opens.
    WECHAT_CHECKIN_PAGE = os.environ.get("WECHAT_CHECKIN_PAGE", "pages/checkin/index")
    WECHAT_ENV_VERSION = os.environ.get("WECHAT_ENV_VERSION", "release")  # release | trial | develop
    # 订阅消息: the template id of each kind (from the mini-program's admin console; unset = not sent), and the
    # version a message opens (formal | trial | developer).
    WECHAT_TEMPLATE_WAITLIST_PROMOTED = os.environ.get("WECHAT_TEMPLATE_WAITLIST_PROMOTED", "")
    WECHAT_TEMPLATE_PATROL_CANCELLED = os.environ.get("WECHAT_TEMPLATE_PATROL_CANCELLED", "")
    WECHAT_TEMPLATE_COLOUR_CHANGED = os.environ.get("WECHAT_TEMPLATE_COLOUR_CHANGED", "")
    WECHAT_TEMPLATE_REPORT_DISPATCHED = os.environ.get("WECHAT_TEMPLATE_REPORT_DISPATCHED", "")
    WECHAT_MINIPROGRAM_STATE = os.environ.get("WECHAT_MINIPROGRAM_STATE", "formal")

    # Real-name checks of health-code holders (app/health_codes/identity.py)
    IDENTITY_BACKEND = os.environ.get("IDENTITY_BACKEND", "fake")  # fake (dev/test) | http (real-name gateway)
    IDENTITY_GATEWAY_URL = os.environ.get("IDENTITY_GATEWAY_URL", "")
    IDENTITY_GATEWAY_TOKEN = os.environ.get("IDENTITY_GATEWAY_TOKEN", "")
    IDENTITY_TIMEOUT_SECONDS = float(os.environ.get("IDENTITY_TIMEOUT_SECONDS", 3.0))
    IDENTITY_RETRIES = _env_int("IDENTITY_RETRIES", 2)
    IDENTITY_FAKE_OWNERS = os.environ.get("IDENTITY_FAKE_OWNERS", "")  # fake only: "id_number:mobile,..."
    # Family (代领) holders per person; days a green person with no code is kept before erasure (docs/health_codes.md).
    HEALTH_CODE_FAMILY_HOLDERS = _env_int("HEALTH_CODE_FAMILY_HOLDERS", 3)
    HEALTH_CODE_PERSON_RETENTION_DAYS = _env_int("HEALTH_CODE_PERSON_RETENTION_DAYS", 28)

    # Rate limiting (flask-limiter); storage is Redis when REDIS_URL is set.
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # Redis down: each process counts in its own memory
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.2, "socket_connect_timeout": 0.2}  # as cache.connect()
    RATELIMIT_AUTH = os.environ.get("RATELIMIT_AUTH", "20 per minute")
    # Worker processes sharing the limits (gunicorn.conf.py sets it): while Redis is away each process counts
    # alone, against its share of every limit, so that all of them together still allow no more than the limit.
    RATELIMIT_WORKERS = _env_int("RATELIMIT_WORKERS", 1)
    # health-code applications per account (a family of ten, with a few typing slips, fits in a day)
    RATELIMIT_HEALTH_CODE_APPLY = os.environ.get("RATELIMIT_HEALTH_CODE_APPLY", "10 per hour;30 per day")
    # staff invitations per account and venue (whatever the phone: the answer never says whether it has an account)
    RATELIMIT_STAFF_INVITE = os.environ.get("RATELIMIT_STAFF_INVITE", "10 per hour;30 per day")
    # per account: venues registered, staff invited (across venues), posters drawn
    RATELIMIT_VENUE_CREATE = os.environ.get("RATELIMIT_VENUE_CREATE", "10 per hour;20 per day")
    RATELIMIT_VENUE_STAFF = os.environ.get("RATELIMIT_VENUE_STAFF", "30 per hour;100 per day")
    RATELIMIT_POSTER = os.environ.get("RATELIMIT_POSTER", "30 per hour")

    SCAN_RETENTION_DAYS = _env_int("SCAN_RETENTION_DAYS", 28)
    # Partition upkeep (PostgreSQL): months made ahead; each strong lock is waited for at most
    # SCAN_PARTITION_LOCK_TIMEOUT_MS (the API queues behind it no longer), then retried after a growing pause.
    SCAN_PARTITION_MONTHS_AHEAD = _env_int("SCAN_PARTITION_MONTHS_AHEAD", 3)
    SCAN_PARTITION_LOCK_TIMEOUT_MS = _env_int("SCAN_PARTITION_LOCK_TIMEOUT_MS", 200)
    SCAN_PARTITION_LOCK_ATTEMPTS = _env_int("SCAN_PARTITION_LOCK_ATTEMPTS", 600)
    SCAN_PARTITION_RETRY_PAUSE_MAX = float(os.environ.get("SCAN_PARTITION_RETRY_PAUSE_MAX", 2.0))
    SCAN_PURGE_BATCH = _env_int("SCAN_PURGE_BATCH", 5000)  # rows deleted per transaction by the trim
    # Uploaded volunteer files (POST /admin/volunteers/imports) run as jobs: `worker` (the `flask volunteers
    # run-imports` command, from cron or systemd), `thread` (inside the development server) or `inline` (tests).
    VOLUNTEER_IMPORT_RUNNER = os.environ.get("VOLUNTEER_IMPORT_RUNNER", "worker")
    VOLUNTEER_IMPORT_MAX_ROWS = _env_int("VOLUNTEER_IMPORT_MAX_ROWS", 200_000)  # rows of one uploaded file
    VOLUNTEER_IMPORT_STALE_MINUTES = _env_int("VOLUNTEER_IMPORT_STALE_MINUTES", 30)  # no progress: runner died
    # The XLSX export is built whole before it is sent (the CSV streams): areas with more volunteers get a 422.
    VOLUNTEER_EXPORT_XLSX_MAX_ROWS = _env_int("VOLUNTEER_EXPORT_XLSX_MAX_ROWS", 100_000)

    # 有呼必应 reports: photo URLs are signed with REPORT_PHOTO_KEY (derived from SECRET_KEY when unset)
    REPORT_PHOTO_KEY = os.environ.get("REPORT_PHOTO_KEY", "")
    REPORT_PHOTO_MAX_BYTES = _env_int("REPORT_PHOTO_MAX_BYTES", 900 * 1024)  # inside MAX_CONTENT_LENGTH
    REPORT_PHOTO_URL_TTL_SECONDS = _env_int("REPORT_PHOTO_URL_TTL_SECONDS", 3600)
    REPORT_DUPLICATE_RADIUS_M = _env_int("REPORT_DUPLICATE_RADIUS_M", 100)
    REPORT_DUPLICATE_WINDOW_HOURS = _env_int("REPORT_DUPLICATE_WINDOW_HOURS", 72)
    REPORT_CONFIRM_WINDOW_HOURS = _env_int("REPORT_CONFIRM_WINDOW_HOURS", 168)  # to confirm or reopen a resolution
    REPORT_POINTS = _env_int("REPORT_POINTS", 5)  # a useful report (accepted), to a volunteer reporter
    REPORT_POINTS_DAILY_CAP = _env_int("REPORT_POINTS_DAILY_CAP", 20)

    DEV_ONLY_BACKENDS = {"SMS_BACKEND": {"console"}, "WECHAT_BACKEND": {"fake"}, "IDENTITY_BACKEND": {"fake"}}
    # Production backends and the settings each one cannot work without.
    PRODUCTION_BACKENDS = {"SMS_BACKEND": {"http": ("SMS_GATEWAY_URL", "SMS_GATEWAY_TOKEN")},
                           "WECHAT_BACKEND": {"real": ("WECHAT_APPID", "WECHAT_SECRET")},
                           "IDENTITY_BACKEND": {"http": ("IDENTITY_GATEWAY_URL", "IDENTITY_GATEWAY_TOKEN")}}


class DevelopmentConfig(Config):
    """A laptop: SQLite, the console SMS sender (codes echoed), secrets generated into instance/ on first start."""

    DEBUG = False  # the service still answers errors with the JSON envelope, never the debugger
    VOLUNTEER_IMPORT_RUNNER = os.environ.get("VOLUNTEER_IMPORT_RUNNER", "thread")  # `make run` needs no worker
    INSTANCE_SECRETS = True
    SMS_ECHO_CODE = True

    @staticmethod
    def validate(config: dict) -> None:
        """Refuse to serve development settings where they would be a deployment: under gunicorn or on a server
        database, unless JIEFANG_ALLOW_DEVELOPMENT=1 says the machine is a trusted test bed."""
        if _env_bool(ALLOW_DEVELOPMENT_ENV):
            return
        problems = []
        if os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
            problems.append("running under gunicorn")
        if not config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            problems.append("the database is not SQLite")
        if problems:
            raise RuntimeError("Refusing to start in development (" + ", ".join(problems) + "): set "
                               f"JIEFANG_ENV=production, or {ALLOW_DEVELOPMENT_ENV}=1 on a trusted test machine")


class TestingConfig(Config):
    TESTING = True
    SMS_ECHO_CODE = True
    # Fixed test-only secrets: every app the suite builds (and the servers it starts) reads the same data.
    SECRET_KEY = "test-secret-key-not-for-production-0000"
    JWT_SECRET_KEY = "test-jwt-secret-key-not-for-production-1111"
    DATA_ENCRYPTION_KEYS = "dev1:dGVzdC1kYXRhLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24="
    BLIND_INDEX_KEY = "test-blind-index-key-not-for-production"
    HEALTH_CODE_SIGNING_KEYS = "dev1:dGVzdC1lZDI1NTE5LXNlZWQtbm90LWZvci1wcm9kISE="
    VENUE_CODE_KEY = "test-venue-code-key-not-for-production"
    PATROL_CHECKIN_KEY = "test-patrol-checkin-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite:///:memory:")
    REDIS_URL = os.environ.get("TEST_REDIS_URL") or None
    SMS_PHONE_DAILY_LIMIT = 10
    SMS_IP_DAILY_LIMIT = 1000
    RATELIMIT_HEALTH_CODE_APPLY = "1000 per hour"  # tests apply many codes per account; its own test sets it low
    RATELIMIT_VENUE_CREATE = RATELIMIT_VENUE_STAFF = RATELIMIT_POSTER = "1000 per hour"  # likewise
    VOLUNTEER_IMPORT_RUNNER = "inline"  # an upload runs its job before the answer; worker tests set "worker"


class ProductionConfig(Config):
    """Everything from the environment; `validate` refuses a half-configured deployment."""

    SQLALCHEMY_ENGINE_OPTIONS = {**Config.SQLALCHEMY_ENGINE_OPTIONS, "pool_size": 10, "max_overflow": 5}

    @staticmethod
    def validate(config: dict) -> None:
        """Raise RuntimeError with one clear line when production settings are missing or unsafe."""
        problems = []
        env = os.environ
        for name in ("DATABASE_URL",) + SECRET_NAMES:
            if not env.get(name):
                problems.append(f"{name} is not set")
        jwt_key = env.get("JWT_SECRET_KEY", "")
        if jwt_key and len(jwt_key.encode()) < 32:
            problems.append("JWT_SECRET_KEY must be at least 32 bytes")
        if jwt_key and jwt_key == env.get("SECRET_KEY"):
            problems.append("JWT_SECRET_KEY must differ from SECRET_KEY")
        for name, dev_values in Config.DEV_ONLY_BACKENDS.items():
            value = config.get(name)
            if value in dev_values:
                problems.append(f"{name}={value} is for development only")
            elif value not in Config.PRODUCTION_BACKENDS[name]:
                problems.append(f"{name}={value} is not a known backend")
            else:
                problems += [f"{need} is not set (needed by {name}={value})"
                             for need in Config.PRODUCTION_BACKENDS[name][value] if not config.get(need)]
        if config.get("VOLUNTEER_IMPORT_RUNNER", "worker") != "worker":
            problems.append("VOLUNTEER_IMPORT_RUNNER must be worker (imports never run in a web worker)")
        if problems:
            raise RuntimeError("Refusing to start in production: " + "; ".join(problems))


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig, "production": ProductionConfig}
