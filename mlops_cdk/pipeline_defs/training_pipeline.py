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
import pathlib
import re
from collections.abc import Sequence
from typing import Any

from .. import locations
from .._validation import (
    invalid,
    is_token,
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
from .offline_session import (
    ConditionGreaterThanOrEqualTo,
    ConditionStep,
    DataQualityCheckConfig,
    DatasetFormat,
    DriftCheckBaselines,
    Estimator,
    ExecutionVariables,
    FailStep,
    ImageCheckJobConfig,
    Join,
    JsonGet,
    MetricsSource,
    Model,
    ModelMetrics,
    ModelStep,
    OfflinePipelineSession,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
    Pipeline,
    PipelineExperimentConfig,
    ProcessingInput,
    ProcessingOutput,
    ProcessingStep,
    Processor,
    PropertyFile,
    QualityCheckStep,
    TrainingInput,
    TrainingStep,
    offline,
    render_definition,
)
from .placeholders import placeholder

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


@dataclasses.dataclass(frozen=True)
class TrainingPipeline:
    """The SDK pipeline and what a construct needs to deploy it."""

    pipeline: Pipeline
    artifact_prefix: str  # key prefix in ${DataBucket} under which every execution writes
    scripts_dir: pathlib.Path = SCRIPTS_DIR
    script_files: tuple[str, ...] = SCRIPT_FILES

    def render(self) -> tuple[str, frozenset[str]]:
        """Definition JSON for ``Fn::Sub`` and the placeholders it uses (see ``render_definition``)."""
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
) -> TrainingPipeline:
    """Build the training pipeline offline. Arguments named like a parameter are its default.

    ``experiment_name`` defaults to the pipeline name; each execution is a trial. ``bias_facets`` and
    ``feature_names`` (the columns of endpoint requests): the bias baseline, see ``bias_arguments``.
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
    arguments = bias_arguments(_OWNER, facets, names) if facets else []

    with offline():
        parameters = _Parameters(
            processing_instance=ParameterString("ProcessingInstanceType", default_value=processing_instance_type),
            training_instance=ParameterString("TrainingInstanceType", default_value=training_instance_type),
            input_data=ParameterString("InputData", default_value=input_data_uri),
            rounds=ParameterInteger("TrainingRounds", default_value=training_rounds),
            eta=ParameterFloat("LearningRate", default_value=float(learning_rate)),
            threshold=ParameterFloat("AccuracyThreshold", default_value=float(accuracy_threshold)),
            approval=ParameterString(
                "ModelApprovalStatus", default_value=approval_status, enum_values=list(contract.APPROVAL_STATUSES)
            ),
            reason=ParameterString("Reason", default_value="Manual"),
        )
        builder = _Builder(pipeline_name, model_package_group_name, parameters, arguments)
        pipeline = builder.build(label_column, list(inference_instance_types), experiment_name)
    return TrainingPipeline(pipeline=pipeline, artifact_prefix=locations.pipeline_artifacts(pipeline_name))


def _refuse_tokens(prop: str, value: object) -> None:
    """Every argument ends up inside the rendered JSON, where a CDK token could never be resolved."""
    for item in value if isinstance(value, (list, tuple)) else (value,):
        if is_token(item):
            raise invalid(_OWNER, prop, item, "a literal value, not an unresolved token")


@dataclasses.dataclass(frozen=True)
class _Parameters:
    """The pipeline parameters, in the order the definition lists them."""

    processing_instance: ParameterString
    training_instance: ParameterString
    input_data: ParameterString
    rounds: ParameterInteger
    eta: ParameterFloat
    threshold: ParameterFloat
    approval: ParameterString
    reason: ParameterString


class _Builder:
    """Creates the steps in dependency order; one instance per pipeline."""

    def __init__(self, pipeline_name: str, model_package_group_name: str, parameters: _Parameters, bias: list[str]):
        self.name = pipeline_name
        self.group = model_package_group_name
        self.parameters = parameters
        self.bias_arguments = bias  # EvaluateModel's arguments; empty: no bias baseline
        self.session = OfflinePipelineSession()
        self.role = placeholder("ExecutionRoleArn")

    def build(self, label_column: str, inference_instance_types: list[str], experiment_name: str | None) -> Pipeline:
        p = self.parameters
        preprocess = self._preprocess(label_column)
        train = self._train(preprocess)
        report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
        evaluate = self._evaluate(preprocess, train, report)
        baseline = self._data_quality_baseline(preprocess)
        register = self._register(preprocess, train, evaluate, baseline, inference_instance_types)
        accuracy = JsonGet(
            step_name=evaluate.name, property_file=report, json_path="binary_classification_metrics.accuracy.value"
        )
        fail = FailStep(
            name="AccuracyBelowThreshold",
            error_message=Join(on=" ", values=["Model accuracy", accuracy, "is below the threshold", p.threshold]),
        )
        check = ConditionStep(
            name="CheckAccuracy",
            conditions=[ConditionGreaterThanOrEqualTo(left=accuracy, right=p.threshold)],
            if_steps=[register],
            else_steps=[fail],
        )
        return Pipeline(
            name=self.name,
            parameters=[getattr(p, field.name) for field in dataclasses.fields(p)],
            steps=[preprocess, train, evaluate, baseline, check],
            pipeline_experiment_config=PipelineExperimentConfig(
                experiment_name or ExecutionVariables.PIPELINE_NAME, ExecutionVariables.PIPELINE_EXECUTION_ID
            ),
            sagemaker_session=self.session,
        )

    # ------------------------------------------------------------------ steps
    def _preprocess(self, label_column: str) -> ProcessingStep:
        data = ProcessingInput(
            source=self.parameters.input_data, destination=f"{_PROCESSING}/input/data", input_name="data"
        )
        outputs = [
            ProcessingOutput(
                output_name=name, source=f"{_PROCESSING}/{name}", destination=self._artifacts("PreprocessData", name)
            )
            for name in ("train", "validation", "test", "baseline")
        ]
        step_args = self._script_processor("SKLearnImage", "preprocess.py").run(
            inputs=[self._code_input(), data], outputs=outputs, arguments=["--label-column", label_column]
        )
        return ProcessingStep(name="PreprocessData", step_args=step_args)

    def _train(self, preprocess: ProcessingStep) -> TrainingStep:
        estimator = Estimator(
            image_uri=placeholder("XGBoostImage"),
            role=self.role,
            instance_count=1,
            instance_type=self.parameters.training_instance,
            output_path=self._artifacts("TrainModel", "model"),
            hyperparameters={
                "objective": "binary:logistic",
                "eval_metric": "auc",
                "num_round": self.parameters.rounds,
                "eta": self.parameters.eta,
            },
            disable_profiler=True,
            debugger_hook_config=False,
            sagemaker_session=self.session,
        )
        channels = {
            name: TrainingInput(_output_uri(preprocess, name), content_type="text/csv")
            for name in ("train", "validation")
        }
        return TrainingStep(name="TrainModel", step_args=estimator.fit(channels))

    def _evaluate(self, preprocess: ProcessingStep, train: TrainingStep, report: PropertyFile) -> ProcessingStep:
        """Scores the test split; with bias facets also its bias baseline, which needs the column names."""
        model = train.properties.ModelArtifacts.S3ModelArtifacts
        inputs = [
            self._code_input(),
            ProcessingInput(source=model, destination=f"{_PROCESSING}/model", input_name="model"),
            ProcessingInput(source=_output_uri(preprocess, "test"), destination=f"{_PROCESSING}/test",
                            input_name="test"),
        ]
        if self.bias_arguments:  # the histogram lists the model's input columns in order (baseline_histogram.py)
            histogram = Join(on="/", values=[_output_uri(preprocess, "baseline"), "baseline_histogram.json"])
            inputs.append(ProcessingInput(source=histogram, destination=f"{_PROCESSING}/features",
                                          input_name="features"))
        step_args = self._script_processor("XGBoostImage", "evaluate.py").run(
            inputs=inputs,
            arguments=self.bias_arguments or None,
            outputs=[
                ProcessingOutput(
                    output_name="evaluation",
                    source=f"{_PROCESSING}/evaluation",
                    destination=self._artifacts("EvaluateModel", "evaluation"),
                )
            ],
        )
        return ProcessingStep(name="EvaluateModel", step_args=step_args, property_files=[report])

    def _data_quality_baseline(self, preprocess: ProcessingStep) -> QualityCheckStep:
        """Model Monitor statistics and constraints of the training inputs, registered as the drift baseline."""
        return QualityCheckStep(
            name="DataQualityBaseline",
            quality_check_config=DataQualityCheckConfig(
                baseline_dataset=Join(on="/", values=[_output_uri(preprocess, "baseline"), "baseline.csv"]),
                dataset_format=DatasetFormat.csv(header=True),
                output_s3_uri=self._artifacts("DataQualityBaseline", "results"),
            ),
            check_job_config=ImageCheckJobConfig(
                image_uri=placeholder("ModelMonitorImage"),
                role=self.role,
                instance_count=1,
                instance_type=self.parameters.processing_instance,
                sagemaker_session=self.session,
            ),
            skip_check=True,  # a new model's first baseline: nothing to compare against yet
            register_new_baseline=True,
            model_package_group_name=self.group,
        )

    def _register(
        self,
        preprocess: ProcessingStep,
        train: TrainingStep,
        evaluate: ProcessingStep,
        baseline: QualityCheckStep,
        inference_instance_types: list[str],
    ) -> ModelStep:
        """Registers the model with its evaluation report, drift baselines and why it was trained.

        ``CustomerMetadataProperties.BaselineHistogram`` is the S3 URI of the
        own drift checker's baseline (see scripts/baseline_histogram.py); with
        bias facets, ``BiasBaseline`` that of the bias checker (scripts/bias_baseline.py).
        """
        evaluation = Join(on="/", values=[_output_uri(evaluate, "evaluation"), "evaluation.json"])
        histogram = Join(on="/", values=[_output_uri(preprocess, "baseline"), "baseline_histogram.json"])
        metadata = {"TrainingReason": self.parameters.reason, contract.BASELINE_HISTOGRAM_PROPERTY: histogram}
        if self.bias_arguments:
            metadata[contract.BIAS_BASELINE_PROPERTY] = Join(on="/", values=[_output_uri(evaluate, "evaluation"),
                                                                             "bias_baseline.json"])
        checks = baseline.properties
        model = Model(
            image_uri=placeholder("XGBoostImage"),
            model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
            role=self.role,
            sagemaker_session=self.session,
        )
        step_args = model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=inference_instance_types,
            transform_instances=inference_instance_types,
            model_package_group_name=self.group,
            approval_status=self.parameters.approval,
            model_metrics=ModelMetrics(
                model_statistics=_json(evaluation),
                model_data_statistics=_json(checks.CalculatedBaselineStatistics),
                model_data_constraints=_json(checks.CalculatedBaselineConstraints),
            ),
            drift_check_baselines=DriftCheckBaselines(
                model_data_statistics=_json(checks.BaselineUsedForDriftCheckStatistics),
                model_data_constraints=_json(checks.BaselineUsedForDriftCheckConstraints),
            ),
            customer_metadata_properties=metadata,
        )
        return ModelStep(name="RegisterModel", step_args=step_args)  # the SDK names it RegisterModel-RegisterModel

    # ---------------------------------------------------------------- helpers
    def _script_processor(self, image: str, script: str) -> Processor:
        return Processor(
            image_uri=placeholder(image),
            role=self.role,
            instance_count=1,
            instance_type=self.parameters.processing_instance,
            entrypoint=["python3", "-c", BOOTSTRAP, script],
            sagemaker_session=self.session,
        )

    def _code_input(self) -> ProcessingInput:
        """The scripts archive; BOOTSTRAP unpacks it so a script can import its neighbours."""
        archive = f"s3://{placeholder('ScriptsBucket')}/{placeholder('ScriptsArchiveKey')}"
        return ProcessingInput(source=archive, destination=_CODE_DIR, input_name="code")

    def _artifacts(self, step: str, output: str) -> Join:
        """s3://${DataBucket}/<pipeline>/<execution id>/<step>/<output>: one prefix per run."""
        bucket = f"s3://{placeholder('DataBucket')}"
        return Join(on="/", values=[bucket, self.name, ExecutionVariables.PIPELINE_EXECUTION_ID, step, output])


def _output_uri(step: ProcessingStep, output: str) -> Any:
    return step.properties.ProcessingOutputConfig.Outputs[output].S3Output.S3Uri


def _json(s3_uri: Any) -> MetricsSource:
    return MetricsSource(s3_uri=s3_uri, content_type="application/json")
