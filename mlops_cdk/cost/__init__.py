"""The offline cost estimate: what a configuration runs each month, and what that costs from a price book you keep.

No constructs and no AWS calls: plain Python over :class:`~mlops_cdk.config.PlatformConfig`.

```python
from mlops_cdk.config import PlatformConfig
from mlops_cdk.cost import PriceBook, estimate

book = PriceBook.from_file("prices.json")            # make prices REGION=eu-west-1 writes one
report = estimate([PlatformConfig(stage=s) for s in ("dev", "staging", "prod")], book, "eu-west-1")
print(report.table())                                 # make cost prints the same
```
"""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use: the price book and the Price List parser need none of the stacks the estimate reads.
_LAZY = {
    "HOURS_PER_MONTH": "schedules",
    "LEFT_OUT": "monthly_estimate",
    "Assumptions": "monthly_estimate",
    "CostEstimate": "report",
    "LineItem": "report",
    "PipelineInstances": "pipeline_steps",
    "PipelineStep": "pipeline_steps",
    "PriceBook": "price_book",
    "RegionPrices": "price_book",
    "estimate": "monthly_estimate",
    "pipeline_instances": "pipeline_steps",
    "runs_per_month": "schedules",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
