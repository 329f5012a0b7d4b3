"""Prop validation: one wording for every error, and one check per kind of value.

Every message names the owner and the prop, repeats the bad value and says what
is allowed: ``SecureBucket 'abort_incomplete_upload_days': invalid value 0;
allowed: an integer >= 1``. Unresolved tokens pass unchecked (CloudFormation
checks them at deploy time). The patterns and limits behind the checks live in
``lambdas/_shared/contract.py``, which the Lambda functions share.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aws_cdk import Duration

from .lambdas._shared import contract

EMAIL_RE = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
# An S3 key prefix as grants and producers use it: no leading '/', no wildcard, no control character.
KEY_PREFIX_RE = re.compile(r"^(?!/)[^*?\x00-\x1f]*$")
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256


class ConfigurationError(ValueError):
    """A configuration key or prop that is not allowed: the message names it, the value and what is allowed.

    The reference app prints it as one line (``app.py``); anything else that
    goes wrong keeps its traceback.
    """


def invalid(owner: str, prop: str, value: Any, allowed: str) -> ConfigurationError:
    return ConfigurationError(f"{owner} '{prop}': invalid value {value!r}; allowed: {allowed}")


def config_invalid(key: str, value: Any, allowed: str) -> ConfigurationError:
    """``invalid`` for a configuration key (cdk.json context or ``-c``), named by its path."""
    return invalid("config", key, value, allowed)


# aws-cdk-lib's own encoding (core/lib/private/encoding.js, ``Token.isUnresolved``), read in Python: a
# synth asks this ~300 times and each jsii round trip costs ~1.5 ms. tests/test_validation_tokens.py keeps
# both answers equal on every kind of token.
_TOKEN_MARKER = "Token["
_STRING_TOKEN_RE = re.compile(r"\$\{Token\[[a-zA-Z0-9:._-]+\]\}|-1\.\d{10,16}e\+289")
_DOUBLE_TOKEN_MARKER_BITS = 0xFBFF0000


def is_token(value: Any) -> bool:
    """Unresolved CDK values are checked by CloudFormation at deploy time, not here."""
    if isinstance(value, str):
        return _TOKEN_MARKER in value and _STRING_TOKEN_RE.search(value) is not None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            high = struct.unpack("<II", struct.pack("<d", float(value)))[1]
        except OverflowError:  # an int beyond a double's range: no token is
            return False
        return high & 0xFFFF0000 == _DOUBLE_TOKEN_MARKER_BITS
    return False


# ------------------------------------------------------------------ scalars
def require_int(owner: str, prop: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if is_token(value):
        return value
    ok = isinstance(value, int) and not isinstance(value, bool)
    ok = ok and (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    if not ok:
        raise invalid(owner, prop, value, _range("an integer", minimum, maximum))
    return value


def is_finite_number(value: Any) -> bool:
    """An int or float (not a bool), neither NaN nor infinite: what a JSON number in configuration may be."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def require_number(
    owner: str, prop: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
    exclusive_minimum: bool = False,
) -> float:
    if is_token(value):
        return value
    ok = is_finite_number(value)
    if ok and minimum is not None:
        ok = value > minimum if exclusive_minimum else value >= minimum
    ok = ok and (maximum is None or value <= maximum)
    if not ok:
        low = "(" if exclusive_minimum else "["
        allowed = f"a number in {low}{minimum}, {maximum}]" if minimum is not None and maximum is not None else _range(
            "a number", minimum, maximum
        )
        raise invalid(owner, prop, value, allowed)
    return float(value)


def require_fraction(owner: str, prop: str, value: Any) -> float:
    """A finite number in (0, 1]: thresholds of accuracy-like metrics."""
    return require_number(owner, prop, value, minimum=0, maximum=1, exclusive_minimum=True)


def require_bool(owner: str, prop: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid(owner, prop, value, "True | False")
    return value


def require_choice(owner: str, prop: str, value: Any, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise invalid(owner, prop, value, " | ".join(choices))
    return value


def require_pattern(owner: str, prop: str, value: Any, pattern: re.Pattern[str], allowed: str) -> str:
    if is_token(value):
        return value
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise invalid(owner, prop, value, allowed)
    return value


def require_duration(owner: str, prop: str, value: Any, *, minimum: Duration, maximum: Duration) -> Duration:
    """A ``Duration`` within ``[minimum, maximum]`` (compared in milliseconds); tokens pass."""
    def allowed() -> str:
        return f"a Duration from {minimum.to_human_string()} to {maximum.to_human_string()}"

    if not isinstance(value, Duration):
        raise invalid(owner, prop, value, allowed())
    millis = value.to_milliseconds()
    if is_token(millis):
        return value
    if not minimum.to_milliseconds() <= millis <= maximum.to_milliseconds():
        raise invalid(owner, prop, value.to_human_string(), allowed())
    return value


def require_whole_hours(owner: str, prop: str, value: Any, *, maximum: int, minimum: int = 1) -> int:
    """A ``Duration`` of ``minimum`` (1) to ``maximum`` whole hours; returns the hours."""
    require_duration(owner, prop, value, minimum=Duration.hours(minimum), maximum=Duration.hours(maximum))
    try:
        return int(value.to_hours(integral=True))
    except RuntimeError:  # not a whole number of hours
        raise invalid(owner, prop, value.to_human_string(), f"whole hours from {minimum} to {maximum}") from None


# ------------------------------------------------------------------ AWS names and values
def require_sagemaker_name(owner: str, prop: str, value: Any, *, max_length: int) -> str:
    """A SageMaker resource name: letters, digits and inner hyphens, at most ``max_length`` characters."""
    allowed = f"1-{max_length} {contract.SAGEMAKER_NAME_ALLOWED}"
    require_pattern(owner, prop, value, contract.SAGEMAKER_NAME_RE, allowed)
    if not is_token(value) and len(value) > max_length:
        raise invalid(owner, prop, value, allowed)
    return value


def require_instance_type(owner: str, prop: str, value: Any) -> str:
    return require_pattern(owner, prop, value, contract.INSTANCE_TYPE_RE, contract.INSTANCE_TYPE_ALLOWED)


def require_key_prefix(owner: str, prop: str, value: Any) -> str:
    """An S3 key prefix (may be empty) without a leading '/', wildcards or control characters."""
    return require_pattern(owner, prop, value, KEY_PREFIX_RE,
                           "an S3 key prefix not starting with '/' and without '*', '?' or control characters")


def require_object_key(owner: str, prop: str, value: Any) -> str:
    """An S3 object key: a key prefix (see ``require_key_prefix``) that is not empty and does not end with '/'."""
    require_key_prefix(owner, prop, value)
    if not is_token(value) and (not value or value.endswith("/")):
        raise invalid(owner, prop, value, "an S3 object key (not empty, not ending with '/')")
    return value


def require_event_source(owner: str, prop: str, value: Any) -> str:
    return require_pattern(owner, prop, value, contract.EVENT_SOURCE_RE,
                           "1-256 of letters, digits and . _ - /, not starting with 'aws.'")


def require_namespace(owner: str, prop: str, value: Any) -> str:
    return require_pattern(owner, prop, value, contract.CUSTOM_NAMESPACE_RE,
                           "a CloudWatch namespace of 1-255 characters not starting with 'AWS/', without ':' or '$'")


def require_model_package(owner: str, prop: str, value: Any) -> str:
    """A model package *version*: its ARN or ``<group>/<version>``."""
    if is_token(value):
        return value
    if not isinstance(value, str) or not (
            contract.MODEL_PACKAGE_ARN_RE.fullmatch(value) or contract.MODEL_PACKAGE_VERSION_RE.fullmatch(value)):
        raise invalid(owner, prop, value, contract.MODEL_PACKAGE_ALLOWED)
    return value


def require_emails(owner: str, prop: str, values: Any) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise invalid(owner, prop, values, "a list of e-mail addresses")
    values = tuple(values)
    for email in values:
        if not isinstance(email, str) or not EMAIL_RE.match(email):
            raise invalid(owner, prop, email, "e-mail addresses like name@example.com")
    return values


def require_tags(owner: str, prop: str, tags: Any) -> dict[str, str]:
    """AWS tag limits: keys of 1-128 characters not starting with 'aws:', values of at most 256."""
    if not isinstance(tags, Mapping):
        raise invalid(owner, prop, tags, 'a mapping of tag key to value, e.g. {"team": "ml"}')
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= TAG_KEY_MAX or key.lower().startswith("aws:"):
            raise invalid(owner, prop, key, f"tag keys of 1-{TAG_KEY_MAX} characters not starting with 'aws:'")
        if not isinstance(value, str) or len(value) > TAG_VALUE_MAX:
            raise invalid(owner, prop, value, f"string tag values of at most {TAG_VALUE_MAX} characters")
    return dict(tags)


def require_description(owner: str, prop: str, value: Any, *, max_length: int) -> str | None:
    """Optional free text (a resource description): at most ``max_length`` characters, no control characters."""
    if value is None or is_token(value):
        return value
    if not isinstance(value, str) or len(value) > max_length or re.search(r"[\x00-\x1f\x7f]", value):
        shown = value[:60] + "..." if isinstance(value, str) and len(value) > 60 else value
        raise invalid(owner, prop, shown, f"a string of at most {max_length} characters without control characters")
    return value


# ------------------------------------------------------------------ ML values
def require_feature_names(owner: str, prop: str, names: Any) -> tuple[str, ...]:
    """Distinct literal column names usable as CSV headers and metric dimensions, in request order."""
    allowed = "a non-empty list of distinct feature names (no commas; the CSV column order of the captured input)"
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence) or not names:
        raise invalid(owner, prop, names, allowed)
    for name in names:
        if not isinstance(name, str) or is_token(name) or not name.strip() or name != name.strip() or "," in name \
                or len(name) > 255:
            raise invalid(owner, prop, name, allowed)
    if len(set(names)) != len(names):
        raise invalid(owner, prop, list(names), allowed)
    return tuple(names)


def require_drift_thresholds(
    owner: str, threshold: Any, warning: Any, *, names: tuple[str, str] = ("threshold", "warning_threshold"),
) -> tuple[float, float]:
    """PSI thresholds: 0 < warning < threshold <= 1 (0.1 and 0.2 by convention)."""
    high = contract.MAX_DRIFT_THRESHOLD
    threshold = require_number(owner, names[0], threshold, minimum=0, maximum=high, exclusive_minimum=True)
    warning = require_number(owner, names[1], warning, minimum=0, maximum=high, exclusive_minimum=True)
    if not warning < threshold:
        raise invalid(owner, names[1], warning, f"a number in (0, {names[0]}={threshold:g})")
    return threshold, warning


def require_reason(owner: str, prop: str, value: Any) -> str:
    return require_choice(owner, prop, value, contract.REASONS)



# ------------------------------------------------------------------ accounts and regions (delivery)
ACCOUNT_ID_RE = re.compile(r"^\d{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def require_account_id(owner: str, prop: str, value: Any) -> str:
    """A 12-digit AWS account id, as a string (JSON numbers lose leading zeros)."""
    return require_pattern(owner, prop, value, ACCOUNT_ID_RE, "a 12-digit AWS account id, as a string")


def require_region(owner: str, prop: str, value: Any, *, alternative: str = "") -> str:
    """A region name cfn-lint knows (``PlatformConfig.region``, ``delivery.region``); ``alternative`` names what
    else the key allows (e.g. leaving it unset)."""
    from ._data.regions_generated import CFN_LINT_VERSION, KNOWN_REGIONS

    if not isinstance(value, str) or not REGION_RE.match(value):
        raise invalid(owner, prop, value, f"an AWS region name like eu-west-1{alternative}")
    if value not in KNOWN_REGIONS:
        raise invalid(owner, prop, value,
                      f"a region cfn-lint {CFN_LINT_VERSION} knows ({', '.join(KNOWN_REGIONS)}){alternative}")
    return value


def _range(kind: str, minimum: Any, maximum: Any) -> str:
    if minimum is not None and maximum is not None:
        return f"{kind} in [{minimum}, {maximum}]"
    if minimum is not None:
        return f"{kind} >= {minimum}"
    if maximum is not None:
        return f"{kind} <= {maximum}"
    return kind
