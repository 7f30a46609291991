"""Load generators: wrk (Debian's package, installed when missing) or, without it, a bounded Python one."""
import http.client
import json
import multiprocessing
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.core import Request

TEMPLATE = Path(__file__).resolve().parent / "wrk.lua"


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: dict = field(default_factory=dict)  # kind -> count (status = an unexpected status code)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk(say) -> str | None:
    """wrk's path, installing Debian's package when missing (as root, with apt); None when it cannot be had."""
    found = shutil.which("wrk")
    if found or not shutil.which("apt-get") or os.geteuid() != 0:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "install", "-y", "-q", "wrk"], ["apt-get", "update", "-q"],
                 ["apt-get", "install", "-y", "-q", "wrk"]):
        if shutil.which("wrk"):
            break
        say(f"load generator: {' '.join(step)}")
        try:
            subprocess.run(step, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
        except subprocess.TimeoutExpired:
            say("load generator: apt-get timed out")
            break
    return shutil.which("wrk")


def _lua_string(value: str) -> str:
    if "]==]" in value:
        raise ValueError("request text may not contain ]==]")
    return f"[==[{value}]==]"


def _lua_request(req: Request) -> str:
    headers = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in req.all_headers().items())
    body = "nil" if req.body is None else _lua_string(json.dumps(req.body, ensure_ascii=False))
    return (f"{{method = {_lua_string(req.method)}, path = {_lua_string(req.path)}, headers = {{{headers}}}, "
            f"body = {body}}}")


LUA_CHUNK = 5_000  # requests per Lua function: one function holds at most 65,536 constants (LuaJIT)


def _lua_chunks(requests: list[Request]) -> str:
    """The requests as Lua statements appending to REQUESTS, each chunk built in a function of its own, so that a
    scenario of tens of thousands of distinct requests stays within the per-function constant limit."""
    return "\n".join(
        "for _, r in ipairs((function() return {\n  " + ",\n  ".join(map(_lua_request, requests[at:at + LUA_CHUNK]))
        + "\n} end)()) do REQUESTS[#REQUESTS + 1] = r end" for at in range(0, len(requests), LUA_CHUNK))


def run_wrk(wrk: str, base: str, requests: list[Request], *, seconds: float, connections: int, threads: int,
            script: Path, offset: int = 0) -> LoadResult:
    """Drive base with wrk for `seconds`, replaying the requests in turn from `offset`."""
    script.write_text(TEMPLATE.read_text().replace("--REQUESTS--", _lua_chunks(requests)))
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
           "-s", str(script), base, "--", str(offset), str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures: {out.stdout[-500:]} {out.stderr[-500:]}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    errors = {k: data[k] for k in ("connect", "read", "write", "status", "timeout") if data[k]}
    return LoadResult(data["requests"], data["duration_us"] / 1e6, data["p50_us"] / 1000, data["p99_us"] / 1000,
                      errors)


def _replay(host: str, port: int, requests: list[Request], expect: int, deadline: float, first: int,
            stride: int, latencies: list, errors: dict) -> None:
    conn, i = None, first
    while time.monotonic() < deadline:
        req = requests[i % len(requests)]
        i += stride
        body = None if req.body is None else json.dumps(req.body).encode()
        started = time.perf_counter()
        try:
            conn = conn or http.client.HTTPConnection(host, port, timeout=10)
            conn.request(req.method, req.path, body=body, headers=req.all_headers())
            reply = conn.getresponse()
            reply.read()
        except (OSError, http.client.HTTPException) as exc:
            kind = "timeout" if isinstance(exc, TimeoutError) else "connect"
            errors[kind] = errors.get(kind, 0) + 1
            conn = conn.close() if conn else None
            continue
        latencies.append(time.perf_counter() - started)
        if reply.status != expect:
            errors["status"] = errors.get("status", 0) + 1
        if reply.will_close:
            conn = conn.close()


def _process(args) -> tuple[list, dict]:
    host, port, requests, expect, seconds, threads, first, stride = args
    latencies, errors, deadline = [], {}, time.monotonic() + seconds
    workers = [threading.Thread(target=_replay, args=(host, port, requests, expect, deadline, first + t, stride,
                                                      latencies, errors)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies, errors


def run_python(base: str, requests: list[Request], *, seconds: float, connections: int, expect: int,
               offset: int = 0) -> LoadResult:
    """The fallback: two processes of threads, each request timed; bounded by `seconds` (+ one 10 s timeout).
    Like wrk's script, the threads interleave over the requests from `offset`."""
    url = urlsplit(base)
    procs = 2 if connections >= 2 else 1
    per = connections // procs
    jobs = [(url.hostname, url.port, requests, expect, seconds, per, offset + p * per, procs * per)
            for p in range(procs)]
    started = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(procs) as pool:
        parts = pool.map(_process, jobs)
    elapsed = time.monotonic() - started
    latencies = sorted(x for lat, _ in parts for x in lat)
    errors: dict = {}
    for _, errs in parts:
        for k, v in errs.items():
            errors[k] = errors.get(k, 0) + v
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0  # noqa: E731
    return LoadResult(len(latencies), elapsed, pick(0.50), pick(0.99), errors)
