"""`flask reports escalate | import-12345 FILE | seed | rebuild-tallies`."""
import click
from flask.cli import AppGroup

reports_cli = AppGroup("reports", help="有呼必应 housekeeping and imports.")


@reports_cli.command("escalate")
def escalate_command():
    """Escalate overdue cases one level and close lapsed resolutions (run every few minutes from cron)."""
    from app.reports import deadlines

    done = deadlines.run()
    click.echo(f"escalated: {done['escalated']} (newly flagged: {done['flagged']}), closed: {done['closed']}")


@reports_cli.command("import-12345")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--rejects", "rejects_path", default=None, help="Reject report CSV (default: PATH.rejects.csv)")
def import_command(path, rejects_path):
    """Turn 12345 hotline work orders (CSV) into reports with source=12345."""
    from app.reports import importer

    rejects_path = rejects_path or f"{path}.rejects.csv"
    counts = importer.import_file(path, rejects_path)
    click.echo(f"imported: {counts['imported']}, already there: {counts['skipped']}, "
               f"rejected: {counts['rejected']} (see {rejects_path})")


@reports_cli.command("seed")
def seed_command():
    """Load the built-in departments and categories (idempotent)."""
    from app.reports import catalogue

    click.echo(f"departments and categories: {catalogue.seed()} added")


@reports_cli.command("rebuild-tallies")
def rebuild_tallies_command():
    """Recompute the figures' tallies from the reports (after a bulk load that bypassed the app)."""
    from app.extensions import db
    from app.reports import tallies
    from app.reports.models import Tally

    tallies.fill(db.session.connection())
    db.session.commit()
    rows = db.session.query(Tally).count()
    click.echo(f"tallies rebuilt: {rows} rows")
