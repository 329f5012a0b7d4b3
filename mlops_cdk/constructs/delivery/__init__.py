"""Delivery: promoting the platform through its stages and deploying approved models.

Two concerns share this package, one module each (import the module, this file re-exports nothing):

* the CDK Pipelines delivery: ``delivery_pipeline`` (``DeliveryPipeline``), ``platform_stage``
  (``PlatformStage``), ``synth_step``, ``endpoint_test`` (the gate after dev and staging);
* deploy on approval and the other engines: ``approved_package`` and the modules next to it.
"""
