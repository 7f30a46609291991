"""`flask patrols close`: close the patrols that have ended (run it every few minutes, e.g. from cron)."""
import click
from flask.cli import AppGroup

patrols_cli = AppGroup("patrols", help="Patrol housekeeping.")


@patrols_cli.command("close")
def close_command():
    """Close ended patrols; whoever forgot to check out is checked out at the end (auto_checkout)."""
    from app.patrols import checkin

    done = checkin.close_ended()
    click.echo(f"patrols closed: {done['patrols']}, automatic check-outs: {done['auto_checkouts']}")
