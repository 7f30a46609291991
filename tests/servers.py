"""Real servers for tests that need them: the app under gunicorn (gunicorn.conf.py) and a private Redis.

The extensions are module-level singletons bound to the session app, so a second configuration of the app
(yardsticks on, another Redis) runs in its own process. Both servers are bounded in time and always stopped."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(check, seconds: float, what: str, proc: subprocess.Popen, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if check():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not start\n{tail}")


def _stop(proc: subprocess.Popen, seconds: float = 15) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def gunicorn(app, tmp_path: Path, **env: str):
    """Serve wsgi:app under gunicorn with one worker, on the session app's database; yields the base URL."""
    port = free_port()
    log = tmp_path / f"gunicorn-{port}.log"
    full_env = {**os.environ, "JIEFANG_ENV": "development", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1", "GUNICORN_GRACEFUL_TIMEOUT": "5",
                "REDIS_URL": "", "BENCH_YARDSTICKS": "", **env}
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                                env=full_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _answers(base), 30, "gunicorn", proc, log)
        yield base
    finally:
        _stop(proc)


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/api/v1/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


class PrivateRedis:
    """A redis-server of this test's own, on a free port: stop, pause, start again (never the shared one)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--daemonize", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(self._pings, 10, "redis-server", self.proc)

    def _pings(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """Shut it down: its data is gone (no persistence), like a restarted cache."""
        if self.proc is not None:
            _stop(self.proc, 5)
            self.proc = None

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections hang instead of failing, and the data survives, like a network cut."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)


@contextmanager
def private_redis():
    """A started PrivateRedis, always stopped afterwards; skips the test when redis-server is not installed."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian package redis-server): cannot test Redis failover")
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.resume()
        server.stop()
