"""The request log: one line per request, carrying the route *pattern*, never the path.

A path can hold a credential (``/s/<token>`` is a signed link) or, through percent-encoded
CR/LF, text that would read as a forged log line. So the app logs the matched rule
(``/s/<token>``, or ``<unmatched>``), the method, status, duration and request id, and every
value it logs has its control characters escaped. gunicorn's own access log is off (`csmap
serve`), and :class:`GunicornLogger` withholds the request line and URI that gunicorn would
otherwise quote in its error log for a malformed request or a failed one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import Flask, Response, g, request
from gunicorn.glogging import Logger as _GunicornBaseLogger

log = logging.getLogger("webmap.access")

# C0 controls, DEL, C1 controls (NEL among them) and the Unicode line and paragraph separators:
# everything some log reader might take as the end of a line or a terminal command.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def escape(value: object) -> str:
    """``value`` as text with every control character visible (``\\r``, ``\\x1b``, …)."""
    return _CONTROL.sub(_escaped, str(value))


def route_pattern() -> str:
    """The URL rule the request matched, e.g. ``/s/<token>``: safe to log, unlike the path."""
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


class EscapingFormatter(logging.Formatter):
    """Escapes the message of every record it formats, whoever logged it."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape(record.message)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``CSMAP_LOG_FORMAT=json``): time, level, logger, the escaped
    message and, for a request's line, its fields (method, route pattern, status, ms, request
    id). The same values as the text line: never a path, a coordinate, a note, a mark or a
    token."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": escape(record.getMessage()),
        }
        line.update(getattr(record, "csmap", {}))
        return json.dumps(line)  # ASCII only: no line or paragraph separator survives


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for ``CSMAP_LOG_FORMAT``: text (escaped) or JSON lines."""
    if log_format == "json":
        return JsonFormatter()
    return EscapingFormatter("%(asctime)s [%(levelname)s] %(name)s: %(message)s")


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time (as logging's last resort does)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr


def _configure_handler(log_format: str) -> None:
    # Give the app's loggers a home when nothing else has (gunicorn configures only its own
    # loggers); where the root logger has handlers already (pytest, an embedding host), the
    # records go there instead of twice.
    logger = logging.getLogger("webmap")
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = _StderrHandler()
    handler.setFormatter(formatter(log_format))
    logger.addHandler(handler)


def init_app(app: Flask) -> None:
    _configure_handler(app.extensions["csmap.settings"].log_format)

    @app.before_request
    def _start_clock() -> None:
        g.request_started = time.perf_counter()
        g.request_id = uuid.uuid4().hex  # first of all, so every audit entry can name it

    @app.after_request
    def _log_request(resp: Response) -> Response:
        took_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        fields = {
            "method": escape(request.method),
            "route": escape(route_pattern()),
            "status": resp.status_code,
            "ms": round(took_ms),
            "request_id": escape(g.get("request_id", "-")),
        }
        log.info(
            "method=%s route=%s status=%d ms=%.0f request_id=%s",
            fields["method"],
            fields["route"],
            resp.status_code,
            took_ms,
            fields["request_id"],
            extra={"csmap": fields},
        )
        return resp


class _GunicornScrub(logging.Filter):
    """gunicorn quotes the request line of a malformed request, and the URI of a request that
    failed inside a worker: keep what happened, withhold the path, escape the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Invalid request from"):
            message = "Invalid request refused with 400 (request line or headers malformed)"
        elif message.startswith("Error handling request"):
            message = "Error handling request (path withheld)"
        record.msg, record.args = escape(message), ()
        return True


class GunicornLogger(_GunicornBaseLogger):
    """`csmap serve`'s gunicorn logger: no access log (the app logs each request itself) and
    an error log that never quotes a path."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)  # also called again when gunicorn reopens its log files
        if not any(isinstance(f, _GunicornScrub) for f in self.error_log.filters):
            self.error_log.addFilter(_GunicornScrub())
        if os.environ.get("CSMAP_LOG_FORMAT") == "json":
            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None
