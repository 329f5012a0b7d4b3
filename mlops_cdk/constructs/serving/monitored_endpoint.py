"""What monitoring needs to know of an endpoint: which one, and where its traffic is captured."""

from __future__ import annotations

import dataclasses

from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker

from ... import locations
from .endpoint_metrics import DEFAULT_VARIANT, EndpointMetrics


@dataclasses.dataclass(frozen=True)
class MonitoredEndpoint:
    """An endpoint and its data capture, as ``ServingStack.monitored_endpoint`` exposes them.

    Attributes:
        endpoint: a deployed ``ModelEndpoint`` (monitors then reference it, so a
            stack that monitors it waits for it), or any ``sagemaker.IEndpoint``
            (``ModelEndpoint.from_endpoint_name``) for one deployed elsewhere.
        capture_bucket, capture_prefix: the ``DataCaptureConfig`` destination;
            SageMaker writes ``<capture_prefix><endpoint name>/<variant>/yyyy/mm/dd/hh/*.jsonl``.
        capture_key: the KMS key of the captured objects (None: SSE-S3).
        variant_name: the production variant to watch.
        deployed: False while the stage has no model version to serve: the
            endpoint is planned under this name, but Model Monitor schedules,
            which need a live endpoint, must wait.
        captures: False for an endpoint without data capture (serverless
            variants cannot capture): nothing lands at the capture location,
            and Model Monitor refuses such an endpoint.
        model_name: the literal name of the SageMaker model the endpoint serves, when known at
            synth time (Clarify's feature-attribution job runs it on a shadow endpoint); None otherwise.
    """

    endpoint: sagemaker.IEndpoint
    capture_bucket: s3.IBucket
    capture_key: kms.IKey | None = None
    capture_prefix: str = locations.DATA_CAPTURE
    variant_name: str = DEFAULT_VARIANT
    deployed: bool = True
    captures: bool = True
    model_name: str | None = None

    @property
    def endpoint_name(self) -> str:
        return self.endpoint.endpoint_name

    @property
    def endpoint_capture_prefix(self) -> str:
        """The key prefix of this endpoint's captured files: ``<capture_prefix><endpoint name>/``."""
        return f"{self.capture_prefix}{self.endpoint_name}/"

    @property
    def metrics(self) -> EndpointMetrics:
        """The endpoint variant's ``AWS/SageMaker`` metrics."""
        return EndpointMetrics(self.endpoint_name, self.variant_name)
