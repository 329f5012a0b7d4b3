"""An EventBridge rule target that starts a SageMaker pipeline with parameters.

``aws_events_targets`` has none, and ``RuleTargetConfig`` cannot carry
``SageMakerPipelineParameters``, so the target sets them on the rule's L1
resource at its own position in the target list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import jsii
from constructs import Construct
from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs

from .._validation import invalid, is_token, require_int

_OWNER = "SageMakerPipelineTarget"
# StartPipelineExecution's limits for a Parameter (SageMaker API reference).
_PARAMETER_NAME_RE = re.compile(r"^[A-Za-z0-9\-_]{1,256}$")
_MAX_PARAMETER_VALUE = 1024
_MAX_PARAMETERS = 200


def pipeline_arn_of(scope: Construct, pipeline_name: str) -> str:
    """The ARN of pipeline ``pipeline_name`` in the stack's partition, region and account.

    SageMaker lower-cases pipeline names in ARNs; a token name is lower-cased
    neither here nor by CloudFormation, so pass a lower-case name or the ARN.
    """
    name = pipeline_name if is_token(pipeline_name) else pipeline_name.lower()
    return Stack.of(scope).format_arn(service="sagemaker", resource="pipeline", resource_name=name)


@jsii.implements(events.IRuleTarget)
class SageMakerPipelineTarget:
    """Start ``pipeline_arn`` with ``parameters`` whenever the rule matches.

    A dedicated role is created per rule, allowed only
    ``sagemaker:StartPipelineExecution`` on this pipeline (pass ``role`` to
    reuse one); after ``bind`` it is ``bound_role``. Undeliverable events go
    to ``dead_letter_queue`` after ``retry_attempts`` retries within
    ``max_event_age``.
    """

    def __init__(
        self,
        pipeline_arn: str,
        *,
        parameters: Mapping[str, str] | None = None,
        role: iam.IRole | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int = 3,
        max_event_age: Duration = Duration.hours(2),
    ) -> None:
        if not isinstance(pipeline_arn, str) or not pipeline_arn:
            raise invalid(_OWNER, "pipeline_arn", pipeline_arn, "the ARN of a SageMaker pipeline")
        parameters = dict(parameters or {})
        for name, value in parameters.items():
            if not isinstance(name, str) or not name or not isinstance(value, str):
                raise invalid(_OWNER, "parameters", {name: value}, "pipeline parameter names mapped to string values")
            if not _PARAMETER_NAME_RE.match(name):
                raise invalid(_OWNER, "parameters", name, "parameter names of 1-256 letters, digits, '-' or '_'")
            if not Token.is_unresolved(value) and len(value) > _MAX_PARAMETER_VALUE:
                raise invalid(_OWNER, "parameters", {name: value[:40] + "..."},
                              f"values of at most {_MAX_PARAMETER_VALUE} characters")
        if len(parameters) > _MAX_PARAMETERS:
            raise invalid(_OWNER, "parameters", f"{len(parameters)} parameters", f"at most {_MAX_PARAMETERS}")
        require_int(_OWNER, "retry_attempts", retry_attempts, minimum=0, maximum=185)
        seconds = max_event_age.to_seconds()
        if not Token.is_unresolved(seconds) and not 60 <= seconds <= 86400:
            raise invalid(_OWNER, "max_event_age", f"{seconds}s", "between 1 minute and 24 hours")
        self.pipeline_arn = pipeline_arn
        self.parameters = parameters
        self.role = role
        self.dead_letter_queue = dead_letter_queue
        self.retry_attempts = retry_attempts
        self.max_event_age = max_event_age
        self.bound_role: iam.IRole | None = role

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:
        # One role per target; the first keeps its original construct ID (IDs are public API).
        role_id = "StartPipelineRole" if (id or "Target0") == "Target0" else f"StartPipelineRole{id}"
        role = self.role or iam.Role(
            rule,  # type: ignore[arg-type]
            role_id,
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="Lets this rule start one SageMaker pipeline",
        )
        self.bound_role = role
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[self.pipeline_arn])
        )
        if self.parameters:
            index = int((id or "Target0").removeprefix("Target"))
            cfn_rule: events.CfnRule = rule.node.default_child  # type: ignore[assignment]
            cfn_rule.add_property_override(
                f"Targets.{index}.SageMakerPipelineParameters",
                {"PipelineParameterList": [{"Name": k, "Value": v} for k, v in sorted(self.parameters.items())]},
            )
        dead_letter_config = None
        if self.dead_letter_queue is not None:
            self.dead_letter_queue.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"AllowEventRule{rule.node.addr[:12]}",
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[self.dead_letter_queue.queue_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": rule.rule_arn}},
                )
            )
            dead_letter_config = events.CfnRule.DeadLetterConfigProperty(arn=self.dead_letter_queue.queue_arn)
        return events.RuleTargetConfig(
            arn=self.pipeline_arn,
            role=role,
            dead_letter_config=dead_letter_config,
            retry_policy=events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=self.retry_attempts,
                maximum_event_age_in_seconds=int(self.max_event_age.to_seconds()),
            ),
        )
