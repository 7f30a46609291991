"""`flask scans purge` and `flask scans partitions`: retention and partition upkeep (run daily from cron)."""
import click
from flask.cli import AppGroup

from app.venues import retention

scans_cli = AppGroup("scans", help="Scan retention and partitions.")


@scans_cli.command("purge")
def purge_command():
    """Delete scans and check-ins older than SCAN_RETENTION_DAYS (drops whole partitions on PostgreSQL)."""
    created = retention.ensure_partitions()
    result = retention.purge()
    click.echo(f"purged {result['scans']} scans older than {result['cutoff']:%Y-%m-%d %H:%M} UTC "
               f"({len(result['partitions_dropped'])} partitions dropped), {result['checkin_markers']} check-in "
               f"markers, {result['offline_ids']} offline ids; {len(created)} partitions created")


@scans_cli.command("partitions")
@click.option("--months-ahead", default=3, show_default=True)
def partitions_command(months_ahead):
    """Create the monthly scan partitions for the coming months (PostgreSQL)."""
    created = retention.ensure_partitions(months_ahead=months_ahead)
    click.echo(f"{len(created)} partitions created" + (f": {', '.join(created)}" if created else ""))
