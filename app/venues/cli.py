"""`flask scans purge` and `flask scans partitions`: retention and partition upkeep (run daily from cron)."""
import click
from flask.cli import AppGroup

from app.venues import retention

scans_cli = AppGroup("scans", help="Scan retention and partitions.")


def _echo_horizon() -> None:
    state = retention.horizon()
    if state is None:
        click.echo("scans are not partitioned on this database")
        return
    click.echo(f"partitions: current month {'present' if state.current_month else 'MISSING'}, "
               f"{state.months_ahead} months ahead, {state.default_rows} rows in the default partition")


@scans_cli.command("purge")
def purge_command():
    """Maintain the partitions, then delete scans and check-ins older than SCAN_RETENTION_DAYS."""
    result = retention.purge()
    click.echo(f"purged {result['scans']} scans older than {result['cutoff']:%Y-%m-%d %H:%M} UTC "
               f"({len(result['partitions_dropped'])} partitions dropped), {result['checkin_markers']} check-in "
               f"markers, {result['offline_ids']} offline ids; {len(result['partitions_created'])} partitions "
               f"created, {result['rows_moved']} rows moved out of the default partition")
    _echo_horizon()


@scans_cli.command("partitions")
@click.option("--months-ahead", type=click.IntRange(0, 36), default=None,
              help="Months to create ahead of the current one (default SCAN_PARTITION_MONTHS_AHEAD).")
def partitions_command(months_ahead):
    """Create the coming months' partitions, heal the default partition, and print the horizon."""
    created = retention.ensure_partitions(months_ahead=months_ahead)
    click.echo(f"{len(created)} partitions created" + (f": {', '.join(created)}" if created else ""))
    _echo_horizon()
