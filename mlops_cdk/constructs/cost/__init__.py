"""Cost controls: a tag-filtered budget and cost-anomaly alerts to the platform's alert topic."""

from .cost_guardrails import CostGuardrails

__all__ = ["CostGuardrails"]
