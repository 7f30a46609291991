"""The signed-in caller of the request: `current_user` (the account as `app.auth.principal.Principal`) and
`claims()` (its access token's verified claims), set by auth's request layer when it has checked the token."""
from flask import g
from werkzeug.local import LocalProxy


def _caller():
    try:
        return g.caller
    except AttributeError:
        raise RuntimeError("no signed-in caller: the view is not behind app.auth.access.require") from None


current_user = LocalProxy(_caller)


def set_caller(user) -> None:
    g.caller = user


def set_claims(token_claims: dict) -> None:
    g.caller_claims = token_claims


def claims() -> dict:
    """The verified claims of the access token the caller signed in with."""
    return g.caller_claims
