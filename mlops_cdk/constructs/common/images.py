"""Region-agnostic URIs for SageMaker's first-party images.

Each first-party image lives in a different AWS-owned ECR account per region.
Rather than resolving the URI for one region at synth time (which would pin the
template to that region), stacks get a ``CfnMapping`` of region -> account,
generated from the sagemaker SDK, and build the URI with ``Fn::Sub`` at deploy
time.
"""

from __future__ import annotations

from aws_cdk import CfnMapping, Fn, Stack
from constructs import Construct

from ..._pseudo import Aws
from ..._validation import require_choice
from ..._data.images_generated import REGISTRY_ACCOUNTS, REPOSITORIES

_MAPPING_ID = "SageMakerImageRegistries"

IMAGE_KEYS = tuple(sorted(REPOSITORIES))


def _mapping(stack: Stack) -> CfnMapping:
    existing = stack.node.try_find_child(_MAPPING_ID)
    if existing is not None:
        return existing  # type: ignore[return-value]
    # A region lacking an image has no key for it: FindInMap then fails the
    # deployment in that region with a clear CloudFormation error.
    return CfnMapping(stack, _MAPPING_ID, mapping=REGISTRY_ACCOUNTS, lazy=True)


def image_uri(scope: Construct, image: str) -> str:
    """The deploy-time URI of first-party ``image`` (one of ``IMAGE_KEYS``) in the stack's region."""
    require_choice("image_uri", "image", image, IMAGE_KEYS)
    account = _mapping(Stack.of(scope)).find_in_map(Aws.REGION, image)
    return Fn.sub(
        "${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/" + REPOSITORIES[image],
        {"Account": account},
    )


def image_repository_arn(scope: Construct, image: str) -> str:
    """ARN of the ECR repository behind ``image``, for scoping ``ecr:BatchGetImage``."""
    require_choice("image_uri", "image", image, IMAGE_KEYS)
    account = _mapping(Stack.of(scope)).find_in_map(Aws.REGION, image)
    repository = REPOSITORIES[image].split(":", 1)[0]
    return Fn.sub(
        "arn:${AWS::Partition}:ecr:${AWS::Region}:${Account}:repository/" + repository,
        {"Account": account},
    )
