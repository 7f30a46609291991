"""WSGI entry point for gunicorn: `gunicorn -c gunicorn.conf.py wsgi:app`."""
import os

from app import create_app
from app.ops.keycheck import refuse_unless_keys_match
from config import CONFIGS

app = create_app(CONFIGS[os.environ.get("JIEFANG_ENV", "development")])
if not os.environ.get("FLASK_RUN_FROM_CLI"):  # serving: `flask` commands (migrations, check-keys) run regardless
    refuse_unless_keys_match(app)
