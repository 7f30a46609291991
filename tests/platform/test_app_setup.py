"""What create_app sets up, and importing a module does not: the query-argument policy."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil
import app
from app.common.blueprint import Blueprint
parser = Blueprint.ARGUMENTS_PARSER
for module in pkgutil.walk_packages(app.__path__, "app."):
    importlib.import_module(module.name)
print(parser.DEFAULT_UNKNOWN_BY_LOCATION["query"], parser.DEFAULT_UNKNOWN_BY_LOCATION["querystring"])
from app import create_app
from config import TestingConfig
class Config(TestingConfig):
    SQLALCHEMY_DATABASE_URI = "sqlite://"
create_app(Config)
print(parser.DEFAULT_UNKNOWN_BY_LOCATION["query"], parser.DEFAULT_UNKNOWN_BY_LOCATION["querystring"])
"""


def test_the_query_argument_policy_is_set_by_create_app_alone():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    imported, created = done.stdout.split("\n")[-3:-1]
    assert imported == "exclude exclude"  # webargs' default: importing every module leaves it alone
    assert created == "raise raise"
