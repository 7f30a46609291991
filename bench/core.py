"""The pieces every benchmark shares: a request to replay, an HTTP scenario, a data-scale section, a result row."""
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Request:
    """One request a load generator replays; a scenario gives several so no single row or token is hot."""

    method: str
    path: str
    body: Any = None  # JSON-serialisable, or None
    token: str | None = None  # bearer access token
    headers: dict = field(default_factory=dict)

    def all_headers(self) -> dict:
        headers = dict(self.headers)
        if self.body is not None:
            headers.setdefault("Content-Type", "application/json")
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


@dataclass
class Row:
    """One line of the table. HTTP rows fill rate/latency/ratio; data sections may use another `unit`."""

    scenario: str
    rate: float | None = None
    unit: str = "req/s"
    p50_ms: float | None = None
    p99_ms: float | None = None
    ratio: float | None = None
    target: str = "—"
    met: bool | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)  # anything else worth keeping in the JSON (RSS, errors, counts)


@dataclass(frozen=True)
class Scenario:
    """An HTTP scenario driven by the load generator under gunicorn.

    `prepare(fixtures)` runs in an app context on the bench database, makes the data it needs (idempotently)
    and returns the requests to replay. `None` means its domain has not landed yet: the row says so.
    The target is a ratio to a yardstick's req/s (`min_ratio`) and/or a median latency (`max_p50_ms`)."""

    name: str
    prepare: Callable[[Any], list[Request]] | None
    yardstick: str | None = None  # "json" (framework ceiling) or "write" (one-write ceiling); None for a yardstick
    min_ratio: float | None = None
    max_p50_ms: float | None = None
    expect: int = 200  # the status every response must have
    key: str | None = None  # a yardstick's short name ("json", "write")
    unique: bool = False  # each request must be sent once in a run (a repeat takes another path, e.g. dedup)

    def target_text(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f"≥ {self.min_ratio:g}× {self.yardstick}")
        if self.max_p50_ms is not None:
            parts.append(f"p50 ≤ {self.max_p50_ms:g} ms")
        return ", ".join(parts) or "—"

    def judge(self, row: Row) -> bool | None:
        """Whether the row meets the target (None when there is none)."""
        checks = []
        if self.min_ratio is not None and row.ratio is not None:
            checks.append(row.ratio >= self.min_ratio)
        if self.max_p50_ms is not None and row.p50_ms is not None:
            checks.append(row.p50_ms <= self.max_p50_ms)
        return all(checks) if checks else None


@dataclass(frozen=True)
class DataSection:
    """A data-scale measurement in its own module, bench/<module>.py, exposing

        def run(ctx: bench.run.Context, quick: bool) -> list[Row]

    (quick: a smaller scale that fits `make bench-quick`). Sections with `before_http` load data the HTTP
    scenarios then run against; the others run after the server has stopped. A missing module is a pending row."""

    title: str
    module: str
    target: str = "—"
    before_http: bool = False
