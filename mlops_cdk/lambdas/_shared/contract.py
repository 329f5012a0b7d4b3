"""The contract between the library and its Lambda functions: names, patterns and limits, in one place.

The library imports this module (``mlops_cdk.lambdas._shared.contract``) to validate props and to
build alarms, rules and environments; ``PlatformFunction`` copies it next to every handler, which
imports it as ``contract``. So a metric name, an event detail-type, a retraining reason or a limit
exists once, and a construct and the function it deploys can never disagree on it.
Standard library only: this file ships inside every Lambda package.
"""

from __future__ import annotations

import re

# ------------------------------------------------------------------ SageMaker names
# SageMaker's pattern for most resource names (endpoints, variants, model package groups,
# pipelines, monitoring schedules, job definitions, models): letters, digits, inner hyphens.
SAGEMAKER_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
SAGEMAKER_NAME_ALLOWED = "letters, digits and inner hyphens, starting and ending with a letter or digit"
MAX_ENDPOINT_NAME = 63
MAX_VARIANT_NAME = 63
MAX_MODEL_PACKAGE_GROUP_NAME = 63
MAX_MONITORING_SCHEDULE_NAME = 63
MAX_MODEL_NAME = 63
MAX_PIPELINE_NAME = 256  # CreatePipeline
# The training pipeline writes under s3://<bucket>/<pipeline name>/<execution id>/ and records the
# baseline histogram's URI in CustomerMetadataProperties, whose values may not exceed 256 characters.
MAX_TRAINING_PIPELINE_NAME = 100
MAX_EXPERIMENT_NAME = 120
MAX_PIPELINE_DESCRIPTION = 3072
MAX_MODEL_PACKAGE_GROUP_DESCRIPTION = 1024
# A 12-digit AWS account id (a model package group's cross-account readers).
ACCOUNT_ID_RE = re.compile(r"^\d{12}$")

# Feature Store allows underscores too.
FEATURE_GROUP_NAME_RE = re.compile(r"^[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}$")
FEATURE_NAME_RE = re.compile(r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$")
MAX_FEATURE_GROUP_NAME = 64
MAX_FEATURE_NAME = 64

# StartPipelineExecution: parameter names and values.
PIPELINE_PARAMETER_NAME_RE = re.compile(r"^[A-Za-z0-9\-_]{1,256}$")
MAX_PIPELINE_PARAMETER_VALUE = 1024
MAX_PIPELINE_PARAMETERS = 200

# ml.<family>.<size>: every current family (ml.m5, ml.g6e, ml.inf2, ml.trn1n, ml.p4de, ml.p6-b200,
# ml.p6e-gb200 ...) and only real sizes, so a typo such as "ml.p3.2xlarg" is refused at synth
# instead of by SageMaker at run time.
INSTANCE_TYPE_RE = re.compile(
    r"^ml\.[a-z]+[0-9]+[a-z]*(-[a-z0-9]+)*\.(nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge|metal)$"
)
INSTANCE_TYPE_ALLOWED = "a SageMaker instance type like ml.m5.large (ml.<family>.<size>)"

# A model package version: its ARN, or <group>/<version> in the stack's account and region.
_GROUP = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
MODEL_PACKAGE_ARN_RE = re.compile(rf"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{{12}}:model-package/{_GROUP}/\d{{1,9}}$")
MODEL_PACKAGE_VERSION_RE = re.compile(rf"^(?P<group>{_GROUP})/\d{{1,9}}$")
# An unversioned model package (e.g. from AWS Marketplace): model-package/<name>.
UNVERSIONED_MODEL_PACKAGE_ARN_RE = re.compile(rf"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{{12}}:model-package/{_GROUP}$")
MODEL_PACKAGE_GROUP_OF_ARN_RE = re.compile(rf"model-package/(?P<group>{_GROUP})/\d{{1,9}}$")
MODEL_PACKAGE_ALLOWED = (
    "a model package version: arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>, "
    "or <group>/<version> in the stack's account and region"
)
PIPELINE_EXECUTION_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:pipeline/(?P<pipeline>[^/]+)/execution/[^/]+$"
)
SNS_TOPIC_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
MAX_SNS_SUBJECT = 99  # ASCII, no line breaks, fewer than 100 characters
S3_URI_RE = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$")

# ------------------------------------------------------------------ events
SAGEMAKER_EVENT_SOURCE = "aws.sagemaker"
MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
PIPELINE_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
PROCESSING_JOB_STATE_CHANGE = "SageMaker Processing Job State Change"
APPROVAL_STATUSES = ("Approved", "Rejected", "PendingManualApproval")
# SageMaker's PipelineExecutionStatus enum; CompletedWithFailures last, so the order of the first five holds.
PIPELINE_STATUSES = ("Executing", "Stopping", "Stopped", "Failed", "Succeeded", "CompletedWithFailures")
CLOUDWATCH_EVENT_SOURCE = "aws.cloudwatch"
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
S3_EVENT_SOURCE = "aws.s3"
S3_OBJECT_CREATED = "Object Created"

# The drift checker's event (EventBridge reserves sources starting with "aws.").
DRIFT_EVENT_SOURCE = "mlops-cdk.drift-checker"
DRIFT_EVENT_DETAIL_TYPE = "Feature Drift Detected"
# detail.status of that event (and the status of a drift-checker run that found drift).
DRIFT_EVENT_STATUS = "drift"
EVENT_SOURCE_RE = re.compile(r"^(?!aws\.)[A-Za-z0-9._\-/]{1,256}$")

# ------------------------------------------------------------------ metrics
# Public API: alarms and dashboards read these, so renaming one silently breaks them.
MONITORING_NAMESPACE = "MLOps/ModelMonitoring"
CUSTOM_NAMESPACE_RE = re.compile(r"^(?!AWS/)[^:$\x00-\x1f]{1,255}$")
# Model quality (publish_custom_metrics): dimensions ModelName + EndpointName.
METRIC_ACCURACY = "ModelAccuracy"
METRIC_PRECISION = "ModelPrecision"
METRIC_RECALL = "ModelRecall"
DIMENSION_MODEL_NAME = "ModelName"
DIMENSION_ENDPOINT_NAME = "EndpointName"
# Feature drift (the drift checker): FeatureDrift per Endpoint + Feature, the rest per Endpoint.
METRIC_FEATURE_DRIFT = "FeatureDrift"
METRIC_MAX_FEATURE_DRIFT = "MaxFeatureDrift"
METRIC_RECORDS_ANALYZED = "RecordsAnalyzed"
METRIC_MALFORMED_RECORDS = "MalformedRecords"
DIMENSION_ENDPOINT = "Endpoint"
DIMENSION_FEATURE = "Feature"
# The retraining gate's decisions (embedded metric format): dimensions Pipeline + Decision.
RETRAINING_NAMESPACE = "MLOps/Retraining"
METRIC_RETRAINING_DECISIONS = "RetrainingDecisions"
DECISIONS = ("started", "skipped", "invalid_event")
DIMENSION_PIPELINE = "Pipeline"
DIMENSION_DECISION = "Decision"

# Own model-quality and bias checkers (the quality_checker function; dimensions ModelName + EndpointName).
PROBLEM_TYPES = ("BinaryClassification", "MulticlassClassification", "Regression")
QUALITY_CHECKS = ("model_quality", "bias_drift")  # the function's CHECK: which check a deployment runs
# Model quality by problem type (multiclass precision, recall and F1 are support-weighted averages).
METRIC_F1 = "ModelF1"
METRIC_AUC = "ModelAUC"
METRIC_MAE = "ModelMAE"
METRIC_MSE = "ModelMSE"
METRIC_RMSE = "ModelRMSE"
METRIC_R2 = "ModelR2"
CLASSIFICATION_METRICS = (METRIC_ACCURACY, METRIC_PRECISION, METRIC_RECALL, METRIC_F1, METRIC_AUC)
REGRESSION_METRICS = (METRIC_MAE, METRIC_MSE, METRIC_RMSE, METRIC_R2)
# What each run joined (dimensions ModelName + EndpointName + Check).
METRIC_LABELLED_RECORDS = "LabelledRecords"  # predictions of the window matched with a ground-truth label
METRIC_UNLABELLED_PREDICTIONS = "UnlabelledPredictions"  # predictions of the window without a label (yet)
METRIC_UNMATCHED_LABELS = "UnmatchedLabels"  # labels read that match no prediction of the window
METRIC_MALFORMED_LINES = "MalformedLines"  # capture or ground-truth lines skipped as malformed
DIMENSION_CHECK = "Check"
# Post-training bias per facet (SageMaker Clarify's short names): difference in positive proportions in
# predicted labels, disparate impact, recall difference, accuracy difference (the last two need labels).
BIAS_METRICS = ("DPPL", "DI", "RD", "AD")
METRIC_BIAS_VALUE = "BiasValue"  # dimensions ModelName + EndpointName + Facet + BiasMetric
METRIC_BIAS_DRIFT = "BiasDrift"  # how much further from parity than the training baseline; same dimensions
METRIC_MAX_BIAS_DRIFT = "MaxBiasDrift"  # the largest BiasDrift of a facet; dimensions ModelName + EndpointName + Facet
DIMENSION_BIAS_METRIC = "BiasMetric"
DIMENSION_FACET = "Facet"
MAX_BIAS_FACETS = 10
# Labels arrive late: a run may look back this far for the predictions whose labels are in.
MAX_LABEL_DELAY_HOURS = 336  # 14 days
MAX_QUALITY_WINDOW_HOURS = 24  # one run's window is also its metrics' period: CloudWatch evaluates at most a day
MAX_CLASSES = 1000  # distinct labels of a multiclass model a run keeps counts for
# The model package metadata property holding the S3 URI of the version's bias baseline (training pipeline).
BIAS_BASELINE_PROPERTY = "BiasBaseline"

# ------------------------------------------------------------------ retraining
# Values of the pipeline's Reason parameter, recorded on the model package as TrainingReason.
REASON_PARAMETER = "Reason"
REASONS = ("DataDrift", "ModelQualityDrop", "NewData", "Scheduled", "Manual")
MAX_COOLDOWN_MINUTES = 43200  # 30 days
# The model package metadata property (CustomerMetadataProperties) in which the training pipeline
# records the S3 URI of the version's drift-baseline histogram; the baseline publisher reads it.
BASELINE_HISTOGRAM_PROPERTY = "BaselineHistogram"

# ------------------------------------------------------------------ drift checker
# A window is both the schedule rate and the alarm period: CloudWatch evaluates at most one day.
MAX_DRIFT_WINDOW_HOURS = 24
# PSI thresholds: 0.1 (moderate) and 0.2 (significant) by convention; above 1 no alarm would mean anything.
MAX_DRIFT_THRESHOLD = 1.0

# ------------------------------------------------------------------ approval gate
# A dotted path into SageMaker's evaluation report, e.g. binary_classification_metrics.accuracy.value.
METRIC_PATH_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
MAX_METRIC_PATH = 256
COMPARISONS = ("GreaterThanOrEqualToThreshold", "LessThanOrEqualToThreshold")

# ------------------------------------------------------------------ deploy on approval
# Value of an approved-package SSM parameter while no version is recorded (set by the template; the
# delivery pipeline's synth step reads it as "no package": the stage keeps its configured one).
NO_APPROVED_PACKAGE = "none"
# The approval trigger's record of the versions it deployed, newest (the current one) first: the
# candidates, in order, for a return when the current one is rejected.
MAX_DEPLOYED_HISTORY = 10
# The parts of a model package group's ARN and of a version's ARN: the approval trigger acts only on
# versions of its own group (same partition, region, account and name), whichever account forwarded the event.
MODEL_PACKAGE_GROUP_ARN_PARTS_RE = re.compile(
    rf"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{{12}}):"
    rf"model-package-group/(?P<group>{_GROUP})$")
MODEL_PACKAGE_ARN_PARTS_RE = re.compile(
    rf"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{{12}}):"
    rf"model-package/(?P<group>{_GROUP})/(?P<version>\d{{1,9}})$")
