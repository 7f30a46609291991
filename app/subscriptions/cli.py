"""`flask outbox deliver` (run every minute, e.g. from cron) and `flask outbox backlog`."""
import json

import click
from flask.cli import AppGroup

outbox_cli = AppGroup("outbox", help="Subscribe messages waiting to be sent.")


@outbox_cli.command("deliver")
@click.option("--limit", default=500, show_default=True, help="Most messages to send in this run")
def deliver_command(limit):
    """Send due subscribe messages (retries with backoff; 43101 is recorded, not retried)."""
    from app.subscriptions import delivery

    counts = delivery.deliver(limit=limit)
    click.echo(" ".join(f"{key}={value}" for key, value in counts.items()))


@outbox_cli.command("backlog")
def backlog_command():
    """Print the outbox backlog as JSON (pending, due, oldest_pending_seconds, failed)."""
    from app.subscriptions import delivery

    click.echo(json.dumps(delivery.backlog()))
