"""Deploy on approval: a model version approved in the registry is recorded per stage and delivered.

EventBridge cannot hand a model package ARN to CodePipeline, so a small function records it in SSM
(one parameter per stage, read by the pipeline's synth step) and then starts the pipeline: the
SSM hand-off the anchors use (aiops-modules), deterministic and testable offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ..._nag import acknowledge_grant_wildcards
from ..._validation import invalid, require_int
from ...lambdas._shared import contract
from ...settings import STAGES
from ..build.model_registry import IModelRegistry, require_registry
from ..common.platform_function import PlatformFunction
from ..common.targets import grant_publish
from .approved_package import (
    NO_APPROVED_PACKAGE,
    approved_package_parameter_name,
    require_name_parts,
    trigger_state_parameter_name,
)

_OWNER = "ApprovalDeployTrigger"
MAX_EVENT_RETRY_ATTEMPTS = 185  # EventBridge's limit per target


class ApprovalDeployTrigger(Construct):
    """Records each ``Approved`` version of ``registry`` for ``stages`` and starts ``pipeline``.

    Creates one ``AWS::SSM::Parameter`` per stage
    (:func:`approved_package_parameter_name`, initial value ``none``), the
    trigger's own state parameter (the versions it deployed, newest first),
    a :class:`PlatformFunction` (``Function``: ``lambdas/approved_package_recorder``,
    dead-letter queue, retained logs, reserved concurrency 1 so events are
    decided one at a time) and an EventBridge rule (``Trigger``) on the
    group's ``Approved`` and ``Rejected`` state changes. An approved version
    is written to every stage parameter and the pipeline started with an
    idempotency token; the same version again does nothing. Rejecting the
    recorded version returns every stage to the newest version deployed
    before it that is still approved (through the pipeline and its gates);
    rejecting any other version changes nothing. The handler's docstring
    holds the full decision table.

    The parameters are created by the template so that ``cdk destroy``
    removes them and their ARNs are known for least-privilege grants. Their
    template properties never change (the function owns the value): an update
    of a parameter's properties would reset it to ``none``.

    The function may get and put exactly these parameters, start exactly this
    pipeline, describe this group's versions (it acts on the registry's
    current status, not on the event's: events can arrive late or out of
    order) and publish to ``alert_topic``. A registry in another account
    must forward its events here (``ModelRegistry.forward_approval_events``)
    and let this account describe its versions
    (``ModelRegistry.grant_cross_account_read``).

    Args:
        registry: the model package group whose approvals deploy.
        pipeline: the delivery pipeline to start (``DeliveryPipeline.pipeline``, any ``IPipeline``).
        stages: the stages whose parameter is written, of ``dev | staging | prod``.
        project_name, model_name: parts of the parameter names (known at synth).
        alert_topic: told about returns, rejections with nothing to return to and dead letters. Default: none.
        reserved_concurrency: None where the account's quota leaves none to reserve. Default 1.
        event_retry_attempts: EventBridge retries before the dead-letter queue, 0-185. Default 8.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        registry: IModelRegistry,
        pipeline: codepipeline.IPipeline,
        stages: Sequence[str],
        project_name: str,
        model_name: str,
        alert_topic: sns.ITopic | None = None,
        reserved_concurrency: int | None = 1,
        event_retry_attempts: int = 8,
    ) -> None:
        require_registry(_OWNER, registry)
        if not hasattr(pipeline, "pipeline_arn") or not hasattr(pipeline, "pipeline_name"):
            raise invalid(_OWNER, "pipeline", pipeline, "a codepipeline.IPipeline")
        chosen = _require_stages(stages)
        require_name_parts(_OWNER, project_name=project_name, model_name=model_name)
        if reserved_concurrency is not None:
            require_int(_OWNER, "reserved_concurrency", reserved_concurrency, minimum=1, maximum=1000)
        require_int(_OWNER, "event_retry_attempts", event_retry_attempts, minimum=0, maximum=MAX_EVENT_RETRY_ATTEMPTS)
        super().__init__(scope, id)
        self.registry, self.pipeline, self.stages = registry, pipeline, chosen
        group = registry.model_package_group_name

        self.parameters: dict[str, ssm.StringParameter] = {
            stage: ssm.StringParameter(
                self, f"Package{stage.title()}",
                parameter_name=approved_package_parameter_name(project_name, model_name, stage),
                string_value=NO_APPROVED_PACKAGE, tier=ssm.ParameterTier.STANDARD,
                description=f"Approved model package version the {stage} stage deploys (written by the "
                            f"approval trigger; '{NO_APPROVED_PACKAGE}': none approved yet)")
            for stage in chosen
        }
        self.state_parameter = ssm.StringParameter(
            self, "State", parameter_name=trigger_state_parameter_name(project_name, model_name),
            string_value=NO_APPROVED_PACKAGE, tier=ssm.ParameterTier.STANDARD,
            description="Versions the approval trigger deployed, newest first (its own record)")
        environment = {
            "MODEL_PACKAGE_GROUP_ARN": registry.model_package_group_arn,
            "STAGE_PARAMETERS": ",".join(p.parameter_name for p in self.parameters.values()),
            "STATE_PARAMETER": self.state_parameter.parameter_name,
            "PIPELINE_NAME": pipeline.pipeline_name,
        }
        if alert_topic is not None:
            environment["TOPIC_ARN"] = alert_topic.topic_arn
        self.function = PlatformFunction(
            self, "Function", code="approved_package_recorder", environment=environment,
            description="Records approved model versions for the delivery stages and starts the delivery pipeline",
            reserved_concurrent_executions=reserved_concurrency)
        self._grant(alert_topic)
        self.rule = self.function.trigger(
            self, "Trigger", description=f"Approved and rejected model versions of {group}",
            event_pattern=registry.approval_change_pattern(list(contract.APPROVAL_STATUSES[:2])),
            retry_attempts=event_retry_attempts)
        self.dead_letter_alarm = None if alert_topic is None else self.function.alarm_on_dead_letters(
            self, "DeadLetterAlarm", topic=alert_topic,
            description=f"Approval events of {group} could not be recorded and wait in the dead-letter queue: "
                        "check the stage parameters and start the delivery pipeline by hand")

    def _grant(self, alert_topic: sns.ITopic | None) -> None:
        role = self.function.role
        parameters = [*self.parameters.values(), self.state_parameter]
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="RecordApprovedPackages", actions=["ssm:GetParameter", "ssm:PutParameter"],
            resources=[p.parameter_arn for p in parameters]))
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="StartDelivery", actions=["codepipeline:StartPipelineExecution"],
            resources=[self.pipeline.pipeline_arn]))
        versions = self.registry.model_package_arn_pattern
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="ReadApprovalStatus", actions=["sagemaker:DescribeModelPackage"], resources=[versions]))
        acknowledge_grant_wildcards(role, [(
            versions, "Model versions are created at run time as <group>/<version>: the function may only "
                      "describe (read the approval status of) that one group's versions.")])
        if alert_topic is not None:
            grant_publish(alert_topic, role)

    def parameter(self, stage: str) -> ssm.IStringParameter:
        """The approved-package parameter of ``stage``."""
        if stage not in self.parameters:
            raise invalid(_OWNER, "stage", stage, " | ".join(self.parameters))
        return self.parameters[stage]

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read the stage parameters (the synth step: ``ssm:GetParameters`` for CodeBuild's parameter-store variables)."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["ssm:GetParameter", "ssm:GetParameters"],
            resource_arns=[p.parameter_arn for p in self.parameters.values()])


def _require_stages(stages: Any) -> tuple[str, ...]:
    allowed = "a non-empty list of distinct stages of " + " | ".join(STAGES)
    if isinstance(stages, str) or not isinstance(stages, Sequence) or not stages:
        raise invalid(_OWNER, "stages", stages, allowed)
    for stage in stages:
        if stage not in STAGES:
            raise invalid(_OWNER, "stages", stage, " | ".join(STAGES))
    if len(set(stages)) != len(stages):
        raise invalid(_OWNER, "stages", list(stages), allowed)
    return tuple(stages)
