#!/usr/bin/env python3
"""Plug your own sagemaker-SDK pipeline into ModelBuildStack instead of the course's.

Run it: cdk synth --app "python examples/own_pipeline.py"
The pipeline is built offline (no AWS call, no upload): role, bucket, image and
step code are ${...} placeholders that SageMakerPipeline resolves per stack and
region at deploy time. Its step code (own_pipeline_steps/) ships as the
scripts archive; it reads training-data/ and writes under
<pipeline name>/<execution id>/ (locations.pipeline_artifacts): exactly what
the pipeline's role is granted. It declares ``Reason``, which retraining
triggers pass. It registers no model: see the README for what the built-in
pipeline provides that a pipeline of your own must provide itself.
"""

import pathlib

import aws_cdk as cdk

from mlops_cdk import FoundationStack, ModelBuildStack, PipelineDefinition, PlatformConfig, enable_nag, locations

STEPS_DIR = pathlib.Path(__file__).resolve().parent / "own_pipeline_steps"


def churn_features(config: PlatformConfig) -> PipelineDefinition:
    """A one-step pipeline: compute features from training-data/ with the code in STEPS_DIR."""
    from mlops_cdk.pipeline_defs.offline_session import (  # the sagemaker SDK loads here, at synth
        ExecutionVariables,
        Join,
        OfflinePipelineSession,
        ParameterString,
        Pipeline,
        ProcessingInput,
        ProcessingOutput,
        ProcessingStep,
        Processor,
        offline,
    )
    from mlops_cdk.pipeline_defs import BOOTSTRAP
    from mlops_cdk.pipeline_defs.placeholders import placeholder

    bucket = f"s3://{placeholder('DataBucket')}"
    with offline():  # no SDK warnings, logs or telemetry
        session = OfflinePipelineSession()
        data = ParameterString("InputData", default_value=f"{bucket}/{locations.TRAINING_DATA}")
        reason = ParameterString("Reason", default_value="Manual")  # set by schedules and retraining triggers
        processor = Processor(
            image_uri=placeholder("SKLearnImage"),
            role=placeholder("ExecutionRoleArn"),
            instance_count=1,
            instance_type="ml.m5.large",
            # BOOTSTRAP unpacks the scripts archive, then runs the named script with the arguments after it.
            entrypoint=["python3", "-c", BOOTSTRAP, "compute_features.py"],
            sagemaker_session=session,
        )
        code = f"s3://{placeholder('ScriptsBucket')}/{placeholder('ScriptsArchiveKey')}"
        # Outputs under <pipeline name>/<execution id>/: the prefix the pipeline's role may write.
        output = Join(on="/", values=[bucket, config.pipeline_name, ExecutionVariables.PIPELINE_EXECUTION_ID,
                                      "ComputeFeatures", "features"])
        step = ProcessingStep(name="ComputeFeatures", step_args=processor.run(
            inputs=[ProcessingInput(source=code, destination="/opt/ml/processing/input/code", input_name="code"),
                    ProcessingInput(source=data, destination="/opt/ml/processing/input/data", input_name="data")],
            outputs=[ProcessingOutput(output_name="features", source="/opt/ml/processing/features",
                                      destination=output)],
            arguments=["--reason", reason],
        ))
        pipeline = Pipeline(name=config.pipeline_name, parameters=[data, reason], steps=[step],
                            sagemaker_session=session)
    return PipelineDefinition.from_sdk(pipeline, scripts_dir=STEPS_DIR)


def build(app: cdk.App) -> None:
    config = PlatformConfig(model_name="churn", stage="dev")
    foundation = FoundationStack(app, "ChurnFoundation", config=config)
    ModelBuildStack(app, "ChurnModelBuild", config=config, resources=foundation.resources,
                    definition=PipelineDefinition.lazy(lambda: churn_features(config)))


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    enable_nag(app)
    app.synth()
