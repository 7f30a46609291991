"""The one table: printed, and written to bench/out/ as JSON and Markdown (latest.* and a dated copy)."""
import json
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from bench.core import Row

HEADERS = ("scenario", "req/s", "p50 ms", "p99 ms", "ratio", "target", "met?")


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _cells(row: Row) -> tuple[str, ...]:
    rate = "—" if row.rate is None else f"{row.rate:,.0f}" + ("" if row.unit == "req/s" else f" {row.unit}")
    met = {True: "yes", False: "NO", None: "—"}[row.met]
    if row.note and row.rate is None and row.p50_ms is None:
        met = row.note  # pending / failed: say why in the last column
    elif row.note:
        met = f"{met}: {row.note}"
    ratio = "—" if row.ratio is None else f"{row.ratio:.2f}"
    return row.scenario, rate, _num(row.p50_ms), _num(row.p99_ms), ratio, row.target, met


def _text(headers: tuple, cells: list, left: tuple[int, ...]) -> str:
    """A plain-text table: columns padded to their widest cell, those in `left` flush left, the others right."""
    cells = [headers, *cells]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "  ".join(c.ljust(w) if i in left else c.rjust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *map(line, cells[1:])])


def _markdown(headers: tuple, cells: list) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(out + ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in cells])


def text_table(rows: list[Row]) -> str:
    return _text(HEADERS, [_cells(r) for r in rows], left=(0, 5, 6))


CPU_HEADERS = ("CPU per request, µs (mean of the measured runs)", "machine", "app workers", "postgres", "redis",
               "other")


def _cpu_cells(rows: list[Row]) -> list[tuple[str, ...]]:
    """The HTTP rows' CPU split (bench.cpu_split): whole machine, then gunicorn workers, PostgreSQL, redis-server
    and the rest (the load generator, the kernel)."""
    out = []
    for row in rows:
        cpu = row.extra.get("cpu_us_per_request")
        if cpu:
            other = cpu["machine"] - cpu["app"] - cpu["postgres"] - cpu["redis"]
            out.append((row.scenario, *(f"{v:,.0f}" for v in (cpu["machine"], cpu["app"], cpu["postgres"],
                                                                cpu["redis"], other))))
    return out


def cpu_text_table(rows: list[Row]) -> str:
    """Where the machine's CPU went per request, one line per HTTP scenario ('' when not measured)."""
    cells = _cpu_cells(rows)
    return _text(CPU_HEADERS, cells, left=(0,)) if cells else ""


def markdown_table(rows: list[Row]) -> str:
    return _markdown(HEADERS, [_cells(r) for r in rows])


def write(out_dir: Path, rows: list[Row], meta: dict) -> list[Path]:
    """bench/out/latest.{json,md} and bench-<UTC time>.{json,md}; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    doc = {"meta": meta, "rows": [asdict(r) for r in rows]}
    cpu = _cpu_cells(rows)
    md = "\n".join([f"# Jiefang benchmark, {meta.get('mode', '')} run, {stamp}", "", markdown_table(rows), "",
                    *([_markdown(CPU_HEADERS, cpu), ""] if cpu else []), *[f"- {k}: {v}" for k, v in meta.items()],
                    ""])
    paths = []
    for name in ("latest", f"bench-{stamp}"):
        for suffix, content in ((".json", json.dumps(doc, ensure_ascii=False, indent=2)), (".md", md)):
            path = out_dir / f"{name}{suffix}"
            path.write_text(content, encoding="utf-8")
            paths.append(path)
    return paths
