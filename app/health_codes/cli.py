"""`flask health-codes keygen|refresh|erase`: a new signing key, the job that applies due timed changes, and the
job that erases persons past retention."""
import base64
import os

import click
from flask.cli import AppGroup

from app.health_codes import tokens

health_codes_cli = AppGroup("health-codes", help="穗康码: signing keys and timed colour changes.")


@health_codes_cli.command("keygen")
@click.option("--kid", required=True, help=f"Key id, ASCII, at most {tokens.MAX_KID_LENGTH} characters")
def keygen_command(kid):
    """Print a new Ed25519 seed as "kid:base64" for HEALTH_CODE_SIGNING_KEYS (put it first to sign with it)."""
    if not kid.isascii() or not 0 < len(kid) <= tokens.MAX_KID_LENGTH or "," in kid or ":" in kid:
        raise click.BadParameter(f"ASCII, 1-{tokens.MAX_KID_LENGTH} characters, no ',' or ':'", param_hint="--kid")
    click.echo(f"{kid}:{base64.b64encode(os.urandom(32)).decode()}")


@health_codes_cli.command("refresh")
def refresh_command():
    """Re-evaluate codes with a due timed change or older rules (reads do it lazily; this keeps counts exact)."""
    from app.health_codes import service

    click.echo(f"health codes re-evaluated: {service.refresh_due()}")


@health_codes_cli.command("erase")
def erase_command():
    """Erase persons green with no code for HEALTH_CODE_PERSON_RETENTION_DAYS (run daily)."""
    from app.health_codes import persons

    click.echo(f"health-code persons erased: {persons.erase_due()}")
