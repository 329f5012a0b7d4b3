"""Data capture of a ``ModelEndpoint``: its props' checks and the ``DataCaptureConfig`` they become."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker

from ... import locations
from ..._validation import invalid, is_token, require_choice, require_int, require_key_prefix, require_pattern

CAPTURE_MODES = ("Input", "Output")
MAX_CONTENT_TYPES = 10
_CONTENT_TYPE_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*/[a-zA-Z0-9](-*[a-zA-Z0-9.])*$")


def check_capture(owner: str, *, sampling_percentage: Any, modes: Any, csv_content_types: Any,
                  json_content_types: Any, root_prefix: Any) -> tuple[list[str], list[str], list[str]]:
    """Validate the capture props; returns the distinct modes and the CSV and JSON content types."""
    require_int(owner, "capture_sampling_percentage", sampling_percentage, minimum=0, maximum=100)
    if isinstance(modes, str) or not isinstance(modes, Sequence) or not modes:
        raise invalid(owner, "capture_modes", modes, "a non-empty list of " + " | ".join(CAPTURE_MODES))
    chosen = list(dict.fromkeys(require_choice(owner, "capture_modes", m, CAPTURE_MODES) for m in modes))
    types = [_content_types(owner, prop, value) for prop, value in (
        ("capture_csv_content_types", csv_content_types), ("capture_json_content_types", json_content_types))]
    require_key_prefix(owner, "capture_root_prefix", root_prefix)
    if not is_token(root_prefix) and not root_prefix.endswith("/"):
        raise invalid(owner, "capture_root_prefix", root_prefix, "a key prefix ending with '/'")
    return chosen, types[0], types[1]


def _content_types(owner: str, prop: str, types: Any) -> list[str]:
    if isinstance(types, str) or not isinstance(types, Sequence) or len(types) > MAX_CONTENT_TYPES:
        raise invalid(owner, prop, types, f"a list of at most {MAX_CONTENT_TYPES} content types like text/csv")
    for content_type in types:
        require_pattern(owner, prop, content_type, _CONTENT_TYPE_RE, "content types like text/csv")
    return list(types)


def capture_config(
    bucket: s3.IBucket, key: kms.IKey | None, root_prefix: str, sampling_percentage: int,
    modes: Sequence[str], csv_content_types: Sequence[str], json_content_types: Sequence[str],
) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
    """Capture into ``s3://<bucket>/<root_prefix>``; SageMaker adds ``<endpoint>/<variant>/yyyy/mm/dd/hh/``.

    Declared CSV/JSON content types make SageMaker store request bodies as text, not base64.
    """
    return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
        enable_capture=True,
        initial_sampling_percentage=sampling_percentage,
        destination_s3_uri=locations.s3_uri(bucket.bucket_name, root_prefix.rstrip("/")),
        capture_options=[sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode=m) for m in modes],
        capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
            csv_content_types=list(csv_content_types) or None, json_content_types=list(json_content_types) or None,
        ),
        kms_key_id=key.key_arn if key is not None else None,
    )
