"""Development secrets: generated once per checkout into instance/secrets.json (mode 0600), so that no two
instances share a key and a restarted dev server still reads its data and honours its tokens.

A secret set in the environment wins over the file; production never reads the file (its config has no
INSTANCE_SECRETS and refuses to start without every secret in the environment)."""
import base64
import json
import os
import secrets

from config import SECRET_NAMES

FILE_NAME = "secrets.json"


def _generate(name: str) -> str:
    if name in ("DATA_ENCRYPTION_KEYS", "HEALTH_CODE_SIGNING_KEYS"):
        return f"dev{secrets.token_hex(2)}:" + base64.b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_urlsafe(48)


def _read_or_create(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            stored = json.load(handle)
    except FileNotFoundError:
        stored = {}
    missing = [name for name in SECRET_NAMES if not stored.get(name)]
    if missing:
        stored.update({name: _generate(name) for name in missing})
        temporary = f"{path}.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(stored, handle, indent=1)
        os.replace(temporary, path)
    return stored


def load(app) -> None:
    """Fill the secrets neither the config nor the environment sets from instance/secrets.json, creating it (0600) on
    first start."""
    os.makedirs(app.instance_path, exist_ok=True)
    stored = _read_or_create(os.path.join(app.instance_path, FILE_NAME))
    for name in SECRET_NAMES:
        app.config[name] = app.config.get(name) or os.environ.get(name) or stored[name]
