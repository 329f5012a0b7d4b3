"""Structured logging for the platform's Lambda functions: one JSON object per line on stdout.

CloudWatch Logs Insights can query every field, and lines in CloudWatch's
embedded metric format become metrics. ``PlatformFunction`` copies this module
next to each function's ``handler.py``. Standard library only.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from collections.abc import Callable
from typing import Any

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def json_safe(value: Any, depth: int = 0) -> Any:
    """NaN/inf are not JSON: spell them as strings so every line parses (and cut deep nesting)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, (dict, list, tuple)) and depth >= 10:
        return "..."
    if isinstance(value, dict):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, depth + 1) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"level": record.levelname, "logger": record.name, "message": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(json_safe(entry), default=str, allow_nan=False)


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is now (Lambda captures it; so do test runners)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property  # type: ignore[override]
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        pass


def json_logger(name: str) -> tuple[logging.Logger, Callable[..., None]]:
    """The logger ``name`` writing JSON lines (level from LOG_LEVEL), and ``log(level, message, **fields)``."""
    logger = logging.getLogger(name)
    if not any(getattr(h, "json_lines", False) for h in logger.handlers):  # once per process, even if re-imported
        handler = _StdoutHandler()
        handler.json_lines = True  # type: ignore[attr-defined]
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.propagate = False
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logger.setLevel(level if level in _LEVELS else "INFO")

    def log(level: int, message: str, **fields: Any) -> None:
        logger.log(level, message, extra={"fields": fields})

    return logger, log
