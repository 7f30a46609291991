"""Input no route should ever see, refused before any view (or the pre-auth parse of the hot routes) reads it:
a NUL character in the path, the query string or a JSON body (PostgreSQL text cannot hold one), and JSON nested
deeper than any body of the API (Python's parser would run out of stack).

Both checks start with a test on the raw bytes that costs next to nothing; only a request that passes it is parsed
to look closer, so an ordinary request pays a few substring searches."""
import json

from flask import request

from app.errors import BadRequest, ValidationFailed

MAX_JSON_DEPTH = 32
_NUL_ESCAPE = b"\\u0000"


def nul_refused(location: str) -> ValidationFailed:
    """The 422 for a NUL character in one location (path, query, json)."""
    return ValidationFailed("nul_character", "提交的内容含有不允许的控制字符",
                            errors={location: ["不允许包含 NUL 字符"]})


def _too_deep() -> BadRequest:
    return BadRequest("json_too_deep", "请求体嵌套层数过多", errors={"json": [f"嵌套不得超过 {MAX_JSON_DEPTH} 层"]})


def _walk(value):
    """Yield (depth, value) for every value inside a parsed JSON document, keys included, without recursion."""
    stack = [(1, value)]
    while stack:
        depth, item = stack.pop()
        yield depth, item
        if isinstance(item, dict):
            stack.extend((depth + 1, part) for pair in item.items() for part in pair)
        elif isinstance(item, list):
            stack.extend((depth + 1, part) for part in item)


def check_json(data: bytes) -> None:
    """Raise when a JSON body holds a NUL character or nests deeper than MAX_JSON_DEPTH; anything else passes
    (a body that is not JSON at all is left to the parser that will refuse it)."""
    deep = data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH
    if not deep and _NUL_ESCAPE not in data:
        return
    try:
        document = json.loads(data)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        return
    for depth, item in _walk(document):
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(item, str) and "\x00" in item:
            raise nul_refused("json")


def _query_has_nul() -> bool:
    raw = request.query_string
    if b"%00" not in raw and b"\x00" not in raw:
        return False
    return any("\x00" in key or any("\x00" in value for value in request.args.getlist(key)) for key in request.args)


def guard() -> None:
    """before_request: refuse NUL characters and over-deep JSON before anything else reads the request."""
    if "\x00" in request.path:
        raise nul_refused("path")
    if _query_has_nul():
        raise nul_refused("query")
    if request.is_json:
        check_json(request.get_data(cache=True))


def init_input_guard(app) -> None:
    """Run the guard first on every request."""
    app.before_request_funcs.setdefault(None, []).insert(0, guard)
