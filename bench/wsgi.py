"""The bench's WSGI entry point: the application plus the yardstick routes (`gunicorn ... bench.wsgi:app`)."""
import os

from app import create_app
from bench import yardsticks
from config import CONFIGS

app = yardsticks.install(create_app(CONFIGS[os.environ.get("JIEFANG_ENV", "development")]))
