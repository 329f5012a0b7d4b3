"""Feature-attribution monitoring as configuration: the SHAP baseline a Clarify explainability job compares with.

cdk.json's ``explainability`` (e.g. ``{"shap_baseline": [[...one value per feature...]]}``) turns
on SageMaker Clarify's feature-attribution drift job in the Model Monitor modes. The model it
explains and the column names come from the stage (the served model, ``monitoring_features``),
so only what a human chooses lives here. There is no own checker for attribution drift: it
needs SHAP values of the live model, that is, a shadow endpoint Clarify runs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .._validation import invalid, is_token, require_bool, require_choice, require_int
from ._base import Settings

SHAP_AGG_METHODS = ("mean_abs", "median", "mean_sq")
_Value = int | float | str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Explainability(Settings):
    """What a feature-attribution job computes.

    Attributes:
        shap_baseline: rows of feature values (one per input column, in order), e.g.
            ``[X_train.median().tolist()]``: SHAP explains each prediction against them.
        num_samples: samples per explanation (100), agg_method (``mean_abs``), use_logit (False):
            Clarify's SHAP settings.
    """

    shap_baseline: tuple[tuple[_Value, ...], ...]
    num_samples: int = 100
    agg_method: str = "mean_abs"
    use_logit: bool = False

    def __post_init__(self) -> None:
        rows = self.shap_baseline
        if isinstance(rows, Sequence) and not isinstance(rows, (str, bytes)):
            object.__setattr__(self, "shap_baseline", tuple(
                tuple(row) if isinstance(row, Sequence) and not isinstance(row, (str, bytes)) else row for row in rows))
        super().__post_init__()

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        _rows(owner, f"{path}shap_baseline", values.get("shap_baseline"))
        require_int(owner, f"{path}num_samples", values.get("num_samples"), minimum=1, maximum=10000)
        require_choice(owner, f"{path}agg_method", values.get("agg_method"), SHAP_AGG_METHODS)
        require_bool(owner, f"{path}use_logit", values.get("use_logit"))

    @property
    def width(self) -> int:
        """Values per baseline row: the model's number of input columns."""
        return len(self.shap_baseline[0])


def _rows(owner: str, key: str, rows: Any) -> None:
    allowed = "a non-empty list of rows of literal feature values, e.g. [[35, 1200.5, 0]]"
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Sequence) or not rows:
        raise invalid(owner, key, rows, allowed)
    width = None
    for row in rows:
        if isinstance(row, (str, bytes, Mapping)) or not isinstance(row, Sequence) or not row or any(
                isinstance(v, bool) or not isinstance(v, (int, float, str)) or (isinstance(v, str) and is_token(v))
                or (isinstance(v, float) and not math.isfinite(v)) for v in row):
            raise invalid(owner, key, rows, allowed)
        if width is not None and len(row) != width:
            raise invalid(owner, key, rows, "rows of equal length (one value per input column)")
        width = len(row)


__all__ = ["SHAP_AGG_METHODS", "Explainability"]
