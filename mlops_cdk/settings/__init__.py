"""Typed settings: plain, validated data that configuration and constructs share; imports no construct.

Each settings class validates itself on construction and loads from a JSON
object (``from_mapping``) with errors that name the whole key path.
"""

from ._base import Settings, check_keys
from .off_hours import OffHoursScaling
from .endpoint import AutoScaling, DeploymentPolicy, ServerlessInference, check_endpoint_combination, has_instance_storage
from .stage_serving import DEFAULT_SERVING, STAGES, StageServing

__all__ = [
    "DEFAULT_SERVING",
    "STAGES",
    "AutoScaling",
    "DeploymentPolicy",
    "OffHoursScaling",
    "ServerlessInference",
    "Settings",
    "StageServing",
    "check_endpoint_combination",
    "check_keys",
    "has_instance_storage",
]
