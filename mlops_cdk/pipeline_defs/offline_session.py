"""The only module that imports the sagemaker SDK (2.x): offline sessions and rendering.

Pipeline definitions are built at ``cdk synth`` time, where there is no AWS
account, network or region, and where the output must not depend on the machine
(same input, byte-identical JSON). The SDK assumes the opposite: it resolves
roles in IAM, creates default buckets, uploads code, reads config files from
the home directory, and sends telemetry. This module closes each of those doors:

- ``OfflinePipelineSession`` fixes the default bucket, role and region to
  ``${...}`` placeholders (see ``placeholders.py``), never loads SDK config
  files, and is backed by a boto session whose clients refuse every call, so an
  SDK code path that would reach AWS fails loudly with ``OfflineError``.
  Uploads the SDK attempts are recorded; ``render_definition`` rejects them
  (step code must be passed as ``s3://`` URIs).
- ``offline()`` silences the SDK's warnings and INFO logs (v2 deprecation,
  "Popping out ..." notes), makes its telemetry sender a no-op and swaps
  boto3's default session for a refusing one (the SDK creates a few clients
  from it, e.g. Estimator's TensorBoard app), for the duration of a build.
  Every SDK call here runs inside it. It patches process-wide state, so it is
  not meant for threads that use boto3 or the SDK at the same time.

It also re-exports the SDK classes the pipeline builders use, so the set of SDK
symbols the library depends on is listed here, and moving to SDK 3.x starts in
this file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import boto3

from .._data.images_generated import REGISTRY_ACCOUNTS
from .definition_checks import validate_definition
from .placeholders import definition_for_sub, placeholder

_SDK_LOGGERS = ("sagemaker", "sagemaker.config")
# Any region the SDK ships images for, for the few SDK look-ups that need one
# before we override their result (DefaultModelMonitor's image); the definition
# never contains it (the session itself reports ${AWS::Region}).
_LOOKUP_REGION = min(REGISTRY_ACCOUNTS)


class OfflineError(RuntimeError):
    """The SDK tried to reach AWS while building a pipeline definition."""


class _RefusingClient:
    def __init__(self, service: str) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and friends probe for these
            raise AttributeError(name)
        raise OfflineError(
            f"the sagemaker SDK tried to use AWS service {self._service!r} ({name}) while building a "
            "pipeline definition offline; pass the value it looks up explicitly"
        )


class _RefusingBotoSession:
    """Stands in for ``boto3.Session``: no credentials, no config files, no clients that can call out."""

    region_name = _LOOKUP_REGION

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> _RefusingClient:
        return _RefusingClient(service_name)

    def resource(self, service_name: str, *args: Any, **kwargs: Any) -> _RefusingClient:
        return _RefusingClient(service_name)


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """No SDK warnings, INFO logs, telemetry or boto3 default clients while the block runs."""
    loggers = [logging.getLogger(name) for name in _SDK_LOGGERS]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        # The SDK creates some clients through boto3's default session, not ours
        # (Estimator's TensorBoardApp): that session refuses calls too.
        default_session, boto3.DEFAULT_SESSION = boto3.DEFAULT_SESSION, _RefusingBotoSession()
        try:
            from sagemaker.telemetry import telemetry_logging

            sender = telemetry_logging._send_telemetry_request
            telemetry_logging._send_telemetry_request = lambda *args, **kwargs: None
            try:
                yield
            finally:
                telemetry_logging._send_telemetry_request = sender
        finally:
            boto3.DEFAULT_SESSION = default_session
            for logger, level in zip(loggers, levels):
                logger.setLevel(level)


# Importing the SDK (through sagemaker_core) installs rich's traceback handler as
# sys.excepthook: a one-line configuration error under `cdk synth` would print as
# a 36-line coloured traceback. The import must not change how this process fails.
_excepthook = sys.excepthook
try:
    with offline():  # importing sagemaker warns about v2 and may log to stdout
        from sagemaker.drift_check_baselines import DriftCheckBaselines
        from sagemaker.estimator import Estimator
        from sagemaker.inputs import TrainingInput
        from sagemaker.model import Model
        from sagemaker.model_metrics import MetricsSource, ModelMetrics
        from sagemaker.model_monitor.dataset_format import DatasetFormat
        from sagemaker.network import NetworkConfig
        from sagemaker.processing import ProcessingInput, ProcessingOutput, Processor
        from sagemaker.workflow.check_job_config import CheckJobConfig
        from sagemaker.workflow.condition_step import ConditionStep
        from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
        from sagemaker.workflow.execution_variables import ExecutionVariables
        from sagemaker.workflow.fail_step import FailStep
        from sagemaker.workflow.functions import Join, JsonGet
        from sagemaker.workflow.model_step import ModelStep
        from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
        from sagemaker.workflow.pipeline import Pipeline
        from sagemaker.workflow.pipeline_context import PipelineSession
        from sagemaker.workflow.pipeline_experiment_config import PipelineExperimentConfig
        from sagemaker.workflow.properties import PropertyFile
        from sagemaker.workflow.quality_check_step import DataQualityCheckConfig, QualityCheckStep
        from sagemaker.workflow.steps import ProcessingStep, TrainingStep
finally:
    sys.excepthook = _excepthook


__all__ = [
    "ConditionGreaterThanOrEqualTo", "ConditionStep", "DataQualityCheckConfig", "DatasetFormat",
    "DriftCheckBaselines", "Estimator", "ExecutionVariables", "FailStep", "ImageCheckJobConfig", "Join",
    "JsonGet", "MetricsSource", "Model", "ModelMetrics", "ModelStep", "NetworkConfig", "OfflineError",
    "OfflinePipelineSession",
    "ParameterFloat", "ParameterInteger", "ParameterString", "Pipeline", "PipelineExperimentConfig",
    "ProcessingInput", "ProcessingOutput", "ProcessingStep", "Processor", "PropertyFile", "QualityCheckStep",
    "TrainingInput", "TrainingStep", "offline", "pipeline_definition", "render_definition",
]


class OfflinePipelineSession(PipelineSession):
    """A ``PipelineSession`` that never calls AWS and whose account facts are placeholders."""

    def __init__(self) -> None:
        # A non-empty config keeps the SDK from reading ~/.config/sagemaker and /etc/xdg files...
        super().__init__(
            boto_session=_RefusingBotoSession(),
            default_bucket=placeholder("DataBucket"),
            sagemaker_config={"SchemaVersion": "1.0"},
        )
        # ...and no config at all afterwards skips a JSON-schema validation on every look-up.
        self.sagemaker_config = None
        self._region_name = placeholder("AWS::Region")
        self.uploads: list[str] = []

    def default_bucket(self) -> str:
        return self._default_bucket_name_override  # a placeholder: never created or checked

    def expand_role(self, role: str) -> str:
        return role  # a placeholder ARN, not a role name to look up in IAM

    def upload_data(
        self, path: str, bucket: str | None = None, key_prefix: str = "data", *args: Any, **kwargs: Any
    ) -> str:
        uri = f"s3://{bucket or self.default_bucket()}/{key_prefix}"
        self.uploads.append(f"{path} -> {uri}")
        return uri

    def upload_string_as_file_body(self, body: str, bucket: str, key: str, *args: Any, **kwargs: Any) -> str:
        uri = f"s3://{bucket}/{key}"
        self.uploads.append(f"<{len(body)} characters> -> {uri}")
        return uri


class ImageCheckJobConfig(CheckJobConfig):
    """``CheckJobConfig`` with an explicit Model Monitor image.

    The SDK offers no argument for it: ``DefaultModelMonitor`` resolves the
    image for the session's region, which would pin the definition to one
    region. The monitor is created in ``_generate_model_monitor`` before the
    quality check step copies its image, so the override goes there.
    """

    def __init__(self, *, image_uri: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.image_uri = image_uri

    def _generate_model_monitor(self, mm_type: str) -> Any:
        monitor = super()._generate_model_monitor(mm_type)
        monitor.image_uri = self.image_uri
        return monitor


def render_definition(pipeline: Pipeline) -> tuple[str, frozenset[str]]:
    """The pipeline's definition JSON, ready for ``Fn::Sub``, and the placeholders it uses.

    Keys are sorted and separators compact, so the same pipeline always renders
    to the same bytes. Raises ``ValueError`` if the SDK uploaded anything or the
    definition fails ``validate_definition``.
    """
    return definition_for_sub(pipeline_definition(pipeline))


def pipeline_definition(pipeline: Pipeline) -> dict[str, Any]:
    """The pipeline's definition as the SDK renders it, parsed and checked (see ``render_definition``)."""
    session = pipeline.sagemaker_session
    if not isinstance(session, OfflinePipelineSession):
        raise ValueError(
            f"render_definition needs a pipeline built on an OfflinePipelineSession, not {type(session).__name__}"
        )
    with offline():
        raw = pipeline.definition()
    if session.uploads:
        raise ValueError(
            f"pipeline {pipeline.name!r}: the SDK tried to upload local files ({'; '.join(session.uploads)}); "
            "pass step code and data as s3:// URIs"
        )
    definition = json.loads(raw)
    validate_definition(definition)
    return definition
