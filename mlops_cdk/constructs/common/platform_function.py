"""One way to deploy the library's runtime code (``mlops_cdk/lambdas/<name>/``) as a Lambda function.

Every function of the platform gets the same guarantees: its own role with
only the log permissions it needs (no managed policies), a retained log group,
an encrypted SQS dead-letter queue for asynchronous invocations (EventBridge
invokes asynchronously, so a failed event lands there instead of vanishing),
and the current Python runtime.
"""

from __future__ import annotations

import pathlib
import re
import shutil
from collections.abc import Mapping
from typing import Any

import jsii

from aws_cdk import AssetHashType, BundlingOptions, DockerImage, Duration, ILocalBundling, RemovalPolicy, Size
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..._nag import acknowledge
from ..._validation import invalid, require_duration, require_int
from ...compliance import acknowledge_packs
from .key_policies import allow_event_dead_letters, allow_log_encryption
from .network_access import acknowledge_network_interfaces, network_interface_statements
from .network_placement import NetworkPlacement

LAMBDAS_DIR = pathlib.Path(__file__).resolve().parents[2] / "lambdas"
# Modules every function gets next to its handler.py (a plain copy: no Docker, no layer).
SHARED_DIR = LAMBDAS_DIR / "_shared"
RUNTIME = lambda_.Runtime.PYTHON_3_14
_OWNER = "PlatformFunction"
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
OUTSIDE_VPC_REASON = ("network: none; set network to create or an existing VPC to run every Lambda in private "
                      "subnets")


def encrypted_dead_letter_queue(scope: Construct, id: str, key: kms.IKey | None = None) -> sqs.Queue:
    """An encrypted, SSL-only SQS queue that keeps undeliverable events for 14 days (retained).

    Encrypted with ``key`` (a customer managed key, whose policy then admits EventBridge dead letters of this
    account) or, without one, with SQS-managed keys.
    """
    queue = sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.SQS_MANAGED if key is None else sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=Duration.days(14),
        removal_policy=RemovalPolicy.RETAIN,
    )
    if key is not None:
        allow_event_dead_letters(queue, key)
    acknowledge(queue, "AwsSolutions-SQS3",
                "This queue is itself a dead-letter queue: events that could not be delivered or processed land here.")
    return queue


def dead_letter_alarm(
    scope: Construct, id: str, queue: sqs.IQueue, topic: sns.ITopic | None, description: str,
) -> cloudwatch.Alarm:
    """An alarm on any message in ``queue`` (notifying ``topic`` if given): a lost event is seen by a human."""
    alarm = cloudwatch.Alarm(
        scope,
        id,
        alarm_description=description,
        metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5), statistic="Maximum"),
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,  # no datapoints: an empty queue
    )
    if topic is not None:
        alarm.add_alarm_action(cw_actions.SnsAction(topic))
    return alarm


@jsii.implements(ILocalBundling)
class _CopyWithShared:
    """Local bundling: the function's folder plus ``_shared/*.py``, copied into the asset."""

    def __init__(self, folder: pathlib.Path) -> None:
        self._folder = folder

    def try_bundle(self, output_dir: str, *args: object, **kwargs: object) -> bool:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(self._folder, output_dir, dirs_exist_ok=True, ignore=ignore)
        for module in sorted(SHARED_DIR.glob("*.py")):
            if module.name == "__init__.py":  # a package for the library, plain modules in the function
                continue
            shutil.copy2(module, pathlib.Path(output_dir) / module.name)
        return True


def _code_with_shared_modules(folder: pathlib.Path) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(folder),
        # Hash what is deployed, so a change to a shared module redeploys every function.
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=DockerImage.from_registry("unused-local-bundling-only"),  # required field; never pulled
            local=_CopyWithShared(folder),
        ),
    )


class PlatformFunction(Construct):
    """A Lambda function running ``mlops_cdk/lambdas/<code>/handler.py:handler``.

    ``ephemeral_storage_size`` sizes ``/tmp`` (512 MiB by default; up to 10 GiB) for functions that spill to disk.
    ``encryption_key`` (a customer managed key) encrypts the log group, the environment variables and the
    dead-letter queue; its policy gets the statements CloudWatch Logs and EventBridge need (a synth warning
    spells them out for an imported key). Without it, AWS-managed keys encrypt all three.

    ``network`` (a ``NetworkPlacement``) runs the function in its subnets, with its security groups or else a
    group of its own that allows HTTPS out only (``security_groups``); the role may then manage the function's
    network interfaces (the EC2 statements Lambda needs, no managed policy).

    Exposes ``function``, ``role``, ``dead_letter_queue``, ``log_group`` and ``security_groups`` (empty without
    a network).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code: str,
        description: str,
        environment: Mapping[str, str] | None = None,
        timeout: Duration = Duration.minutes(1),
        memory_size: int = 256,
        retry_attempts: int = 2,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        reserved_concurrent_executions: int | None = None,
        ephemeral_storage_size: Size | None = None,
        encryption_key: kms.IKey | None = None,
        network: NetworkPlacement | None = None,
    ) -> None:
        super().__init__(scope, id)
        if network is not None and not isinstance(network, NetworkPlacement):
            raise invalid(_OWNER, "network", network, "a NetworkPlacement, or None")
        if not isinstance(code, str) or not _NAME_RE.match(code) or not (LAMBDAS_DIR / code / "handler.py").is_file():
            available = sorted(p.name for p in LAMBDAS_DIR.iterdir() if (p / "handler.py").is_file())
            raise invalid(_OWNER, "code", code, " | ".join(available) or "a folder of mlops_cdk/lambdas")
        require_function_sizing(_OWNER, memory_size, timeout, ephemeral_storage_size)
        require_int(_OWNER, "retry_attempts", retry_attempts, minimum=0, maximum=2)
        if reserved_concurrent_executions is not None:
            require_int(_OWNER, "reserved_concurrent_executions", reserved_concurrent_executions,
                        minimum=1, maximum=1000)
        if encryption_key is not None and not hasattr(encryption_key, "key_arn"):
            raise invalid(_OWNER, "encryption_key", encryption_key, "a kms.IKey (customer managed), or None")

        self.encryption_key = encryption_key
        self.dead_letter_queue = encrypted_dead_letter_queue(self, "DeadLetterQueue", encryption_key)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.RETAIN, encryption_key=encryption_key
        )
        if encryption_key is not None:
            allow_log_encryption(self.log_group, encryption_key)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs {self.node.path}",
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.log_group_arn}"],
            )
        )
        if encryption_key is not None:  # Lambda sends dead letters as the function's role: SQS needs the key
            self.role.add_to_principal_policy(iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[encryption_key.key_arn]))
        self.security_groups: list[ec2.ISecurityGroup] = []
        if network is not None:
            self.security_groups = network.security_groups_for(
                self, "SecurityGroup", description=f"Lambda {self.node.path}: HTTPS out only")
            for statement in network_interface_statements("lambda"):
                self.role.add_to_principal_policy(statement)
            acknowledge_network_interfaces(self.role, "lambda")
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler="handler.handler",
            code=_code_with_shared_modules(LAMBDAS_DIR / code),
            description=description,
            environment=dict(environment or {}),
            environment_encryption=encryption_key,
            timeout=timeout,
            memory_size=memory_size,
            role=self.role,
            log_group=self.log_group,
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=retry_attempts,
            reserved_concurrent_executions=reserved_concurrent_executions,
            ephemeral_storage_size=ephemeral_storage_size,
            vpc=network.vpc if network is not None else None,
            vpc_subnets=network.subnets if network is not None else None,
            security_groups=self.security_groups or None,
        )
        # aws-cdk-lib makes the function depend on its role (so on the role's policies, which it must
        # wait for) although it already references the role's ARN: cfn-lint's W3005 on that
        # redundant edge is expected, and says nothing about this template.
        cfn_function: lambda_.CfnFunction = self.function.node.default_child  # type: ignore[assignment]
        cfn_function.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        if network is None:
            acknowledge_packs(self.function, "LambdaInsideVPC", OUTSIDE_VPC_REASON)

    @property
    def function_arn(self) -> str:
        return self.function.function_arn

    def trigger(
        self,
        scope: Construct,
        id: str,
        *,
        description: str,
        event_pattern: events.EventPattern | None = None,
        schedule: events.Schedule | None = None,
        retry_attempts: int = 8,
        max_event_age: Duration = Duration.hours(24),
    ) -> events.Rule:
        """An EventBridge rule in ``scope`` invoking this function; undeliverable events go to its DLQ."""
        rule = events.Rule(scope, id, description=description, event_pattern=event_pattern, schedule=schedule)
        rule.add_target(
            targets.LambdaFunction(
                self.function,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            )
        )
        return rule

    def alarm_on_dead_letters(self, scope: Construct, id: str, *, topic: sns.ITopic, description: str) -> cloudwatch.Alarm:
        """Tell a human (via ``topic``) as soon as an event waits in the dead-letter queue."""
        return dead_letter_alarm(scope, id, self.dead_letter_queue, topic, description)

    def add_to_role_policy(self, statement: iam.PolicyStatement) -> None:
        self.role.add_to_principal_policy(statement)


def require_function_sizing(owner: str, memory_size: Any, timeout: Any, ephemeral_storage_size: Any = None) -> None:
    """Lambda's limits on memory (128-10240 MB), timeout (1 s-15 min) and /tmp, for whichever construct takes them."""
    require_int(owner, "memory_size", memory_size, minimum=128, maximum=10240)
    require_duration(owner, "timeout", timeout, minimum=Duration.seconds(1), maximum=Duration.minutes(15))
    if ephemeral_storage_size is not None and not isinstance(ephemeral_storage_size, Size):
        raise invalid(owner, "ephemeral_storage_size", ephemeral_storage_size, "a Size from 512 MiB to 10 GiB")
