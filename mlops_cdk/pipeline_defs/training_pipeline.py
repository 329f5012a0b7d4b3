"""The course's fraud-detection training pipeline (study guide 10.2, 10.3, 10.7).

PreprocessData -> TrainModel -> EvaluateModel, and DataQualityBaseline next to
them; then CheckAccuracy registers the model (with its evaluation report and
drift baselines) when accuracy >= AccuracyThreshold, or fails the execution
with the accuracy in the message. Every run is tracked as a trial of the
pipeline's experiment.

Every parameter has a default, so EventBridge schedules and the retraining
Lambda may start it with only ``Reason`` (``DataDrift``, ``Scheduled``,
``NewData``...), which is recorded on the model package.
Bias facets add the bias checker's baseline (scripts/bias_baseline.py) to EvaluateModel.
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib
import re
import types
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import locations
from .._validation import (
    invalid,
    is_token,
    require_bool,
    require_choice,
    require_instance_type,
    require_int,
    require_number,
    require_pattern,
    require_sagemaker_name,
)
from ..lambdas._shared import contract
from ..settings.bias import BiasFacet
from .bias_arguments import bias_arguments, check_bias_options

if TYPE_CHECKING:  # the SDK loads only when the pipeline object is asked for
    from .offline_session import Pipeline

_OWNER = "build_training_pipeline"

SCRIPTS_DIR = pathlib.Path(__file__).resolve().parent / "scripts"
# Files the steps run. They travel as one zip (a CDK directory asset) that each
# processing step downloads and unpacks next to each other, so preprocess.py can
# import baseline_histogram.py; SageMaker's own FrameworkProcessor ships
# source the same way (an archive plus a bootstrap entrypoint).
SCRIPT_FILES = ("baseline_histogram.py", "bias_baseline.py", "evaluate.py", "preprocess.py")

COLUMN_RE = re.compile(r"^[^,\"\r\n]+\Z")

_PROCESSING = "/opt/ml/processing"
_CODE_DIR = f"{_PROCESSING}/input/code"
# Unpacks the scripts archive in _CODE_DIR, then runs argv[1] as __main__ with
# the remaining arguments (python -c sets argv[0] to "-c").
BOOTSTRAP = (
    "import glob, runpy, sys, zipfile; "
    f"d = {_CODE_DIR!r}; "
    "[zipfile.ZipFile(z).extractall(d) for z in glob.glob(d + '/*.zip')]; "
    "sys.argv = sys.argv[1:]; sys.path.insert(0, d); "
    "runpy.run_path(d + '/' + sys.argv[0], run_name='__main__')"
)


@dataclasses.dataclass(frozen=True, eq=False)
class TrainingPipeline:
    """The course pipeline of validated arguments, and what a construct needs to deploy it.

    ``render()`` reads a pre-rendered definition when these arguments have one (``prerendered``: no SDK
    import) and renders ``pipeline`` with the SDK otherwise. ``pipeline`` (the SDK object) is built on
    first access; once it has been, ``render()`` always renders it, so changes made to it show.
    """

    arguments: Mapping[str, Any]  # build_training_pipeline's, validated: all the definition depends on
    artifact_prefix: str  # key prefix in ${DataBucket} under which every execution writes
    scripts_dir: pathlib.Path = SCRIPTS_DIR
    script_files: tuple[str, ...] = SCRIPT_FILES

    @functools.cached_property
    def pipeline(self) -> Pipeline:
        """The ``sagemaker.workflow.pipeline.Pipeline`` (built, and the SDK imported, on first access)."""
        from .training_steps import build_pipeline

        return build_pipeline(self.arguments)

    def render(self) -> tuple[str, frozenset[str]]:
        """Definition JSON for ``Fn::Sub`` and the placeholders it uses (see ``render_definition``)."""
        if "pipeline" not in self.__dict__:  # nobody holds the SDK object, so nobody changed it
            from .prerendered import lookup

            found = lookup(self.arguments)
            if found is not None:
                return found
        from .offline_session import render_definition

        return render_definition(self.pipeline)


def build_training_pipeline(
    *,
    pipeline_name: str,
    model_package_group_name: str,
    accuracy_threshold: float = 0.85,
    processing_instance_type: str = "ml.m5.xlarge",
    training_instance_type: str = "ml.m5.xlarge",
    training_rounds: int = 100,
    learning_rate: float = 0.2,
    approval_status: str = "PendingManualApproval",
    input_data_uri: str = "s3://${DataBucket}/training-data/",
    label_column: str = "is_fraud",
    inference_instance_types: Sequence[str] = ("ml.m5.large", "ml.m5.xlarge"),
    experiment_name: str | None = None,
    bias_facets: Sequence[BiasFacet] = (),
    feature_names: Sequence[str] | None = None,
    vpc: bool = False,
) -> TrainingPipeline:
    """The training pipeline of these arguments, validated. Arguments named like a parameter are its default.

    Nothing is built yet: ``render()`` reads a pre-rendered definition or renders with the SDK, and
    ``pipeline`` builds the SDK object (offline) on first access.

    ``experiment_name`` defaults to the pipeline name; each execution is a trial. ``bias_facets`` and
    ``feature_names`` (the columns of endpoint requests): the bias baseline, see ``bias_arguments``.
    ``vpc``: every processing and training job runs in the VPC of the deploying ``SageMakerPipeline``'s
    ``network`` (``${SubnetIds}``, ``${SecurityGroupIds}``), with network isolation (the steps only read
    and write what SageMaker stages for them) and encrypted inter-container traffic.
    Raises ``ValueError`` naming the argument for any invalid value.
    """
    for prop, value in dict(locals()).items():  # first statement: exactly the arguments
        _refuse_tokens(prop, value)
    # The name is part of every artifact URI, and the baseline histogram's URI (a CustomerMetadataProperties
    # value) may not exceed 256 characters: hence a tighter limit than SageMaker's.
    require_sagemaker_name(_OWNER, "pipeline_name", pipeline_name, max_length=contract.MAX_TRAINING_PIPELINE_NAME)
    require_sagemaker_name(_OWNER, "model_package_group_name", model_package_group_name,
                           max_length=contract.MAX_MODEL_PACKAGE_GROUP_NAME)
    if experiment_name is not None:
        require_sagemaker_name(_OWNER, "experiment_name", experiment_name, max_length=contract.MAX_EXPERIMENT_NAME)
    require_number(_OWNER, "accuracy_threshold", accuracy_threshold, minimum=0, maximum=1, exclusive_minimum=True)
    require_number(_OWNER, "learning_rate", learning_rate, minimum=0, maximum=1, exclusive_minimum=True)
    require_int(_OWNER, "training_rounds", training_rounds, minimum=1, maximum=100_000)
    require_choice(_OWNER, "approval_status", approval_status, contract.APPROVAL_STATUSES)
    require_instance_type(_OWNER, "processing_instance_type", processing_instance_type)
    require_instance_type(_OWNER, "training_instance_type", training_instance_type)
    if isinstance(inference_instance_types, str) or not inference_instance_types:
        raise invalid(_OWNER, "inference_instance_types", inference_instance_types,
                      f"a non-empty list of {contract.INSTANCE_TYPE_ALLOWED}")
    for value in inference_instance_types:
        require_instance_type(_OWNER, "inference_instance_types", value)
    require_pattern(_OWNER, "input_data_uri", input_data_uri, contract.S3_URI_RE, "an s3://<bucket>/<key> URI")
    require_pattern(_OWNER, "label_column", label_column, COLUMN_RE, "a CSV header name: no comma, quote, line break")
    facets, names = check_bias_options(_OWNER, bias_facets, feature_names)
    require_bool(_OWNER, "vpc", vpc)
    arguments = types.MappingProxyType({  # exactly what the steps are built from (training_steps.build_pipeline)
        "pipeline_name": pipeline_name,
        "model_package_group_name": model_package_group_name,
        "accuracy_threshold": float(accuracy_threshold),
        "processing_instance_type": processing_instance_type,
        "training_instance_type": training_instance_type,
        "training_rounds": training_rounds,
        "learning_rate": float(learning_rate),
        "approval_status": approval_status,
        "input_data_uri": input_data_uri,
        "label_column": label_column,
        "inference_instance_types": tuple(inference_instance_types),
        "experiment_name": experiment_name,
        "bias_arguments": tuple(bias_arguments(_OWNER, facets, names)) if facets else (),
        "vpc": vpc,
    })
    return TrainingPipeline(arguments=arguments, artifact_prefix=locations.pipeline_artifacts(pipeline_name))


def _refuse_tokens(prop: str, value: object) -> None:
    """Every argument ends up inside the rendered JSON, where a CDK token could never be resolved."""
    for item in value if isinstance(value, (list, tuple)) else (value,):
        if is_token(item):
            raise invalid(_OWNER, prop, item, "a literal value, not an unresolved token")
