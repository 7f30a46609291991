"""Run the API tour (the README's, then its continuation in docs/tour.md) against a fresh server: `make tour`
(also run by .ci/run).

The tour is every ```bash block under the README's "## API tour" heading (down to the next "## " heading), run
in order as one script with `set -Eeuo pipefail`, so variables set by one block are there for the next. The
server is the app under gunicorn (gunicorn.conf.py, two workers) on a free port, over a temporary SQLite database
migrated and seeded as `make run` does; the script runs in a temporary folder (files the tour downloads land
there) with API pointing at that server. A step fails the tour when its command fails: the tour's `api` helper
fails on a status other than the one written after it, `jq -e` on a body that does not match. The failure names
the README line of the failing step."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import Gunicorn  # noqa: E402 (after the path is set: run as a script)

_FENCE = re.compile(r"^```bash\n(.*?)^```$", re.S | re.M)
_SECTION = re.compile(r"^## API tour$(.*?)(?=^## |\Z)", re.S | re.M)


def blocks(readme: str) -> list[tuple[int, str]]:
    """(README line of the block's first command, block text) for each bash block of the API tour section."""
    found = _SECTION.search(readme)
    if found is None:
        return []
    return [(readme[:m.start(1)].count("\n") + 1, m.group(1)) for m in _FENCE.finditer(readme, *found.span(1))]


def script(parts: list[tuple[int, str]]) -> tuple[str, list[tuple[int, int]]]:
    """The tour as one bash script, and (script line, README line) where each block starts."""
    lines = ["set -Eeuo pipefail", """trap 'echo $LINENO >>"$TOUR_FAILED_AT"' ERR"""]
    starts = []
    for readme_line, text in parts:
        starts.append((len(lines) + 1, readme_line))
        lines += text.rstrip("\n").split("\n")
    return "\n".join(lines) + "\n", starts


def readme_line(script_line: int, starts: list[tuple[int, int]]) -> int:
    """The README line a script line came from."""
    begin, line = max((s for s in starts if s[0] <= script_line), default=(1, 0))
    return line + script_line - begin


def prepare(workdir: Path) -> dict:
    """A migrated, seeded SQLite database in workdir, as `make run` makes; returns the server's environment."""
    env = {**os.environ, "JIEFANG_ENV": "development", "JIEFANG_ALLOW_DEVELOPMENT": "1",
           "DATABASE_URL": f"sqlite:///{workdir / 'tour.db'}",
           "REDIS_URL": "", "FLASK_APP": "wsgi.py", "GUNICORN_WORKERS": "2"}
    for command in (["db", "upgrade"], ["seed", "demo"]):
        subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    return env


def origin(script_line: int, starts: list[tuple[int, int]], files: list[str]) -> str:
    """file:line that a script line came from (blocks of several files, in order)."""
    index = max((i for i, (start, _) in enumerate(starts) if start <= script_line), default=0)
    return f"{files[index]}:{readme_line(script_line, starts)}"


def main(*paths: str) -> int:
    paths = paths or ("README.md", "docs/tour.md")
    missing = [tool for tool in ("bash", "curl", "jq", "date") if shutil.which(tool) is None]
    if missing:
        print(f"tour: needs {', '.join(missing)} (Debian: apt-get install {' '.join(missing)})", file=sys.stderr)
        return 1
    parts, files = [], []
    for path in paths:
        found = blocks((ROOT / path).read_text())
        parts += found
        files += [path] * len(found)
    if not parts:
        print("tour: no ```bash blocks under '## API tour'", file=sys.stderr)
        return 1
    text, starts = script(parts)
    with tempfile.TemporaryDirectory(prefix="jiefang-tour-") as tmp:
        workdir = Path(tmp)
        env = prepare(workdir)
        server = Gunicorn(env, workdir / "gunicorn.log")
        server.start(seconds=60)
        try:
            marks = workdir / "failed-at"
            run = subprocess.run(["bash", "-c", text], cwd=workdir,
                                 env={**env, "API": f"{server.base}/api/v1", "TOUR_FAILED_AT": str(marks)})
        finally:
            server.stop()
        failed = [int(line) for line in marks.read_text().split()] if marks.exists() else []
        if run.returncode != 0:
            where = origin(failed[-1], starts, files) if failed else "(no line recorded)"
            print(f"tour: FAILED at {where} (exit {run.returncode}); server log:", file=sys.stderr)
            print((workdir / "gunicorn.log").read_text(errors="replace")[-3000:], file=sys.stderr)
            return 1
    print(f"tour: {len(parts)} blocks of {', '.join(paths)} ran as written", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
