"""Physical names that change with a resource's create-only properties.

CloudFormation replaces a resource when a create-only property changes, creating the new
one before deleting the old; a fixed physical name makes that replacement collide. A name
ending in a digest of those properties (as the template spells them: references stay
references) is literal at synth time, so other stacks and assets can use it, and is new
whenever a replacement is due.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aws_cdk import Stack
from constructs import IConstruct

DIGEST_LENGTH = 8


def content_name(scope: IConstruct, prefix: str, properties: Any, *, max_length: int) -> str:
    """``<prefix>-<8 hex digits of properties>``, the prefix cut so the name fits ``max_length``."""
    resolved = Stack.of(scope).resolve(properties)
    digest = hashlib.sha256(json.dumps(resolved, sort_keys=True, default=str).encode()).hexdigest()[:DIGEST_LENGTH]
    return f"{prefix[:max_length - DIGEST_LENGTH - 1].rstrip('-')}-{digest}"


__all__ = ["content_name"]
