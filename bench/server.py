"""Servers the bench (and the tests) start and always stop: gunicorn with gunicorn.conf.py, a private Redis."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def real_clock_env() -> dict:
    """This process's environment without libfaketime: a suite run under `faketime` starts its servers on the
    real clock (redis-server does not start at all with libfaketime preloaded)."""
    env = dict(os.environ)
    if "faketime" in env.get("LD_PRELOAD", ""):
        env.pop("LD_PRELOAD")
        for name in [n for n in env if n.startswith("FAKETIME")]:
            env.pop(name)
    return env


def stop_process(proc: subprocess.Popen, seconds: float) -> None:
    """SIGTERM, then SIGKILL after `seconds`."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Gunicorn:
    """The app under gunicorn (the production config file), started and always stopped by the bench."""

    def __init__(self, env: dict, log: Path, target: str = "wsgi:app"):
        self.target = target  # bench.wsgi:app adds the yardsticks
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self, seconds: float = 60) -> None:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", self.target],
                                         cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline, seen, steady_since = time.monotonic() + seconds, -1, 0.0
        while time.monotonic() < deadline and self.proc.poll() is None:
            count = len(self.workers())
            if count != seen:
                seen, steady_since = count, time.monotonic()
            elif count and time.monotonic() - steady_since > 1 and self._healthy():
                return  # answering, and every worker has booted
            time.sleep(0.2)
        self.stop()
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        raise RuntimeError(f"gunicorn did not start ({self.log}):\n{tail}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}/api/v1/health", timeout=2) as reply:
                return reply.status == 200
        except OSError:
            return False

    def workers(self) -> list[int]:
        """Pids of the master's worker processes."""
        if self.proc is None:
            return []
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry))
        return pids

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, 40)
            self.proc = None


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples the workers' resident memory every 0.25 s; `peak_mb()` is the largest seen (VmHWM included)."""

    def __init__(self, server: Gunicorn):
        self.server, self.peak_kb, self.window_kb = server, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            for pid in self.server.workers():
                rss, hwm = _status_kb(pid, "VmRSS"), _status_kb(pid, "VmHWM")
                self.peak_kb = max(self.peak_kb, rss, hwm)
                self.window_kb = max(self.window_kb, rss)

    def start(self) -> "RssSampler":
        self._thread.start()
        return self

    def window_mb(self) -> float:
        """Largest worker RSS since the last call (one scenario)."""
        value, self.window_kb = self.window_kb, 0
        return value / 1024

    def peak_mb(self) -> float:
        return self.peak_kb / 1024

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def free_port_in(ports: range) -> int:
    """The first port of the range nothing listens on (a free port anywhere when all are taken)."""
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


class RedisServer:
    """A redis-server of our own on a free port (never the shared one): start, stop, pause, resume."""

    def __init__(self, ports: range | None = None):
        self.port = free_port_in(ports) if ports else free_port()
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def installed() -> bool:
        return shutil.which("redis-server") is not None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--daemonize", "no"],
                                     env=real_clock_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self._pings():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def _pings(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Shut it down: its data is gone (no persistence), like a restarted cache."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
            stop_process(self.proc, 10)
            self.proc = None

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections hang instead of failing and the data survives, like a network cut."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)
