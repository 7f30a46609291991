"""`flask ops purge` (daily from cron) and `flask ops check-keys` (after a restore, before serving)."""
import click
from flask.cli import AppGroup

ops_cli = AppGroup("ops", help="Operations housekeeping.")


@ops_cli.command("purge")
def purge_command():
    """Delete stored Idempotency-Key answers past IDEMPOTENCY_TTL_HOURS (run daily, e.g. from cron)."""
    from app.extensions import db
    from app.ops import idempotency

    deleted = idempotency.purge_expired()
    db.session.commit()
    click.echo(f"idempotent_requests: {deleted} deleted")


@ops_cli.command("check-keys")
def check_keys_command():
    """Check that the configured keys are those this database was written with (exit 1 when not)."""
    from app.ops import keycheck

    problems = keycheck.check()
    if problems:
        raise click.ClickException("; ".join(problems))
    click.echo("keys match this database")
