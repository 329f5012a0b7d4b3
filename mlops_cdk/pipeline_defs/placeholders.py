"""The ``${Name}`` placeholders of rendered pipeline definitions, resolved at deploy time.

Definitions are rendered at synth time, when bucket names, role ARNs, the
region and image URIs are still unknown (tokens). So they carry these
placeholders, and the ``SageMakerPipeline`` construct wraps the JSON in
``Fn::Sub`` with a variables map giving each name used its deploy-time value.
``AWS::Region`` is a pseudo parameter: ``Fn::Sub`` resolves it without a variable.

Any other ``${`` in a definition (the SDK's or a user's text) is escaped to
``${!``, which ``Fn::Sub`` turns back into a literal ``${``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDERS: dict[str, str] = {
    "ExecutionRoleArn": "ARN of the IAM role every job of the pipeline runs as",
    "DataBucket": (
        "name of the bucket with the training data (InputData's default is s3://${DataBucket}/training-data/) "
        "and the pipeline's artifacts (under '<pipeline name>/')"
    ),
    "ScriptsBucket": "bucket of the zip of SCRIPTS_DIR (a CDK directory asset), unpacked by each step",
    "ScriptsArchiveKey": "object key of that zip",
    "XGBoostImage": "URI of SageMaker's XGBoost image in the stack's region (image key 'xgboost')",
    "SKLearnImage": "URI of SageMaker's scikit-learn image in the stack's region (image key 'sklearn')",
    "ModelMonitorImage": "URI of SageMaker's Model Monitor image in the stack's region (image key 'modelmonitor')",
    # A JSON list of any length from one placeholder: ["${SubnetIds}"] with SubnetIds = 'a","b' is ["a","b"].
    "SubnetIds": "the network's subnet ids joined by '\",\"': [\"${SubnetIds}\"] resolves to their JSON list",
    "SecurityGroupIds": "the jobs' security group ids joined the same way, for [\"${SecurityGroupIds}\"]",
    "AWS::Region": "pseudo parameter: the stack's region, resolved by Fn::Sub itself",
}

# The placeholders of a definition whose jobs run in a VPC (SageMakerPipeline's ``network``).
NETWORK_PLACEHOLDERS = frozenset({"SubnetIds", "SecurityGroupIds"})

# Placeholder -> key of mlops_cdk.constructs.images.image_uri() that resolves it.
IMAGE_PLACEHOLDERS: dict[str, str] = {
    "XGBoostImage": "xgboost",
    "SKLearnImage": "sklearn",
    "ModelMonitorImage": "modelmonitor",
}

PSEUDO_PARAMETERS = frozenset(name for name in PLACEHOLDERS if name.startswith("AWS::"))

_NAMES = "|".join(re.escape(name) for name in PLACEHOLDERS)
_KNOWN = re.compile(r"\$\{(" + _NAMES + r")\}")
_FOREIGN = re.compile(r"\$\{(?!(?:" + _NAMES + r")\})")


def placeholder(name: str) -> str:
    """``${name}`` for a documented placeholder ``name``."""
    if name not in PLACEHOLDERS:
        raise KeyError(f"unknown placeholder {name!r}; documented: {sorted(PLACEHOLDERS)}")
    return "${" + name + "}"


def prepare_for_sub(text: str) -> tuple[str, frozenset[str]]:
    """``text`` made safe for ``Fn::Sub``, and the placeholders it uses.

    Every ``${`` that does not open a documented placeholder becomes ``${!``.
    """
    return _FOREIGN.sub("${!", text), frozenset(_KNOWN.findall(text))


def definition_for_sub(definition: Mapping[str, Any]) -> tuple[str, frozenset[str]]:
    """A definition's JSON for ``Fn::Sub`` and its placeholders: sorted keys, compact separators, the same
    bytes for the same definition (every path to a definition body goes through here)."""
    return prepare_for_sub(json.dumps(definition, sort_keys=True, separators=(",", ":")))
