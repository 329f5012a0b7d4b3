"""Model build: the model registry, the SageMaker pipeline that trains into it, the approval gate, baselines."""
