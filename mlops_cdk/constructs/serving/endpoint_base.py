"""What every ``sagemaker.IEndpoint`` of the library shares, and the endpoint this app does not create.

``ModelEndpoint.from_endpoint_*`` returns an :class:`ImportedEndpoint` (deployed
elsewhere, or not yet); ``ModelEndpoint`` creates one. Both are an
:class:`EndpointBase`: a name, an ARN and ``grant_invoke`` on that ARN.
"""

from __future__ import annotations

import jsii
from aws_cdk import ArnFormat, Resource, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.interfaces import aws_sagemaker as sagemaker_refs
from constructs import Construct

from ..._validation import invalid, is_token


@jsii.implements(sagemaker.IEndpoint)
class EndpointBase(Resource):
    """A ``sagemaker.IEndpoint``: subclasses set ``_endpoint_name`` and ``_endpoint_arn``."""

    _endpoint_name: str
    _endpoint_arn: str

    @property
    def endpoint_name(self) -> str:
        return self._endpoint_name

    @property
    def endpoint_arn(self) -> str:
        return self._endpoint_arn

    @property
    def endpoint_ref(self) -> sagemaker_refs.EndpointReference:
        return sagemaker_refs.EndpointReference(endpoint_arn=self._endpoint_arn)

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """``sagemaker:InvokeEndpoint`` on this endpoint only."""
        return iam.Grant.add_to_principal(grantee=grantee, actions=["sagemaker:InvokeEndpoint"],
                                          resource_arns=[self._endpoint_arn])


class ImportedEndpoint(EndpointBase):
    """An endpoint known by name and ARN; creates nothing."""

    def __init__(self, scope: Construct, id: str, *, endpoint_name: str, endpoint_arn: str) -> None:
        super().__init__(scope, id, environment_from_arn=endpoint_arn)
        self._endpoint_name = endpoint_name
        self._endpoint_arn = endpoint_arn

    @classmethod
    def from_name(cls, scope: Construct, id: str, endpoint_name: str) -> "ImportedEndpoint":
        """The endpoint ``endpoint_name`` of the stack's account and region (SageMaker lower-cases names in ARNs)."""
        arn = Stack.of(scope).format_arn(
            service="sagemaker", resource="endpoint",
            resource_name=endpoint_name if is_token(endpoint_name) else endpoint_name.lower())
        return cls(scope, id, endpoint_name=endpoint_name, endpoint_arn=arn)

    @classmethod
    def from_arn(cls, scope: Construct, id: str, endpoint_arn: str, *, owner: str) -> "ImportedEndpoint":
        """The endpoint of ``endpoint_arn``; its name is the (lower-case) one in the ARN."""
        parts = Stack.of(scope).split_arn(endpoint_arn, ArnFormat.SLASH_RESOURCE_NAME)
        if not is_token(endpoint_arn) and (
                parts.service != "sagemaker" or parts.resource != "endpoint" or not parts.resource_name):
            raise invalid(owner, "endpoint_arn", endpoint_arn,
                          "arn:<partition>:sagemaker:<region>:<account>:endpoint/<name>")
        return cls(scope, id, endpoint_name=parts.resource_name, endpoint_arn=endpoint_arn)
