"""Command-line tools: `flask seed areas|demo`,
`flask users create|disable|enable|revoke-role|reset-password|reset-totp`."""
import click
from flask.cli import AppGroup

from app.areas.seed import seed_areas

seed_cli = AppGroup("seed", help="Load reference and demo data.")
users_cli = AppGroup("users", help="Manage staff accounts.")
demo_cli = AppGroup("demo", help="Generate demo data at any size.")


@seed_cli.command("areas")
def seed_areas_command():
    """Load the Guangzhou area tree (idempotent)."""
    added = seed_areas()
    click.echo(f"areas: {added} added")


@seed_cli.command("demo")
def seed_demo_command():
    """Areas plus a small demo data set: one account per staff role (idempotent)."""
    from app import demo

    seed_areas()
    for line in demo.seed():
        click.echo(line)


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True)
@click.option("--area", "area_code", default="4401", show_default=True, help="Area code the role covers")
def create_user_command(username, password, role, area_code):
    """Create a staff account (or add a role to it)."""
    from app.auth import service
    from app.errors import AppError

    try:
        user = service.create_staff(username=username, password=password, role=role, area_code=area_code)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"user {user.username} (id {user.id}): {role} over {area_code}")


def register_cli(app) -> None:
    """Attach every command group."""
    from app.auth.cli import add_account_commands, auth_cli
    from app.health_codes.cli import health_codes_cli
    from app.ops.cli import ops_cli
    from app.patrols.cli import patrols_cli
    from app.reports.cli import reports_cli
    from app.subscriptions.cli import outbox_cli
    from app.venues.cli import scans_cli
    from app.volunteers.cli import demo_volunteers_command, volunteers_cli

    demo_cli.add_command(demo_volunteers_command)
    add_account_commands(users_cli)
    for group in (seed_cli, users_cli, demo_cli, auth_cli, health_codes_cli, scans_cli, volunteers_cli,
                  patrols_cli, outbox_cli, reports_cli, ops_cli):
        app.cli.add_command(group)
