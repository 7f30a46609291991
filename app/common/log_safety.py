"""Log lines an attacker cannot forge: every value logged through `%s`-style arguments has its control characters
escaped (a newline becomes `\\x0a`, a backslash `\\\\`), whichever logger or handler writes it.

Installed as the process's LogRecord factory, so it covers our loggers, gunicorn's and the libraries' alike.
Format strings are written by us and keep their own characters; values must therefore always travel as arguments
(`log.info("path=%s", path)`), never inside an f-string."""
import logging
import numbers
import re
from collections.abc import Mapping

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the backslash that escapes them.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\]")
_PLAIN = (numbers.Number, type(None))  # kept as they are, for %d and %.1f


def escape(text: str) -> str:
    """The text with every control character written as a visible escape."""
    return _UNSAFE.sub(_escaped, text)


def _escaped(match: re.Match) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def _safe(value):
    if isinstance(value, _PLAIN):
        return value
    return escape(value if isinstance(value, str) else str(value))


def safe_args(args):
    """A record's arguments (tuple or mapping) with every value made safe to write on one line."""
    if isinstance(args, Mapping):
        return {key: _safe(value) for key, value in args.items()}
    return tuple(_safe(value) for value in args)


_make_record = logging.getLogRecordFactory()


def _safe_record(*args, **kwargs) -> logging.LogRecord:
    record = _make_record(*args, **kwargs)
    if record.args:
        record.args = safe_args(record.args)
    return record


def install() -> None:
    """Make every LogRecord of the process escape its arguments (idempotent)."""
    if logging.getLogRecordFactory() is not _safe_record:
        logging.setLogRecordFactory(_safe_record)
