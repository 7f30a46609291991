"""The domains' import graph, read from the source with `ast` (nothing under app/ is imported).

Domains are the packages under app/ but the shared plumbing in SHARED. A domain uses another through that
domain's service modules, never its tables (`models`) or its views (`routes`, `*_routes`), with no exception: a
statement that reaches another domain's tables gets that part from the domain that owns them (`health_codes.joins`,
`auth.bulk`), and foreign keys name other domains' tables as strings. Two domains never import each other, in any
module: one builds on the other, and effects that go the other way are signals or services handed over in
create_app. Imports under `if TYPE_CHECKING:` (annotations only) do not count. Services and other non-request
modules never read `flask.request` or `flask.g`."""
import ast
from functools import cache
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"

SHARED = {
    "common": "small helpers several domains use; it names no domain",
    "data": "reference files (the Guangzhou areas), no code",
    "ops": "operations plumbing every domain uses: idempotency, metrics, cache sync, draining",
    "console": "the staff console's pages, which reach the domains through the public API over HTTP",
}

# Modules of the request layer, which may read the request: views and the decorators applied to them.
REQUEST_LAYER = {"app.auth.access", "app.auth.signed_urls"}


@cache
def _domains() -> frozenset[str]:
    return frozenset(p.name for p in APP.iterdir() if (p / "__init__.py").exists()) - set(SHARED)


def _modules():
    """(module name, path) of every module under app/."""
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(APP.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


@cache
def _is_module(name: str) -> bool:
    path = APP.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


class _Imports(ast.NodeVisitor):
    """Every module a file imports, outside `if TYPE_CHECKING:` blocks, and whether it reads request or g."""

    def __init__(self, module: str, is_package: bool):
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: set[str] = set()
        self.request_names: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" or \
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update(alias.name for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            parent = self.package.split(".")[:len(self.package.split(".")) - node.level + 1]
            base = ".".join(parent + ([base] if base else []))
        if base == "flask":
            self.request_names.update(a.name for a in node.names if a.name in ("request", "g"))
        self.found.add(base)
        self.found.update(f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}"))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id == "flask" and node.attr in ("request", "g"):
            self.request_names.add(node.attr)
        self.generic_visit(node)


@cache
def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """({module: modules under app/ it imports}, {module: request/g names it imports from flask})."""
    imports, request_use = {}, {}
    for module, path in _modules():
        visitor = _Imports(module, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        imports[module] = {name for name in visitor.found if name.startswith("app.") and _is_module(name)}
        request_use[module] = visitor.request_names
    return imports, request_use


def _domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in _domains() else None


def _is_tables_or_views(module: str) -> bool:
    last = module.rpartition(".")[2]
    return last in ("models", "routes") or last.endswith("_routes")


def test_no_domain_uses_another_domains_tables_or_views():
    imports, _ = _graph()
    wrong = sorted((module, target) for module, targets in imports.items() for target in targets
                   if _domain_of(module) and _domain_of(target) not in (None, _domain_of(module))
                   and _is_tables_or_views(target))
    assert wrong == []


def test_no_two_domains_import_each_other():
    imports, _ = _graph()
    edges = {(_domain_of(module), _domain_of(target)) for module, targets in imports.items()
             for target in targets if _domain_of(module) and _domain_of(target)}
    edges = {(a, b) for a, b in edges if a != b}
    assert sorted((a, b) for a, b in edges if (b, a) in edges and a < b) == []


def test_only_the_request_layer_reads_request_or_g():
    _, request_use = _graph()
    layer = {module for module in request_use if _domain_of(module) and
             (_is_tables_or_views(module) and not module.endswith(".models") or module in REQUEST_LAYER)}
    wrong = {module: sorted(names) for module, names in request_use.items()
             if names and _domain_of(module) and module not in layer}
    assert wrong == {}


def test_the_graph_sees_what_it_must():
    """The parser finds the edges it is there to find (a test of the test)."""
    imports, request_use = _graph()
    assert "app.areas.service" in imports["app.auth.service"]
    assert "app.health_codes.joins" in imports["app.venues.scans"]
    assert "app.health_codes.models" not in imports["app.venues.scans"]  # imported under TYPE_CHECKING only
    assert request_use["app.auth.access"] == {"g", "request"}
    assert {"health_codes", "venues", "volunteers", "patrols", "auth", "areas"} <= _domains()
    assert not _domains() & set(SHARED)
