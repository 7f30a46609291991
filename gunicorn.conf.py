"""gunicorn settings for Jiefang: `gunicorn -c gunicorn.conf.py wsgi:app` (nginx in front, see README).

Every value can be overridden from the environment; the defaults suit one app machine behind a buffering proxy.
"""
import os

# Under gunicorn the app is a deployment: production settings unless the environment says otherwise (the
# development settings refuse gunicorn anyway, unless JIEFANG_ALLOW_DEVELOPMENT=1).
os.environ.setdefault("JIEFANG_ENV", "production")


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
backlog = _int("GUNICORN_BACKLOG", 2048)

# Sync workers: one request at a time each, the proven model behind nginx for a CPU- and database-bound app.
# 2 x cores + 1 keeps the cores busy while some workers wait on PostgreSQL; GUNICORN_MAX_WORKERS caps it
# (the database's connection budget), GUNICORN_WORKERS sets it outright.
workers = _int("GUNICORN_WORKERS", min(2 * _cores() + 1, _int("GUNICORN_MAX_WORKERS", 32)))
# While Redis is away each worker rate-limits alone, to its share of every limit (app/common/limits.py).
os.environ["RATELIMIT_WORKERS"] = str(workers)
# The draining sync worker serves the connections queued when SIGTERM comes instead of resetting them.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "app.ops.draining.DrainingSyncWorker")
threads = _int("GUNICORN_THREADS", 1)

# A request that takes 30 s is stuck: the worker is killed and replaced. On SIGTERM (deploy, scale-in) workers
# get graceful_timeout to finish what they are serving and what is queued (app/ops/draining.py).
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Recycle each worker after about this many requests (jitter: not all at once) to bound slow leaks.
max_requests = _int("GUNICORN_MAX_REQUESTS", 20000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 2000)

# Load the app once in the master: workers fork with it (less memory, fast restarts); see post_fork.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"

# The app writes its own request line (request id, path without query string, status, duration):
# gunicorn's access log would repeat it with the query string (?q= may hold a name or phone), so it is off.
# If someone turns it on, the format still leaves the query string out (%(U)s is the path alone).
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = os.environ.get("GUNICORN_ERRORLOG", "-")
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "jiefang"

# Heartbeat files in memory: a worker blocked on a slow disk must not look dead (and /tmp may be disk).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# gunicorn's runtime control socket defaults to one path per user: two instances on a machine (a test server
# next to the service) would fight over it. Off unless a path is given.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

# Only nginx on this machine may set X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


# Prometheus: every worker writes its metrics to files in one directory, which the scrape adds up. Made here when
# the environment names none, before the app (and prometheus_client) is loaded; emptied at each start.
_made_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_metrics_dir:
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="jiefang-metrics-")


def on_starting(server):
    """Empty the metrics directory: counts of a previous run must not be added to this one's."""
    import glob

    for path in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(path)


def child_exit(server, worker):
    """Drop a dead worker's live gauges (its counters stay in the sums)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics directory this file made."""
    if _made_metrics_dir:
        import shutil

        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def post_fork(server, worker):
    """Give each worker its own database connections: never share the master's sockets after fork."""
    if not preload_app:
        return
    from app.extensions import db

    app = server.app.wsgi()  # the app the master loaded (wsgi:app, bench.wsgi:app): importing one would build another
    app.config["RATELIMIT_WORKERS"] = server.cfg.workers  # the count in force, even when -w overrode ours
    with app.app_context():
        db.engine.dispose(close=False)
