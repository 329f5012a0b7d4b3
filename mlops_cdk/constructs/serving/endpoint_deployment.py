"""How a ``ModelEndpoint`` is updated and scaled: rollback alarms, the blue/green deployment config, autoscaling.

Kept apart from the endpoint's model, config and grants: these pieces only
read a :class:`~mlops_cdk.settings.DeploymentPolicy` / :class:`~mlops_cdk.settings.AutoScaling`
and the endpoint's metrics, and each is a CloudFormation property or resource of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Annotations, Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ...settings import AutoScaling, DeploymentPolicy
from .endpoint_metrics import EndpointMetrics

# SageMaker evaluates rollback alarms during the baking periods of a deployment (minutes long).
# One-minute periods make ``alarm_evaluation_periods`` count minutes, so a bad fleet is rolled back
# within its wait; with the metrics' default 5-minute period a short bake would end before an alarm could fire.
ROLLBACK_PERIOD = Duration.minutes(1)


def create_rollback_alarms(
    scope: Construct, metrics: EndpointMetrics, deployment: DeploymentPolicy, label: str,
) -> tuple[cloudwatch.Alarm, cloudwatch.Alarm]:
    """``Invocation5XXErrors`` (Sum) and ``ModelLatency`` (``deployment.latency_statistic``, Maximum by
    default) alarms of the variant, thresholds from ``deployment``.

    ``metrics`` must name the endpoint literally: the endpoint lists these
    alarms in its ``AutoRollbackConfiguration``, so they cannot reference it.
    """
    periods = deployment.alarm_evaluation_periods

    def alarm(id: str, metric: cloudwatch.IMetric, threshold: float, comparison: cloudwatch.ComparisonOperator,
              what: str) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            scope, id, metric=metric, threshold=threshold, comparison_operator=comparison,
            evaluation_periods=periods, datapoints_to_alarm=periods,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"Endpoint {label}: {what} for {periods} minute(s); rolls back a deployment in progress.",
        )

    errors = alarm("Invocation5xxAlarm", metrics.metric_invocation_5xx_errors(period=ROLLBACK_PERIOD),
                   deployment.error_threshold, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                   f">= {deployment.error_threshold} 5XX errors a minute")
    statistic = deployment.latency_statistic
    latency = alarm("ModelLatencyAlarm",
                    metrics.metric_model_latency(statistic=statistic, period=ROLLBACK_PERIOD),
                    deployment.latency_threshold_ms * 1000,  # ModelLatency is in microseconds
                    cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    f"{statistic} model latency above {deployment.latency_threshold_ms} ms")
    if not deployment.latency_statistic_documented:
        Annotations.of(scope).add_warning_v2(
            "mlops-cdk:latencyStatistic",
            f"deployment.latency_statistic '{statistic}': AWS documents Average, Sum, Minimum, Maximum and "
            "SampleCount for ModelLatency; if CloudWatch serves no percentile for it, the rollback latency alarm "
            "never fires (missing data is not breaching).")
    return errors, latency


def grant_describe_alarms(grantee: iam.IGrantable, alarms: Sequence[cloudwatch.IAlarm]) -> None:
    """``cloudwatch:DescribeAlarms`` on exactly ``alarms``: SageMaker reads a deployment's auto-rollback
    alarms with the endpoint's execution role ("Ensure that your IAM execution role has permission to
    perform the cloudwatch:DescribeAlarms action on the auto-rollback alarms you specify")."""
    grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
        sid="ReadRollbackAlarms", actions=["cloudwatch:DescribeAlarms"], resources=[a.alarm_arn for a in alarms]))


def deployment_config(
    deployment: DeploymentPolicy, rollback_alarms: Sequence[cloudwatch.IAlarm],
) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
    """The endpoint's blue/green update policy; any of ``rollback_alarms`` in ALARM during a bake rolls back.

    ``WaitIntervalInSeconds`` is always sent: the SageMaker API requires it in
    ``TrafficRoutingConfig`` (0 for all at once, whose bake is ``TerminationWaitInSeconds``),
    although CloudFormation's schema marks it optional.
    """
    shifting = deployment.traffic_routing != "all_at_once"
    size = None
    if shifting:
        size = sagemaker.CfnEndpoint.CapacitySizeProperty(
            type="CAPACITY_PERCENT" if deployment.size_percent is not None else "INSTANCE_COUNT",
            value=deployment.size_percent if deployment.size_percent is not None else deployment.size_instances,
        )
    routing = sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
        type=deployment.cfn_type,
        canary_size=size if deployment.traffic_routing == "canary" else None,
        linear_step_size=size if deployment.traffic_routing == "linear" else None,
        wait_interval_in_seconds=deployment.wait_interval_seconds if shifting else 0,
    )
    return sagemaker.CfnEndpoint.DeploymentConfigProperty(
        blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
            traffic_routing_configuration=routing,
            termination_wait_in_seconds=deployment.termination_wait_seconds,
            maximum_execution_timeout_in_seconds=deployment.max_execution_timeout_seconds,
        ),
        auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=a.alarm_name) for a in rollback_alarms],
        ),
    )


def create_autoscaling(
    scope: Construct, endpoint_name: str, variant_name: str, autoscaling: AutoScaling,
) -> tuple[appscaling.CfnScalableTarget, appscaling.CfnScalingPolicy]:
    """Target tracking of invocations per instance on the variant's ``DesiredInstanceCount``,
    and the scheduled actions of ``autoscaling.off_hours`` (see :func:`off_hours_actions`).

    ``endpoint_name`` should reference the endpoint, so the target is
    registered once the endpoint exists.
    """
    # L1 on purpose: without RoleARN, Application Auto Scaling uses (and
    # creates if needed) its SageMaker service-linked role; the L2 would
    # add an extra, permission-less role.
    target = appscaling.CfnScalableTarget(
        scope,
        "ScalableTarget",
        service_namespace="sagemaker",
        scalable_dimension="sagemaker:variant:DesiredInstanceCount",
        resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
        min_capacity=autoscaling.min_capacity,
        max_capacity=autoscaling.max_capacity,
        scheduled_actions=off_hours_actions(autoscaling),
    )
    policy = appscaling.CfnScalingPolicy
    scaling = policy(
        scope,
        "InvocationsPerInstance",
        policy_name="invocations-per-instance",
        policy_type="TargetTrackingScaling",
        scaling_target_id=target.ref,
        target_tracking_scaling_policy_configuration=policy.TargetTrackingScalingPolicyConfigurationProperty(
            target_value=autoscaling.target_invocations_per_instance,
            predefined_metric_specification=policy.PredefinedMetricSpecificationProperty(
                predefined_metric_type="SageMakerVariantInvocationsPerInstance",
            ),
            scale_in_cooldown=autoscaling.scale_in_cooldown_seconds,
            scale_out_cooldown=autoscaling.scale_out_cooldown_seconds,
        ),
    )
    return target, scaling


OFF_HOURS_ACTION, WORKING_HOURS_ACTION = "off-hours-scale-in", "working-hours-scale-out"


def off_hours_actions(autoscaling: AutoScaling) -> list[appscaling.CfnScalableTarget.ScheduledActionProperty] | None:
    """Two scheduled actions of the scalable target, or None without ``off_hours``.

    At ``scale_in`` minimum and maximum both become ``capacity`` (a lower maximum alone would
    let target tracking keep the floor, a lower minimum alone would let it scale back out);
    at ``scale_out`` they return to the autoscaling range. What aws-cdk-lib's
    ``ScalableTarget.scale_on_schedule`` renders, on the L1 target that keeps the
    service-linked role. CloudFormation re-registers the target with the configured range
    whenever the target itself changes: an update to it during off hours lasts until the next ``scale_in``.
    """
    off = autoscaling.off_hours
    if off is None:
        return None

    def action(name: str, schedule: str, low: int, high: int) -> appscaling.CfnScalableTarget.ScheduledActionProperty:
        return appscaling.CfnScalableTarget.ScheduledActionProperty(
            scheduled_action_name=name, schedule=schedule, timezone=off.time_zone,
            scalable_target_action=appscaling.CfnScalableTarget.ScalableTargetActionProperty(
                min_capacity=low, max_capacity=high))

    return [action(OFF_HOURS_ACTION, off.scale_in, off.capacity, off.capacity),
            action(WORKING_HOURS_ACTION, off.scale_out, autoscaling.min_capacity, autoscaling.max_capacity)]
