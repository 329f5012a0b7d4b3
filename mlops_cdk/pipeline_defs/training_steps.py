"""The steps of the course's training pipeline, built with the sagemaker SDK (see ``training_pipeline``).

The one module of the course pipeline that imports the SDK (through ``offline_session``): importing
it costs seconds, and a synth whose definition is pre-rendered (``prerendered``) never does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..lambdas._shared import contract
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
    NetworkConfig,
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
)
from .placeholders import placeholder
from .training_pipeline import _CODE_DIR, _PROCESSING, BOOTSTRAP


def build_pipeline(arguments: Mapping[str, Any]) -> Pipeline:
    """The SDK pipeline of ``arguments``: ``build_training_pipeline``'s, validated (``TrainingPipeline.arguments``)."""
    a = arguments
    with offline():
        parameters = _Parameters(
            processing_instance=ParameterString("ProcessingInstanceType", default_value=a["processing_instance_type"]),
            training_instance=ParameterString("TrainingInstanceType", default_value=a["training_instance_type"]),
            input_data=ParameterString("InputData", default_value=a["input_data_uri"]),
            rounds=ParameterInteger("TrainingRounds", default_value=a["training_rounds"]),
            eta=ParameterFloat("LearningRate", default_value=a["learning_rate"]),
            threshold=ParameterFloat("AccuracyThreshold", default_value=a["accuracy_threshold"]),
            approval=ParameterString(
                "ModelApprovalStatus", default_value=a["approval_status"], enum_values=list(contract.APPROVAL_STATUSES)
            ),
            reason=ParameterString("Reason", default_value="Manual"),
        )
        builder = _Builder(a["pipeline_name"], a["model_package_group_name"], parameters, list(a["bias_arguments"]),
                           vpc=a["vpc"])
        return builder.build(a["label_column"], list(a["inference_instance_types"]), a["experiment_name"])


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

    def __init__(self, pipeline_name: str, model_package_group_name: str, parameters: _Parameters, bias: list[str],
                 *, vpc: bool = False):
        self.name = pipeline_name
        self.group = model_package_group_name
        self.parameters = parameters
        self.bias_arguments = bias  # EvaluateModel's arguments; empty: no bias baseline
        self.session = OfflinePipelineSession()
        self.role = placeholder("ExecutionRoleArn")
        # In a VPC: every job in the network's subnets and groups, isolated, inter-container traffic encrypted.
        self.vpc: dict[str, Any] = {
            "subnets": [placeholder("SubnetIds")], "security_group_ids": [placeholder("SecurityGroupIds")],
            "enable_network_isolation": True, "encrypt_inter_container_traffic": True,
        } if vpc else {}
        self.network = NetworkConfig(**self.vpc) if vpc else None

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
            **self.vpc,
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
                network_config=self.network,
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
            network_config=self.network,
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
