"""Prometheus metrics: what an operator pages on. Served at /metrics (METRICS_TOKEN as a bearer token; refused
while none is set), never under the public /api/v1 path.

Under gunicorn every worker writes its counters to files in PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py makes
one when it is not set) and whichever worker answers the scrape adds them up. Backlogs are not counters: a
domain names a function that counts its backlog (`backlog("outbox", count)`), asked at scrape time."""
import hmac
import logging
import os
import time
from typing import Callable

from flask import Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY

log = logging.getLogger("jiefang.metrics")

REQUESTS = Histogram("jiefang_request_duration_seconds", "Requests by route template, method and status.",
                     ["route", "method", "status"],
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
DATABASE_UNAVAILABLE = Counter("jiefang_database_unavailable_total",
                               "Requests answered 503 because the database could not be reached.", ["fault"])
REDIS_FALLBACKS = Counter("jiefang_redis_fallbacks_total",
                          "Times the database answered instead of Redis, by reason (unreachable, behind, write_lost).",
                          ["reason"])
RATE_LIMITED = Counter("jiefang_rate_limited_total", "Requests refused by a rate limit, by route template.",
                       ["route"])
IDEMPOTENT_REPLAYS = Counter("jiefang_idempotent_replays_total",
                             "POSTs answered from a stored answer (an Idempotency-Key seen before).")

_BACKLOGS: dict[str, Callable[[], int]] = {}


def backlog(name: str, count: Callable[[], int]) -> None:
    """Publish `jiefang_backlog{name=...}`: count() is called (in an app context) at each scrape."""
    _BACKLOGS[name] = count


def route() -> str:
    """The matched route template (never the path: ids would make one series per row), or 'unmatched'."""
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def observe_request(status: int, seconds: float) -> None:
    """Count one answered request."""
    REQUESTS.labels(route(), request.method, str(status)).observe(seconds)


class _Backlogs:
    """A scrape-time collector: each named backlog counted now, in the scraping process."""

    def collect(self):
        family = GaugeMetricFamily("jiefang_backlog", "Items waiting, by backlog.", labels=["name"])
        for name, count in sorted(_BACKLOGS.items()):
            try:
                family.add_metric([name], count())
            except Exception:  # noqa: BLE001 — a scrape must not fail because one backlog cannot be counted
                log.warning("backlog %s could not be counted", name)
        yield family


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        registry.register(_Everything())
    else:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    registry.register(_Backlogs())
    return registry


class _Everything:
    """This process's default registry, for a single-process server (flask run, the tests)."""

    def collect(self):
        return REGISTRY.collect()


def authorised() -> bool:
    """Whether the request carries METRICS_TOKEN as its bearer token (compared in constant time)."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def exposition() -> Response:
    """Every metric in Prometheus's text format."""
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def _observe(response):
    started = g.get("request_started")
    if started is not None:
        observe_request(response.status_code, time.perf_counter() - started)
    return response


def init_metrics(app) -> None:
    """Count every answered request (after the request log's hook has timed it); publish the platform's backlogs."""
    from app.ops import idempotency, sync

    app.after_request(_observe)
    backlog("redis_generations_behind", sync.generations_behind)
    backlog("idempotency_expired", idempotency.count_expired)
