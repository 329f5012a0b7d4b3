"""The runtime environment of the platform's Lambda functions: settings read once, AWS clients reused.

Every handler configures itself the same way::

    CONFIG = env.cold_start(load_config, log)      # at import; never raises

    def handler(event, context):
        config = CONFIG.get()                      # raises the ConfigError on every invocation
        ...

``load_config(environ)`` reads its variables through a ``Settings`` (``env.load``), which collects
every problem into one ``ConfigError``. Raising it per invocation, rather than at import (an init
error) or never (events dropped), makes Lambda retry the event and then keep it in the function's
dead-letter queue, whose alarm tells a human: nothing is lost and nothing is acted on with a broken
configuration.

The constructs validate names and patterns at synth time, so these helpers check only what the code
needs in order to run correctly: presence, numbers and their limits, choices, JSON shapes.
``PlatformFunction`` copies this module next to each function's ``handler.py``. Stdlib and boto3 only.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, Generic, TypeVar

import boto3
from botocore.config import Config as BotoConfig

T = TypeVar("T")


class ConfigError(ValueError):
    """The function's environment lacks a setting or holds one the code cannot use (every problem at once)."""


class Settings:
    """Typed reads from an environment mapping that record problems instead of stopping at the first.

    A read that fails records a problem and returns None; a read of an unset optional variable returns
    its default. Values are stripped of surrounding whitespace.
    """

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.problems: list[str] = []

    def problem(self, message: str) -> None:
        """Record a problem found by the caller (e.g. between two settings)."""
        self.problems.append(message)

    def _invalid(self, name: str, raw: str, allowed: str) -> None:
        self.problem(f"{name}: invalid value {raw[:200]!r}; allowed: {allowed}")

    def _raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        return None if value is None else value.strip()

    def required(self, name: str, *, allow_empty: bool = False) -> str | None:
        """The value of ``name``; a problem if it is unset (or empty, unless ``allow_empty``)."""
        value = self._raw(name)
        if value is None or (not value and not allow_empty):
            self.problem(f"{name} is {'not set' if value is None else 'empty'}")
            return None
        return value

    def optional(self, name: str, default: str | None = None) -> str | None:
        """The value of ``name``, or ``default`` when it is unset or empty."""
        return self._raw(name) or default

    def integer(self, name: str, *, default: int | None = None, minimum: int | None = None,
                maximum: int | None = None) -> int | None:
        """A whole number in [minimum, maximum]; required unless a default is given."""
        raw = self._read(name, default)
        if not isinstance(raw, str):
            return raw
        value = int(raw) if re.fullmatch(r"[+-]?[0-9]+", raw) else None
        if value is None or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self._invalid(name, raw, _range("an integer", minimum, maximum))
            return None
        return value

    def number(self, name: str, *, default: float | None = None, above: float | None = None,
               maximum: float | None = None) -> float | None:
        """A finite number in (above, maximum]; required unless a default is given."""
        raw = self._read(name, default)
        if not isinstance(raw, str):
            return raw
        try:
            value: float | None = float(raw)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or (above is not None and value <= above) \
                or (maximum is not None and value > maximum):
            low = "" if above is None else f"> {above:g}"
            high = "" if maximum is None else f"<= {maximum:g}"
            self._invalid(name, raw, f"a finite number {' and '.join(p for p in (low, high) if p)}".rstrip())
            return None
        return value

    def choice(self, name: str, choices: Collection[str], *, default: str | None = None) -> str | None:
        """One of ``choices``; required unless a default is given."""
        raw = self._read(name, default)
        if raw is not None and raw not in choices:
            self._invalid(name, raw, " | ".join(choices))
            return None
        return raw

    def match(self, name: str, pattern: re.Pattern[str], allowed: str) -> re.Match[str] | None:
        """The match of a required value against ``pattern`` (for values the code takes apart)."""
        raw = self.required(name)
        found = pattern.fullmatch(raw) if raw is not None else None
        if raw is not None and found is None:
            self._invalid(name, raw, allowed)
        return found

    def names(self, name: str) -> tuple[str, ...] | None:
        """A required comma-separated list of distinct, non-empty names (in order)."""
        raw = self.required(name)
        if raw is None:
            return None
        names = tuple(part.strip() for part in raw.split(","))
        if not all(names) or len(set(names)) != len(names):
            self._invalid(name, raw, "distinct non-empty names separated by commas")
            return None
        return names

    def json_value(self, name: str, accept: Callable[[Any], bool], allowed: str, *, default: Any = None) -> Any:
        """The JSON document in ``name`` if ``accept(document)``; ``default`` when unset."""
        raw = self._raw(name)
        if not raw:
            return default
        try:
            value = json.loads(raw)
        except ValueError:
            value = _INVALID
        if value is _INVALID or not accept(value):
            self._invalid(name, raw, allowed)
            return None
        return value

    def _read(self, name: str, default: Any) -> Any:
        raw = self._raw(name)
        if raw:
            return raw
        if default is None:
            self.problem(f"{name} is {'not set' if raw is None else 'empty'}")
        return default


_INVALID = object()


def _range(kind: str, minimum: Any, maximum: Any) -> str:
    if minimum is not None and maximum is not None:
        return f"{kind} in [{minimum}, {maximum}]"
    if minimum is not None:
        return f"{kind} >= {minimum}"
    return kind if maximum is None else f"{kind} <= {maximum}"


def load(environ: Mapping[str, str], read: Callable[[Settings], T]) -> T:
    """``read(settings)``, or a ConfigError listing every problem it recorded."""
    settings = Settings(environ)
    value = read(settings)
    if settings.problems:
        raise ConfigError("invalid configuration: " + "; ".join(settings.problems))
    return value


class ColdStart(Generic[T]):
    """A configuration loaded once per container, or the error that loading it raised."""

    def __init__(self, config: T | None, error: ConfigError | None) -> None:
        self.config, self.error = config, error

    def get(self) -> T:
        """The configuration; raises (a fresh) ConfigError on every call while it is invalid."""
        if self.error is not None:
            raise ConfigError(str(self.error))
        return self.config  # type: ignore[return-value]


def cold_start(load_config: Callable[[Mapping[str, str]], T], log: Callable[..., None],
               environ: Mapping[str, str] | None = None) -> ColdStart[T]:
    """Load the configuration at import time without raising; a problem is logged once, here."""
    try:
        return ColdStart(load_config(os.environ if environ is None else environ), None)
    except ConfigError as error:
        log(logging.ERROR, "invalid configuration: every invocation fails (and its event is kept in the "
                           "dead-letter queue) until it is fixed", error=str(error))
        return ColdStart(None, error)


# ----------------------------------------------------------------- AWS clients
_CLIENTS: dict[str, Any] = {}


def _boto_config() -> BotoConfig:
    # A fresh one per client: botocore rewrites a Config's retries in place (max_attempts -> total_max_attempts).
    return BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)


def client(service: str) -> Any:
    """The boto3 client for ``service``: created on first use, reused while the container is warm."""
    if service not in _CLIENTS:
        _CLIENTS[service] = boto3.client(service, config=_boto_config())
    return _CLIENTS[service]
