"""SageMaker Pipeline definitions, built offline with the sagemaker SDK (2.x).

``build_training_pipeline(...)`` returns a ``TrainingPipeline``; its
``render()`` gives the definition JSON (with ``${...}`` placeholders, see
``PLACEHOLDERS``) and the placeholders used. ``PipelineDefinition`` (in
``mlops_cdk.constructs.build``) carries it to ``SageMakerPipeline``, which wraps
the JSON in ``Fn::Sub`` and ships ``SCRIPTS_DIR`` as one zip asset
(``s3://${ScriptsBucket}/${ScriptsArchiveKey}``) that ``BOOTSTRAP`` unpacks in
each processing step. Any definition is checked with ``validate_definition``.

Importing the SDK costs ~2 s, so the names that need it load on first use:
apps and stacks without a pipeline never pay for it.
"""

from __future__ import annotations

import importlib
from typing import Any

from .definition_checks import MAX_DEFINITION_BYTES, validate_definition
from .placeholders import IMAGE_PLACEHOLDERS, PLACEHOLDERS, PSEUDO_PARAMETERS, prepare_for_sub

_LAZY = {
    "BOOTSTRAP": "training_pipeline",
    "OfflineError": "offline_session",
    "render_definition": "offline_session",
    "SCRIPTS_DIR": "training_pipeline",
    "SCRIPT_FILES": "training_pipeline",
    "TrainingPipeline": "training_pipeline",
    "build_training_pipeline": "training_pipeline",
}

__all__ = [
    "IMAGE_PLACEHOLDERS",
    "MAX_DEFINITION_BYTES",
    "PLACEHOLDERS",
    "PSEUDO_PARAMETERS",
    "prepare_for_sub",
    "validate_definition",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
