"""Bias facets as arguments of the ``EvaluateModel`` step (see scripts/bias_baseline.py).

The facets travel as literal JSON in the step's container arguments, fixed at
synth time like every other default of the definition; '$' is written as
``\\u0024``, so no facet value can read as a ``${Placeholder}`` of the definition.
CreateProcessingJob takes at most 100 arguments of at most 256 characters each,
so the JSON is split into ``--bias-facets=<part>`` arguments that the script
joins in order. Pure Python: no SDK import.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from .._validation import invalid, require_feature_names
from ..settings.bias import BiasFacet, bias_facets

MAX_ARGUMENT_LENGTH = 256  # CreateProcessingJob AppSpecification.ContainerArguments: each item
MAX_ARGUMENTS = 100  # ... and the list
FACETS_FLAG = "--bias-facets="
COLUMNS_FLAG = "--facet-columns="
# The course model (XGBoost binary:logistic, evaluate.py's threshold) predicts these labels.
MODEL_LABELS = frozenset({"0", "1"})


def check_bias_options(
    owner: str, facets: Any, feature_names: Any,
) -> tuple[tuple[BiasFacet, ...], tuple[str, ...] | None]:
    """The facets (``BiasFacet`` or JSON objects) and feature names, validated; errors name the argument.

    With ``feature_names`` every facet must be one of them. A positive label must be one the
    binary model predicts: 0 or 1.
    """
    names = None if feature_names is None else require_feature_names(owner, "feature_names", feature_names)
    checked = bias_facets(facets, owner=owner, key="bias_facets", feature_names=names)
    for i, facet in enumerate(checked):
        labels = facet.label_values_or_threshold
        if not all(_label_key(label) in MODEL_LABELS for label in labels):
            raise invalid(owner, f"bias_facets[{i}].label_values_or_threshold", list(labels),
                          "0 and/or 1: the predicted labels of the binary model (score >= 0.5 is 1)")
    return checked, names


def bias_arguments(owner: str, facets: Sequence[BiasFacet], feature_names: Sequence[str] | None) -> list[str]:
    """The container arguments that make ``EvaluateModel`` write the bias baseline of ``facets``."""
    text = json.dumps([facet.as_json() for facet in facets], separators=(",", ":"))  # ASCII: \\u escapes
    # '$' occurs only inside JSON strings: escaped, no value can read as a ${Placeholder} of the definition.
    text = text.replace("$", "\\u0024")
    size = MAX_ARGUMENT_LENGTH - len(FACETS_FLAG)
    arguments = [FACETS_FLAG + text[i:i + size] for i in range(0, len(text), size)]
    if feature_names is not None:
        arguments.append(COLUMNS_FLAG + ",".join(str(list(feature_names).index(f.facet)) for f in facets))
    if len(arguments) > MAX_ARGUMENTS:
        raise invalid(owner, "bias_facets", f"{len(text)} characters of JSON",
                      f"facets whose JSON takes at most {(MAX_ARGUMENTS - 1) * size} characters "
                      "(SageMaker's limit on a processing job's arguments): fewer or shorter values")
    return arguments


def _label_key(value: Any) -> str:
    """Numbers and numeric text by their shortest float form, as the scripts compare labels."""
    try:
        number = float(value)
    except ValueError:
        return str(value).strip()
    return format(number, ".15g") if math.isfinite(number) else str(value).strip()
