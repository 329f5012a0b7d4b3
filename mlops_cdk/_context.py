"""Turning CDK context values (cdk.json JSON, ``-c key=value`` strings) into the types of ``PlatformConfig``'s fields."""

from __future__ import annotations

import json
from typing import Any

from ._validation import config_invalid



def coerce(key: str, raw: Any, type_name: Any) -> Any:
    """Turn ``-c`` strings into the field's type; JSON from cdk.json passes through."""
    if not isinstance(raw, str):
        return tuple(raw) if isinstance(raw, list) else raw
    text = raw.strip()
    kind = str(type_name)
    if "tuple" in kind:
        if text.startswith("["):
            return tuple(parse_json(key, text))
        if text.startswith("{"):  # one object of a list of objects (bias_facets)
            return (parse_json(key, text),)
        return tuple(part.strip() for part in text.split(",") if part.strip())
    if "Mapping" in kind:
        return parse_json(key, text or "{}")
    if "Explainability" in kind or "Settings" in kind:  # a settings object given as JSON, or its one-word form
        if not text:
            return None
        return parse_json(key, text) if text[0] in "{[" else text
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise config_invalid(key, raw, "a number") from None
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise config_invalid(key, raw, "true | false")
        return text.lower() == "true"
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise config_invalid(key, raw, "an integer") from None
    return text


def parse_json(key: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise config_invalid(key, text, f"valid JSON ({exc.msg})") from None
