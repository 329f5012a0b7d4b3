"""Automated retraining (course 10.6): scheduled, drift/alarm-triggered and new-data triggered runs of a pipeline.

Two constructs:

* :class:`ScheduledRetraining` — an EventBridge schedule that starts the
  pipeline directly (no Lambda) through :class:`SageMakerPipelineTarget`.
* :class:`DriftRetraining` — EventBridge rules for drift alarms entering
  ``ALARM``, the library's drift checker's "Feature Drift Detected" events and
  (optionally) new training data in S3, all sent to one *gate* Lambda
  (``mlops_cdk/lambdas/retraining_gate``) that starts the pipeline with a
  ``Reason`` parameter unless an execution is running or the last one started
  within the cooldown.

Both are region- and account-agnostic and take the pipeline as plain
``pipeline_name`` / ``pipeline_arn`` strings (or tokens), so they work with any
SageMaker pipeline, not only the library's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .. import locations
from .. import monitoring_metrics as mm
from .._validation import invalid, is_token, require_choice, require_int, require_pattern
from .alert_topic import AlertTopic
from .pipeline_target import SageMakerPipelineTarget, pipeline_arn_of
from .platform_function import PlatformFunction, dead_letter_alarm, encrypted_dead_letter_queue
from .secure_bucket import SecureBucket

# ----------------------------------------------------------------- vocabulary
# Values of the pipeline's ``Reason`` parameter (recorded on the model package
# as TrainingReason). The gate Lambda has the same tuple (a test keeps both in step).
REASONS = ("DataDrift", "ModelQualityDrop", "NewData", "Scheduled", "Manual")
REASON_PARAMETER = "Reason"

DRIFT_EVENT_SOURCE = mm.DRIFT_EVENT_SOURCE  # what the drift checker puts on the bus
DRIFT_EVENT_DETAIL_TYPE = mm.DRIFT_EVENT_DETAIL_TYPE
ALARM_EVENT_DETAIL_TYPE = "CloudWatch Alarm State Change"
S3_OBJECT_CREATED = "Object Created"

# Metric the gate publishes through CloudWatch embedded metric format (a log line, no API call).
DEFAULT_METRIC_NAMESPACE = "MLOps/Retraining"
METRIC_DECISIONS = "RetrainingDecisions"
DECISIONS = ("started", "skipped", "invalid_event")

DEFAULT_COOLDOWN_MINUTES = 360
MAX_COOLDOWN_MINUTES = 43200  # 30 days

# SageMaker's own patterns (CreatePipeline / StartPipelineExecution API reference).
PIPELINE_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
PARAMETER_NAME_RE = re.compile(r"^[A-Za-z0-9\-_]{1,256}$")
MAX_PARAMETER_VALUE = 1024
# SageMaker lower-cases the pipeline name in pipeline ARNs (and so in events and IAM).
PIPELINE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:pipeline/([a-z0-9](-*[a-z0-9])*)$")
ALARM_ARN_RE = re.compile(r"^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$")
ALARM_NAME_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,255}$")
EVENT_SOURCE_RE = re.compile(r"^[A-Za-z0-9._\-/]{1,256}$")
S3_PREFIX_RE = re.compile(r"^(?!/)[^*?\x00-\x1f]*$")


# ----------------------------------------------------------------- schedules
_RATE_RE = re.compile(r"^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$")
_CRON_RE = re.compile(r"^cron\((.*)\)$")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# field name, minimum, maximum, names (value = index + minimum)
_CRON_FIELDS = (
    ("minutes", 0, 59, ()),
    ("hours", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, ()),
)
SCHEDULE_HELP = (
    "rate(1 minute|hour|day) or rate(N minutes|hours|days) for N > 1, or "
    "cron(minutes hours day-of-month month day-of-week year) with '?' in exactly one of "
    "day-of-month and day-of-week"
)


def validate_schedule(owner: str, prop: str, schedule: Any) -> str:
    """Check an EventBridge rule schedule expression as EventBridge does; returns it.

    ``rate()``: a positive integer and a unit that is singular for 1 and plural
    otherwise. ``cron()``: six space-separated fields, values and wildcards
    each field allows, ``?`` in exactly one of day-of-month and day-of-week.
    Tokens pass unvalidated.
    """
    if is_token(schedule):
        return schedule
    if not isinstance(schedule, str):
        raise invalid(owner, prop, schedule, SCHEDULE_HELP)
    if schedule.startswith("rate("):
        match = _RATE_RE.match(schedule)
        if not match:
            raise invalid(owner, prop, schedule, "rate(N unit) with a positive integer N and unit minute(s), hour(s) "
                          "or day(s), e.g. rate(1 day), rate(7 days)")
        value, unit = int(match.group(1)), match.group(2)
        singular = not unit.endswith("s")
        if value == 1 and not singular:
            raise invalid(owner, prop, schedule, f"rate(1 {unit[:-1]}): EventBridge wants a singular unit for 1")
        if value > 1 and singular:
            raise invalid(owner, prop, schedule, f"rate({value} {unit}s): EventBridge wants a plural unit for N > 1")
        return schedule
    match = _CRON_RE.match(schedule)
    if not match:
        raise invalid(owner, prop, schedule, SCHEDULE_HELP)
    fields = match.group(1).split(" ")
    if len(fields) != 6 or any(not f for f in fields):
        raise invalid(owner, prop, schedule, "cron() with exactly six fields separated by single spaces: "
                      "minutes hours day-of-month month day-of-week year, e.g. cron(0 3 ? * MON *)")
    for (name, low, high, names), field in zip(_CRON_FIELDS, fields):
        problem = _cron_field_problem(name, field, low, high, names)
        if problem:
            raise invalid(owner, prop, schedule, f"a valid {name} field ({problem}); {SCHEDULE_HELP}")
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        raise invalid(owner, prop, schedule, "'?' in exactly one of day-of-month and day-of-week "
                      "(e.g. cron(0 3 ? * MON *) or cron(0 3 1 * ? *))")
    return schedule


def _cron_field_problem(name: str, field: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    if field == "?":
        return None if name in ("day-of-month", "day-of-week") else "'?' only in day-of-month or day-of-week"
    if name == "day-of-month" and re.fullmatch(r"L|LW|([1-9]|[12][0-9]|3[01])W", field):
        return None
    if name == "day-of-week":
        if re.fullmatch(r"L|[1-7]L", field):
            return None
        nth = re.fullmatch(r"([1-7]|[A-Z]{3})#([1-5])", field)
        if nth:
            return None if _cron_value(nth.group(1), low, high, names) is not None else f"day {nth.group(1)!r}"
    for item in field.split(","):
        base, slash, step = item.partition("/")
        if slash and not re.fullmatch(r"[1-9][0-9]*", step):
            return f"increment {step!r} is not a positive integer"
        if base == "*":
            continue
        start, dash, end = base.partition("-")
        for value in (start, end) if dash else (start,):
            if _cron_value(value, low, high, names) is None:
                allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
                return f"{value!r} is not in {allowed}"
    return None


def _cron_value(text: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if text in names:
        return low + names.index(text)
    if re.fullmatch(r"[0-9]{1,4}", text) and low <= int(text) <= high:
        return int(text)
    return None


# ------------------------------------------------------------ shared checks
def validate_pipeline(owner: str, pipeline_name: Any, pipeline_arn: Any) -> None:
    """Pipeline name (SageMaker's pattern) and ARN (``...:pipeline/<name lower-cased>``); tokens pass."""
    require_pattern(owner, "pipeline_name", pipeline_name, PIPELINE_NAME_RE,
                    "1-256 letters, digits or inner hyphens (SageMaker pipeline name)")
    validate_pipeline_arn(owner, pipeline_arn)
    if not is_token(pipeline_name) and not is_token(pipeline_arn):
        arn_name = PIPELINE_ARN_RE.match(pipeline_arn).group(1)
        if arn_name != pipeline_name.lower():
            raise invalid(owner, "pipeline_arn", pipeline_arn,
                          f"the ARN of pipeline {pipeline_name!r}, ending in 'pipeline/{pipeline_name.lower()}'")


def validate_pipeline_arn(owner: str, pipeline_arn: Any) -> str:
    return require_pattern(
        owner, "pipeline_arn", pipeline_arn, PIPELINE_ARN_RE,
        "arn:<partition>:sagemaker:<region>:<account>:pipeline/<pipeline name lower-cased> (or a token)",
    )


def validate_declared_parameters(owner: str, prop: str, names: Any) -> tuple[str, ...]:
    """The parameter names a pipeline declares: a non-empty sequence of unique names."""
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise invalid(owner, prop, names, "a non-empty sequence of the parameter names the pipeline declares")
    for name in names:
        if not isinstance(name, str) or not PARAMETER_NAME_RE.match(name):
            raise invalid(owner, prop, name, "parameter names of 1-256 letters, digits, '-' or '_'")
    if len(set(names)) != len(names):
        raise invalid(owner, prop, list(names), "unique parameter names")
    return tuple(names)


def validate_parameters(
    owner: str, prop: str, parameters: Any, declared: Sequence[str] | None,
) -> dict[str, str]:
    """Pipeline parameters to send: names the pipeline declares (when known), string values, a known ``Reason``."""
    if not isinstance(parameters, Mapping):
        raise invalid(owner, prop, parameters, "a mapping of pipeline parameter name to string value")
    for name, value in parameters.items():
        if not isinstance(name, str) or not PARAMETER_NAME_RE.match(name):
            raise invalid(owner, prop, name, "parameter names of 1-256 letters, digits, '-' or '_'")
        if declared is not None and name not in declared:
            raise invalid(owner, prop, name, "parameters the pipeline declares: " + " | ".join(declared))
        if not isinstance(value, str) or (not is_token(value) and len(value) > MAX_PARAMETER_VALUE):
            raise invalid(owner, prop, {name: value}, f"string values of at most {MAX_PARAMETER_VALUE} characters")
        if name == REASON_PARAMETER and not is_token(value):
            require_choice(owner, f"{prop}['{REASON_PARAMETER}']", value, REASONS)
    return dict(parameters)


def require_reason(owner: str, prop: str, value: Any) -> str:
    return require_choice(owner, prop, value, REASONS)


def topic_of(owner: str, prop: str, topic: Any, *, optional: bool = True) -> sns.ITopic | None:
    if topic is None and optional:
        return None
    if isinstance(topic, AlertTopic):
        return topic.topic
    if isinstance(topic, Construct) and hasattr(topic, "topic_arn") and hasattr(topic, "grant_publish"):
        return topic  # an sns.ITopic (jsii interfaces are protocols)
    raise invalid(owner, prop, topic, "an AlertTopic or an sns.ITopic" + (" (or None)" if optional else ""))


# ------------------------------------------------------- scheduled retraining
class ScheduledRetraining(Construct):
    """Starts a SageMaker pipeline on a schedule, with parameters, straight from EventBridge.

    Creates:
      * an EventBridge rule with ``schedule`` (``rate(7 days)`` by default;
        rate and cron expressions are validated as EventBridge does);
      * its target, a :class:`SageMakerPipelineTarget` starting ``pipeline_arn``
        with ``parameters`` (default ``{"Reason": "Scheduled"}``) through a
        role that may only ``sagemaker:StartPipelineExecution`` that pipeline;
      * a retry policy (``retry_attempts`` within ``max_event_age``) and an
        encrypted SQS dead-letter queue (unless ``dead_letter_queue`` is given)
        whose policy lets only this rule send to it;
      * with ``alert_topic``, an alarm on that queue notifying the topic.

    The schedule bypasses the retraining gate: it starts a run even while a
    drift-triggered one is executing (SageMaker runs both), and the gate then
    counts it for its cooldown. ``pipeline_parameters`` (the names the
    pipeline declares) lets parameter names be checked at synth time.

    Exposes ``rule``, ``dead_letter_queue``, ``role``, ``schedule``, ``parameters``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline_arn: str,
        schedule: str = "rate(7 days)",
        parameters: Mapping[str, str] | None = None,
        pipeline_parameters: Sequence[str] | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int = 3,
        max_event_age: Duration = Duration.hours(2),
        alert_topic: AlertTopic | sns.ITopic | None = None,
        enabled: bool = True,
        description: str | None = None,
    ) -> None:
        owner = "ScheduledRetraining"
        validate_pipeline_arn(owner, pipeline_arn)
        validate_schedule(owner, "schedule", schedule)
        declared = None if pipeline_parameters is None else validate_declared_parameters(
            owner, "pipeline_parameters", pipeline_parameters)
        parameters = validate_parameters(
            owner, "parameters", {REASON_PARAMETER: "Scheduled"} if parameters is None else parameters, declared)
        require_int(owner, "retry_attempts", retry_attempts, minimum=0, maximum=185)
        topic = topic_of(owner, "alert_topic", alert_topic)
        if not isinstance(enabled, bool):
            raise invalid(owner, "enabled", enabled, "True or False")
        super().__init__(scope, id)

        self.schedule = schedule
        self.parameters = parameters
        self.dead_letter_queue = dead_letter_queue or encrypted_dead_letter_queue(self, "DeadLetterQueue")
        self.rule = events.Rule(
            self,
            "Rule",
            description=description or f"Scheduled retraining ({schedule}) of a SageMaker pipeline",
            schedule=events.Schedule.expression(schedule),
            enabled=enabled,
        )
        self.target = SageMakerPipelineTarget(
            pipeline_arn,
            parameters=parameters,
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
        )
        self.rule.add_target(self.target)
        self.role: iam.IRole = self.target.bound_role  # type: ignore[assignment]
        self.dead_letter_alarm = None
        if dead_letter_queue is None:
            self.dead_letter_alarm = dead_letter_alarm(
                self, "DeadLetterAlarm", self.dead_letter_queue, topic,
                "A scheduled retraining could not start the pipeline (see the dead-letter queue)",
            )


# ---------------------------------------------------- gated retraining
class DriftRetraining(Construct):
    """Retrains when drift or a quality alarm is detected, or new training data arrives — through a gate.

    Creates:
      * the gate, a :class:`PlatformFunction` running
        ``mlops_cdk/lambdas/retraining_gate``, allowed only
        ``sagemaker:ListPipelineExecutions`` and ``sagemaker:StartPipelineExecution``
        on this pipeline; reserved concurrency ``reserved_concurrency`` (1:
        events are decided one at a time, so a burst cannot start two runs);
      * ``AlarmTrigger`` (when ``alarms`` is given): "CloudWatch Alarm State
        Change" events of those alarms entering ``ALARM``. ``alarms`` is a
        sequence of alarm names, ARNs or ``IAlarm`` (reason
        ``default_alarm_reason``) or a mapping of them to a reason;
      * ``DriftEventTrigger`` (``drift_events``): the drift checker's
        "Feature Drift Detected" events (source ``drift_event_source``,
        optionally only for ``drift_endpoints``), reason ``DataDrift``;
      * ``NewDataTrigger`` (when ``new_data_bucket`` is given): S3 "Object
        Created" events of that bucket (EventBridge notifications must be on)
        under ``new_data_prefix``, reason ``NewData``;
      * per rule target: the gate's dead-letter queue and a retry policy;
        an alarm on the dead-letter queue (notifying ``alert_topic`` if given).

    The gate starts the pipeline with ``Reason`` (and ``start_parameters``,
    all of them parameters the pipeline declares: ``pipeline_parameters``)
    unless an execution is ``Executing``/``Stopping`` or the last one started
    less than ``cooldown_minutes`` ago; it derives the idempotency token from
    the event id, so a duplicate delivery starts nothing new. Each decision is
    a JSON log line and a ``RetrainingDecisions`` metric (embedded metric
    format, namespace ``metric_namespace``, dimensions Pipeline and Decision).

    Exposes ``function`` (the PlatformFunction), ``rules`` (name -> Rule),
    ``alarm_arns``, ``metric_decisions(decision)``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline_name: str,
        pipeline_arn: str,
        pipeline_parameters: Sequence[str],
        alarms: Sequence[str | cloudwatch.IAlarm] | Mapping[str | cloudwatch.IAlarm, str] = (),
        default_alarm_reason: str = "DataDrift",
        drift_events: bool = True,
        drift_event_source: str = DRIFT_EVENT_SOURCE,
        drift_endpoints: Sequence[str] = (),
        new_data_bucket: SecureBucket | s3.IBucket | None = None,
        new_data_prefix: str = locations.TRAINING_DATA,
        new_data_suffix: str | None = None,
        cooldown_minutes: int = DEFAULT_COOLDOWN_MINUTES,
        start_parameters: Mapping[str, str] | None = None,
        alert_topic: AlertTopic | sns.ITopic | None = None,
        metric_namespace: str = DEFAULT_METRIC_NAMESPACE,
        reserved_concurrency: int | None = 1,
        event_retry_attempts: int = 8,
        max_event_age: Duration = Duration.hours(6),
    ) -> None:
        owner = "DriftRetraining"
        validate_pipeline(owner, pipeline_name, pipeline_arn)
        declared = validate_declared_parameters(owner, "pipeline_parameters", pipeline_parameters)
        if REASON_PARAMETER not in declared:
            raise invalid(owner, "pipeline_parameters", list(declared),
                          f"names including '{REASON_PARAMETER}' (the gate starts every run with a Reason)")
        require_reason(owner, "default_alarm_reason", default_alarm_reason)
        alarm_specs = validate_alarms(owner, "alarms", alarms, default_alarm_reason)
        if not isinstance(drift_events, bool):
            raise invalid(owner, "drift_events", drift_events, "True or False")
        require_pattern(owner, "drift_event_source", drift_event_source, EVENT_SOURCE_RE,
                        "an EventBridge event source like 'mlops-cdk.drift-checker'")
        if isinstance(drift_event_source, str) and drift_event_source.startswith("aws."):
            raise invalid(owner, "drift_event_source", drift_event_source, "a custom source not starting with 'aws.'")
        drift_endpoints = validate_strings(owner, "drift_endpoints", drift_endpoints)
        bucket = _bucket_of(owner, new_data_bucket)
        require_pattern(owner, "new_data_prefix", new_data_prefix, S3_PREFIX_RE,
                        "an S3 key prefix not starting with '/' and without '*', '?' or control characters")
        if new_data_suffix is not None:
            require_pattern(owner, "new_data_suffix", new_data_suffix, re.compile(r"^[^*?\x00-\x1f]{1,256}$"),
                            "None, or a key suffix such as '_SUCCESS' or '.manifest'")
        require_int(owner, "cooldown_minutes", cooldown_minutes, minimum=1, maximum=MAX_COOLDOWN_MINUTES)
        extra = validate_parameters(owner, "start_parameters", start_parameters or {}, declared)
        if REASON_PARAMETER in extra:
            raise invalid(owner, "start_parameters", {REASON_PARAMETER: extra[REASON_PARAMETER]},
                          f"parameters other than '{REASON_PARAMETER}' (the gate sets it per trigger)")
        topic = topic_of(owner, "alert_topic", alert_topic)
        require_pattern(owner, "metric_namespace", metric_namespace, re.compile(r"^(?!AWS/)[^:\x00-\x1f]{1,255}$"),
                        "a CloudWatch namespace not starting with 'AWS/'")
        if reserved_concurrency is not None:
            require_int(owner, "reserved_concurrency", reserved_concurrency, minimum=1, maximum=1000)
        require_int(owner, "event_retry_attempts", event_retry_attempts, minimum=0, maximum=185)
        if not alarm_specs and not drift_events and bucket is None:
            raise invalid(owner, "alarms", alarms, "at least one trigger: alarms, drift_events=True or new_data_bucket")
        super().__init__(scope, id)

        self.pipeline_name = pipeline_name
        self.pipeline_arn = pipeline_arn
        self.metric_namespace = metric_namespace
        self.cooldown_minutes = cooldown_minutes
        self.alarm_arns = tuple(self._alarm_arn(spec) for spec, _ in alarm_specs)
        stack = Stack.of(self)
        environment = {
            "PIPELINE_NAME": pipeline_name,
            "PIPELINE_PARAMETERS": ",".join(declared),
            "COOLDOWN_MINUTES": str(cooldown_minutes) if not is_token(cooldown_minutes) else Token.as_string(
                cooldown_minutes),
            "ALARM_REASONS": stack.to_json_string([[arn, reason] for arn, (_, reason) in zip(self.alarm_arns,
                                                                                               alarm_specs)]),
            "DEFAULT_ALARM_REASON": default_alarm_reason,
            "DRIFT_EVENT_SOURCE": drift_event_source,
            "METRIC_NAMESPACE": metric_namespace,
        }
        if extra:
            environment["START_PARAMETERS"] = stack.to_json_string(extra)
        if bucket is not None:
            environment["NEW_DATA_BUCKET"] = bucket.bucket_name
            environment["NEW_DATA_PREFIX"] = new_data_prefix
            if new_data_suffix:
                environment["NEW_DATA_SUFFIX"] = new_data_suffix
        self.function = PlatformFunction(
            self,
            "Gate",
            code="retraining_gate",
            description="Starts a SageMaker pipeline on drift, quality alarms or new data, unless a run is "
            "executing or the last one started within the cooldown",
            environment=environment,
        )
        if reserved_concurrency is not None:
            cfn_function: lambda_.CfnFunction = self.function.function.node.default_child  # type: ignore[assignment]
            cfn_function.reserved_concurrent_executions = reserved_concurrency
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                sid="StartThisPipelineOnly",
                actions=["sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution"],
                resources=[pipeline_arn],
            )
        )

        self.rules: dict[str, events.Rule] = {}
        self._delivery = {"retry_attempts": event_retry_attempts, "max_event_age": max_event_age}
        if alarm_specs:
            self._rule("AlarmTrigger", "Drift/quality alarms entering ALARM start retraining (through the gate)",
                       events.EventPattern(
                           source=["aws.cloudwatch"],
                           detail_type=[ALARM_EVENT_DETAIL_TYPE],
                           resources=list(self.alarm_arns),
                           detail={"state": {"value": ["ALARM"]}},
                       ))
        if drift_events:
            detail: dict[str, Any] = {"status": ["drift"]}
            if drift_endpoints:
                detail["endpoint"] = list(drift_endpoints)
            self._rule("DriftEventTrigger", "Feature drift detected by the drift checker starts retraining",
                       events.EventPattern(source=[drift_event_source], detail_type=[DRIFT_EVENT_DETAIL_TYPE],
                                           detail=detail))
        if bucket is not None:
            self._rule("NewDataTrigger", "New training data starts retraining (through the gate)",
                       events.EventPattern(
                           source=["aws.s3"],
                           detail_type=[S3_OBJECT_CREATED],
                           detail={"bucket": {"name": [bucket.bucket_name]},
                                   "object": {"key": [{"prefix": new_data_prefix}]}},
                       ))
        self.dead_letter_alarm = dead_letter_alarm(
            self, "DeadLetterAlarm", self.function.dead_letter_queue, topic,
            "Retraining trigger events could not be processed by the gate (see its dead-letter queue): "
            "drift, alarms or new data may not have started retraining",
        )

    def _rule(self, id: str, description: str, pattern: events.EventPattern) -> None:
        self.rules[id] = self.function.trigger(self, id, description=description, event_pattern=pattern,
                                               **self._delivery)

    def _alarm_arn(self, spec: Any) -> str:
        if isinstance(spec, str) and (is_token(spec) or spec.startswith("arn:")):
            return spec
        if not isinstance(spec, str):
            return spec.alarm_arn
        return Stack.of(self).format_arn(
            service="cloudwatch", resource="alarm", resource_name=spec, arn_format=ArnFormat.COLON_RESOURCE_NAME)

    @property
    def function_arn(self) -> str:
        return self.function.function_arn

    @property
    def dead_letter_queue(self) -> sqs.IQueue:
        return self.function.dead_letter_queue

    def metric_decisions(self, decision: str = "started", *, period: Duration = Duration.hours(1)) -> cloudwatch.Metric:
        """How many trigger events the gate answered with ``decision`` (started | skipped | invalid_event)."""
        require_choice("DriftRetraining", "decision", decision, DECISIONS)
        return cloudwatch.Metric(
            namespace=self.metric_namespace,
            metric_name=METRIC_DECISIONS,
            dimensions_map={"Pipeline": self.pipeline_name, "Decision": decision},
            statistic="Sum",
            period=period,
        )


def validate_alarms(owner: str, prop: str, alarms: Any, default_reason: str) -> list[tuple[Any, str]]:
    """Alarms (names, ARNs, IAlarm) as a sequence or mapped to a reason: ``[(alarm, reason), ...]``."""
    if isinstance(alarms, str):
        raise invalid(owner, prop, alarms, "a sequence of alarm names/ARNs/IAlarm, or a mapping of them to a "
                      "reason (a single name must be in a list)")
    if isinstance(alarms, Mapping):
        pairs = list(alarms.items())
    elif isinstance(alarms, Sequence):
        pairs = [(alarm, default_reason) for alarm in alarms]
    else:
        raise invalid(owner, prop, alarms, "a sequence of alarm names/ARNs/IAlarm, or a mapping of them to a reason")
    seen: set[Any] = set()
    for alarm, reason in pairs:
        if isinstance(alarm, str):
            if not is_token(alarm):
                if alarm.startswith("arn:"):
                    require_pattern(owner, prop, alarm, ALARM_ARN_RE,
                                    "alarm ARNs like arn:aws:cloudwatch:<region>:<account>:alarm:<name>")
                else:
                    require_pattern(owner, prop, alarm, ALARM_NAME_RE, "alarm names of 1-255 characters")
        elif not (isinstance(alarm, Construct) and hasattr(alarm, "alarm_arn")):
            raise invalid(owner, prop, alarm, "alarm names, alarm ARNs or cloudwatch.IAlarm")
        require_reason(owner, prop, reason)
        key = alarm if isinstance(alarm, str) else id(alarm)
        if key in seen:
            raise invalid(owner, prop, alarm, "each alarm once")
        seen.add(key)
    return pairs


def validate_strings(owner: str, prop: str, values: Any) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise invalid(owner, prop, values, "a sequence of strings")
    for value in values:
        if not isinstance(value, str) or not value:
            raise invalid(owner, prop, value, "non-empty strings")
    return tuple(values)


def _bucket_of(owner: str, bucket: Any) -> s3.IBucket | None:
    if bucket is None:
        return None
    if isinstance(bucket, SecureBucket):
        return bucket.bucket
    if isinstance(bucket, Construct) and hasattr(bucket, "bucket_name") and hasattr(bucket, "bucket_arn"):
        return bucket
    raise invalid(owner, "new_data_bucket", bucket, "a SecureBucket, an s3.IBucket or None")


__all__ = [
    "DECISIONS",
    "DEFAULT_COOLDOWN_MINUTES",
    "REASONS",
    "DriftRetraining",
    "ScheduledRetraining",
    "pipeline_arn_of",
    "validate_schedule",
]
