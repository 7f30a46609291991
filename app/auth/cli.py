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


def _account(ident: str):
    """The account a command names: a username, or `id:<number>`."""
    from app.auth import accounts

    if ident.startswith("id:") and ident[3:].isdigit():
        return accounts.find(user_id=int(ident[3:]))
    return accounts.find(username=ident)


def _run(change, ident: str, **kwargs) -> None:
    from app.auth import accounts
    from app.errors import AppError

    try:
        user = change(_account(ident), **kwargs)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    state = "active" if user.is_active else "disabled"
    click.echo(f"user {user.username or '-'} (id {user.id}): {state}; {accounts.grants_text(user)}; signed out")


_IDENT = click.argument("account", metavar="USERNAME|id:ID")


def add_account_commands(users_cli) -> None:
    """`flask users disable|enable|revoke-role|reset-password|reset-totp`: effective on the account's next request."""
    from app.auth import accounts

    @users_cli.command("disable")
    @_IDENT
    def disable_command(account):
        """Disable an account and sign it out everywhere."""
        _run(accounts.disable, account)

    @users_cli.command("enable")
    @_IDENT
    def enable_command(account):
        """Enable a disabled account (it signs in again)."""
        _run(accounts.enable, account)

    @users_cli.command("revoke-role")
    @_IDENT
    @click.option("--role", required=True)
    @click.option("--area", "area_code", default=None, help="Only the grant over this area (default: every area)")
    def revoke_role_command(account, role, area_code):
        """撤销角色：Take a role away and sign the account out everywhere."""
        _run(accounts.revoke_role, account, role=role, area_code=area_code)

    @users_cli.command("reset-password")
    @_IDENT
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def reset_password_command(account, password):
        """Set a new password (prompted when not given), lift the lockout, sign the account out everywhere."""
        _run(accounts.reset_password, account, password=password)

    @users_cli.command("reset-totp")
    @_IDENT
    def reset_totp_command(account):
        """Forget the account's authenticator app: it enrols again before its next sign-in."""
        _run(accounts.reset_totp, account)
