"""What SIGTERM does to requests in flight and queued: gunicorn under steady load, SIGTERM to its master, and
every request's outcome (answered, reset, refused). Run for each worker class to compare:

    .venv/bin/python -m bench.shutdown --worker-class sync
    .venv/bin/python -m bench.shutdown                      # gunicorn.conf.py's default (the draining worker)
"""
import argparse
import http.client
import signal
import tempfile
import threading
import time
from pathlib import Path

from bench.server import Gunicorn

PATH = "/api/v1/openapi.json"  # CPU-bound, about 20 ms: a queue builds with a few clients per worker


def _client(port: int, stop: threading.Event, sigterm_at: list, outcomes: list) -> None:
    while not stop.is_set():
        sent = time.monotonic()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", PATH)
            outcome = str(conn.getresponse().status)
            conn.close()
        except ConnectionRefusedError:
            outcome = "refused"
        except (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError):
            outcome = "reset"
        after = bool(sigterm_at) and sent >= sigterm_at[0]
        outcomes.append(("after" if after else "before", outcome))


def run(worker_class: str | None, workers: int, clients: int) -> dict:
    """Serve, load, SIGTERM; the outcomes of requests sent before and after the signal."""
    env = {"JIEFANG_ENV": "development", "GUNICORN_WORKERS": str(workers), "REDIS_URL": "",
           "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/shutdown.db"}
    if worker_class:
        env["GUNICORN_WORKER_CLASS"] = worker_class
    server = Gunicorn(env, Path(tempfile.mkdtemp()) / "gunicorn.log")
    server.start(seconds=60)
    stop, sigterm_at, outcomes = threading.Event(), [], []
    threads = [threading.Thread(target=_client, args=(server.port, stop, sigterm_at, outcomes)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    sigterm_at.append(time.monotonic())
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join()
    server.proc.wait(60)
    counts: dict = {}
    for when, outcome in outcomes:
        counts.setdefault(when, {}).setdefault(outcome, 0)
        counts[when][outcome] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker-class", default=None, help="gunicorn worker class (default: gunicorn.conf.py's)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=24)
    args = parser.parse_args()
    counts = run(args.worker_class, args.workers, args.clients)
    for when in ("before", "after"):
        print(f"sent {when} SIGTERM: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.get(when, {}).items())))


if __name__ == "__main__":
    main()
