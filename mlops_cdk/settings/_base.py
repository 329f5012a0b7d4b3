"""What every settings dataclass shares: validation on construction and loading from JSON objects."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any

from .._validation import invalid


class Settings:
    """Validates on construction; ``from_mapping`` builds from a JSON object (cdk.json, ``-c``).

    Subclasses are frozen dataclasses implementing ``_check(values, owner, path)``,
    which names every prop as ``<path><name>`` so errors from cdk.json show the
    whole key path (``config 'serving.prod.autoscaling.max_capacity': ...``).
    """

    # Fields given as JSON lists that the dataclass holds as tuples (frozen, hashable, compared by value).
    TUPLE_FIELDS: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for key in self.TUPLE_FIELDS:
            value = getattr(self, key)
            if isinstance(value, list):
                object.__setattr__(self, key, tuple(value))
        type(self)._check({f.name: getattr(self, f.name) for f in dataclasses.fields(self)}, type(self).__name__, "")

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    @classmethod
    def from_mapping(cls, data: Any, *, owner: str = "config", path: str = "", base: Any = None) -> Any:
        """Build from a JSON object, on top of ``base`` (same class) or the defaults; errors name ``path<key>``."""
        if isinstance(data, cls):
            return data
        values = cls._values_over(data, owner=owner, path=path, base=base)
        values.update({k: tuple(values[k]) for k in cls.TUPLE_FIELDS if isinstance(values.get(k), list)})
        cls._check(values, owner, path)
        return cls(**values)

    @classmethod
    def _values_over(cls, data: Any, *, owner: str, path: str, base: Any) -> dict[str, Any]:
        """Every field's value: ``data`` (a JSON object, its keys checked) over ``base`` or the defaults."""
        if not isinstance(data, Mapping):
            raise invalid(owner, path.rstrip(".") or cls.__name__, data,
                          "a JSON object with keys among " + ", ".join(cls.keys()))
        check_keys(owner, path, data, cls.keys())
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        values = {f.name: getattr(base, f.name) if base is not None else _default(f) for f in fields}
        values.update(data)
        return values


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return field.default_factory()  # type: ignore[misc]
    return None


def check_keys(owner: str, path: str, data: Mapping[str, Any], known: tuple[str, ...]) -> None:
    """Reject keys outside ``known``, suggesting the closest one (a typo must not be ignored silently)."""
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise invalid(owner, f"{path}{key}", data[key], "keys among " + ", ".join(known) + hint)
