"""`flask auth purge`: delete sign-in state that nothing needs any more."""
import click
from flask.cli import AppGroup

auth_cli = AppGroup("auth", help="Sign-in housekeeping.")


@auth_cli.command("purge")
def purge_command():
    """Delete rows of expired tokens and SMS codes older than a day (run daily, e.g. from cron)."""
    from app.auth import service

    counts = service.purge_expired()
    click.echo(", ".join(f"{name}: {n} deleted" for name, n in counts.items()))
