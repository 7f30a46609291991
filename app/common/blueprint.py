"""The API's Blueprint: flask-smorest's, with each argument schema made once.

Given a Schema class, `@blp.arguments` hands it to webargs, which builds an instance of it on every request
(a measurable share of a hot route's CPU, before any field is read: `make bench`). Made
here once, at import, the same instance loads every request: marshmallow 4 schemas keep no per-load state, and the
OpenAPI document is the same (a test compares it with one built from the classes)."""
import flask_smorest


class Blueprint(flask_smorest.Blueprint):
    def arguments(self, schema, *args, **kwargs):
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)
