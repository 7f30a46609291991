"""`flask volunteers import FILE`, `flask volunteers run-imports`, `flask volunteers recount`,
`flask demo volunteers --count N`."""
import csv
import sys
import time
from pathlib import Path

import click
from flask.cli import AppGroup

from app.errors import AppError

volunteers_cli = AppGroup("volunteers", help="广州街坊 volunteers: bulk import, counters.")


class Progress:
    """One status line on stderr, rewritten in place: rows done, rows per second, share of the file read."""

    def __init__(self, stream=None, size: int | None = None):
        self.stream, self.size, self.started = stream, size, time.perf_counter()

    def __call__(self, report) -> None:
        done = report.inserted + report.updated
        rate = done / max(time.perf_counter() - self.started, 1e-9)
        share = ""
        if self.stream is not None and self.size:
            try:
                share = f" {min(100, 100 * self.stream.tell() // self.size)}%"
            except (OSError, ValueError):
                share = ""
        click.echo(f"\r{share} written {done:,} (new {report.inserted:,}, updated {report.updated:,}), "
                   f"rejected {report.rejected:,}, {rate:,.0f} rows/s   ", nl=False, err=True)


@volunteers_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", default=50_000, show_default=True, help="Rows per transaction")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write rejected rows (default: FILE.rejected.csv, only when some are rejected)")
def import_command(path: Path, batch_size: int, report_path: Path | None):
    """Import volunteers from a CSV or XLSX file (idempotent on phone)."""
    from app.volunteers import importer

    report_path = report_path or path.with_name(path.name + ".rejected.csv")
    rejected_file, writer = None, None

    def reject(line, reasons):
        nonlocal rejected_file, writer
        if writer is None:
            rejected_file = report_path.open("w", encoding="utf-8-sig", newline="")
            writer = csv.writer(rejected_file)
            writer.writerow(["行号", "原因"])
        writer.writerow([line, "；".join(reasons)])

    started = time.perf_counter()
    with path.open("rb") as stream:
        try:
            report = importer.import_stream(stream, batch_size=batch_size, background=True, on_reject=reject,
                                            on_progress=Progress(stream, path.stat().st_size))
        except AppError as exc:
            raise click.ClickException(exc.message) from None
        finally:
            if rejected_file:
                rejected_file.close()
    seconds = time.perf_counter() - started
    click.echo("", err=True)
    click.echo(f"{report.total:,} rows in {seconds:.1f} s ({report.total / max(seconds, 1e-9):,.0f} rows/s): "
               f"{report.inserted:,} new, {report.updated:,} updated, {report.rejected:,} rejected")
    if report.rejected:
        click.echo(f"rejected rows with line numbers and reasons: {report_path}")
        sys.exit(1)


@volunteers_cli.command("run-imports")
@click.option("--loop", is_flag=True, help="Keep polling for new uploads (a systemd service) instead of exiting")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between polls with --loop")
def run_imports_command(loop: bool, interval: float):
    """Run the queued volunteer imports uploaded through the API (cron: every minute; or --loop)."""
    from app.extensions import db
    from app.volunteers import import_jobs

    while True:
        ran = import_jobs.run_pending()
        db.session.remove()
        if ran or not loop:
            click.echo(f"volunteer imports run: {ran}")
        if not loop:
            return
        time.sleep(interval)


@volunteers_cli.command("recount")
def recount_command():
    """Rebuild the volunteer counters from the volunteer rows (repair tool)."""
    from app.volunteers import counts

    click.echo(f"volunteer counters rebuilt: {counts.recount():,} rows")


@click.command("volunteers")
@click.option("--count", default=1000, show_default=True, type=click.IntRange(1, 10_000_000))
@click.option("--seed", default=4401, show_default=True, help="Same seed, same people: a re-run updates them")
@click.option("--batch-size", default=50_000, show_default=True)
def demo_volunteers_command(count: int, seed: int, batch_size: int):
    """Generate realistic demo volunteers (by district population, skewed trades and interests)."""
    from app.volunteers import demo

    started = time.perf_counter()

    def progress(total, _n):
        done = total.inserted + total.updated
        click.echo(f"\r{done:,}/{count:,} ({done / max(time.perf_counter() - started, 1e-9):,.0f} rows/s)   ",
                   nl=False, err=True)

    written = demo.generate(count=count, seed=seed, batch_size=batch_size, on_written=progress)
    click.echo("", err=True)
    click.echo(f"demo volunteers: {written.inserted:,} new, {written.updated:,} updated "
               f"in {time.perf_counter() - started:.1f} s")
