#!/usr/bin/env python3
"""Plug your own sagemaker-SDK pipeline into ModelBuildStack instead of the course's.

Run it: cdk synth --app "python examples/own_pipeline.py"
The pipeline is built offline (no AWS call, no upload): role, bucket and image
are placeholders that the SageMakerPipeline construct resolves per stack and
region at deploy time. Step code must be an s3:// URI; here a script that
already sits in the data bucket.
"""

import aws_cdk as cdk

from mlops_cdk import FoundationStack, ModelBuildStack, PlatformConfig
from mlops_cdk.pipeline_defs import render_definition
from mlops_cdk.pipeline_defs.offline_session import (
    OfflinePipelineSession,
    ParameterString,
    Pipeline,
    ProcessingInput,
    ProcessingStep,
    Processor,
    offline,
)
from mlops_cdk.pipeline_defs.placeholders import placeholder


def nightly_features(pipeline_name: str, model_package_group_name: str):
    """A one-step pipeline: recompute features with a script from the data bucket."""
    with offline():  # no SDK warnings, logs or telemetry
        session = OfflinePipelineSession()
        data = ParameterString("InputData", default_value="s3://${DataBucket}/training-data/")
        reason = ParameterString("Reason", default_value="Manual")
        processor = Processor(
            image_uri=placeholder("SKLearnImage"),
            role=placeholder("ExecutionRoleArn"),
            instance_count=1,
            instance_type="ml.m5.large",
            entrypoint=["python3", "/opt/ml/processing/input/code/features.py"],
            sagemaker_session=session,
        )
        step = ProcessingStep(
            name="ComputeFeatures",
            step_args=processor.run(inputs=[
                ProcessingInput(source=data, destination="/opt/ml/processing/input/data", input_name="data"),
                ProcessingInput(source="s3://${DataBucket}/code/features.py",
                                destination="/opt/ml/processing/input/code", input_name="code"),
            ]),
        )
        pipeline = Pipeline(name=pipeline_name, parameters=[data, reason], steps=[step], sagemaker_session=session)
    return render_definition(pipeline)


def build(app: cdk.App) -> None:
    config = PlatformConfig(model_name="churn", stage="dev")
    foundation = FoundationStack(app, "ChurnFoundation", config=config)
    ModelBuildStack(app, "ChurnModelBuild", config=config, foundation=foundation, pipeline=nightly_features)


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
