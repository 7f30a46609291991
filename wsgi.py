"""WSGI entry point for gunicorn: `gunicorn -c gunicorn.conf.py wsgi:app`."""
import os

from app import create_app
from config import CONFIGS

app = create_app(CONFIGS[os.environ.get("JIEFANG_ENV", "development")])
