"""The offline monthly estimate of a configuration: what its stages run, in instance-hours and GB-seconds, in USD.

Everything comes from ``PlatformConfig`` and the library's own defaults, nothing from AWS:
endpoints at their minimum and maximum capacity, Model Monitor jobs and the own checkers by
schedule, pipeline runs by the retraining schedule (and at most one triggered run per cooldown).
What configuration cannot say (how long a pipeline step runs) is an :class:`Assumptions` field,
and every line's note says what it assumed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._validation import ConfigurationError, invalid, require_instance_type, require_number
from ..config import PlatformConfig
from ..constructs.build.pipeline_definition import PipelineDefinition
from .monitoring_lines import LAMBDA_ARCHITECTURE, checker_lines, model_monitor_lines, monitoring_mode
from .pipeline_steps import PipelineInstances, pipeline_instances
from .price_book import USAGES, PriceBook
from .report import GB_SECONDS, INSTANCE_HOURS, CostEstimate, LineItem
from .schedules import HOURS_PER_MONTH, runs_per_month, share_between

_OWNER = "estimate"
LEFT_OUT = (
    "Left out: S3 storage (captured data, reports, artifacts), CloudWatch (metrics, alarms, dashboards, logs), "
    "KMS, SNS, SQS, EventBridge, data transfer, the Feature Store, the event-driven Lambda functions (retraining "
    "gate, approval, baseline publisher, notifications), the AWS Free Tier and Savings Plans."
)
_COURSE_PIPELINES: dict[str, PipelineInstances] = {}


@dataclasses.dataclass(frozen=True)
class Assumptions:
    """What the estimate assumes where configuration says nothing.

    Attributes:
        pipeline_step_hours: how long each instance-backed pipeline step runs (0.25 h: the course
            pipeline's steps on its small data set take minutes; billing is per second of the job).
        pipeline_step_hours_by_name: per step name, instead (``{"TrainModel": 1.5}``).
        monitor_instance_type: the Model Monitor jobs' instances, when an app passes
            ``monitor_instance_type`` to ``MonitoringStack`` (``None``: the stack's default).
    """

    pipeline_step_hours: float = 0.25
    pipeline_step_hours_by_name: Mapping[str, float] = dataclasses.field(default_factory=dict)
    monitor_instance_type: str | None = None

    def __post_init__(self) -> None:
        require_number("Assumptions", "pipeline_step_hours", self.pipeline_step_hours, minimum=0)
        if not isinstance(self.pipeline_step_hours_by_name, Mapping):
            raise invalid("Assumptions", "pipeline_step_hours_by_name", self.pipeline_step_hours_by_name,
                          'an object of step name -> hours, e.g. {"TrainModel": 1.5}')
        for name, hours in self.pipeline_step_hours_by_name.items():
            require_number("Assumptions", f"pipeline_step_hours_by_name.{name}", hours, minimum=0)
        if self.monitor_instance_type is not None:
            require_instance_type("Assumptions", "monitor_instance_type", self.monitor_instance_type)

    def step_hours(self, name: str) -> float:
        return float(self.pipeline_step_hours_by_name.get(name, self.pipeline_step_hours))


def estimate(config_or_configs: PlatformConfig | Sequence[PlatformConfig], price_book: PriceBook, region: str, *,
             assumptions: Assumptions | None = None,
             pipeline: str | Mapping[str, Any] | PipelineDefinition | None = None,
             only_deployed: bool = False, allow_unpriced: bool = False) -> CostEstimate:
    """The monthly usage and cost of each configuration (one per stage) in ``region``, priced from ``price_book``.

    ``pipeline``: the definition every stage's training pipeline runs (JSON, its object or a
    ``PipelineDefinition``); ``None``: the course pipeline ``ModelBuildStack`` deploys for the config.
    ``only_deployed``: price what a deploy creates now (no endpoint, hence no Model Monitor, for a
    stage without ``model_package_arn``); by default every stage is priced as serving its model.
    ``allow_unpriced``: a price the book lacks makes an "unpriced" line (and the totals lower
    bounds) instead of an error; by default it is an error, because a total that silently leaves
    out a resource reads lower than the bill.
    """
    configs = _configs(config_or_configs)
    if not isinstance(price_book, PriceBook):
        raise invalid(_OWNER, "price_book", price_book, "a PriceBook (PriceBook.from_file('prices.json'))")
    prices = price_book.region(region)
    assumptions = Assumptions() if assumptions is None else assumptions
    if not isinstance(assumptions, Assumptions):
        raise invalid(_OWNER, "assumptions", assumptions, "an Assumptions or None")
    given = None if pipeline is None else _instances(pipeline)
    stages = [c.stage for c in configs]
    lines: list[LineItem] = []
    notes: list[str] = []
    for config in configs:
        label = config.stage if stages.count(config.stage) == 1 else config.prefix
        serving = config.serving_settings
        deployed = serving.model_package_arn is not None
        lines += endpoint_lines(config, label, only_deployed=only_deployed)
        mode, why = monitoring_mode(config, region, deployed=deployed or not only_deployed,
                                    captures=serving.effective_capture_percent > 0)
        if why:
            notes.append(f"{label}: {why}.")
        if mode in ("model_monitor", "both"):
            lines += model_monitor_lines(config, label, assumptions.monitor_instance_type)
        if mode in ("own", "both"):
            lines += checker_lines(config, label)
        instances = given or _course_pipeline(config)
        notes += [f"{label}: pipeline step {text}." for text in instances.not_estimated]
        lines += pipeline_lines(config, label, instances, assumptions)
    priced = [_price(line, price_book, region, allow_unpriced, notes) for line in lines]
    return CostEstimate(region, prices.source, prices.as_of, tuple(priced), tuple(dict.fromkeys([*notes, LEFT_OUT])))


def endpoint_lines(config: PlatformConfig, stage: str, *, only_deployed: bool = False) -> list[LineItem]:
    """The stage's endpoint: instances all month at the autoscaling minimum and maximum (off hours at the
    off-hours capacity), or serverless usage."""
    serving = config.serving_settings
    unset = f"serving.{config.stage}.model_package_arn"
    if serving.model_package_arn is None and only_deployed:
        kind = "serverless_inference" if serving.serverless else "hosting"
        unit = GB_SECONDS if serving.serverless else INSTANCE_HOURS
        return [LineItem(stage, "endpoint", kind, serving.instance_type or "serverless", unit, 0.0, 0.0,
                         f"not deployed: {unset} is unset")]
    planned = "" if serving.model_package_arn is not None else f"; planned: no model package yet ({unset})"
    if serving.serverless is not None:
        memory, concurrency = serving.serverless.memory_size_in_mb, serving.serverless.max_concurrency
        busy = memory / 1024 * concurrency * HOURS_PER_MONTH * 3600
        note = (f"usage-based: billed per GB-second of inference time (and per GB processed); min: no traffic; max: "
                f"all {concurrency} workers of {memory} MB busy all month; provisioned concurrency not included; "
                "serverless captures no data, so no Model Monitor and the own checkers find nothing" + planned)
        return [LineItem(stage, "endpoint (serverless)", "serverless_inference",
                         f"serverless {memory} MB x {concurrency}", GB_SECONDS, 0.0, busy, note)]
    scaling = serving.autoscaling
    low, high = (scaling.min_capacity, scaling.max_capacity) if scaling else (serving.instance_count,) * 2
    when = " all month"
    off_hours = scaling.off_hours if scaling else None
    share = share_between(off_hours.scale_in, off_hours.scale_out) if off_hours else None
    if off_hours is not None and share is None:
        when += " (off-hours scaling not reflected: its schedules use L, W or #)"
    elif off_hours is not None:
        # Outside working hours the scheduled actions pin minimum and maximum to the off-hours capacity.
        when = (f" in working hours, {off_hours.capacity} off hours ({off_hours.scale_in} to {off_hours.scale_out}: "
                f"{share:.1%} of the time)")
        low, high = (low * (1 - share) + off_hours.capacity * share, high * (1 - share) + off_hours.capacity * share)
    note = (f"autoscaling {scaling.min_capacity}-{scaling.max_capacity} instances" if scaling
            else f"{serving.instance_count} instance(s), no autoscaling") + when + \
        "; a blue/green update briefly adds a second fleet (not included)" + planned
    return [LineItem(stage, "endpoint", "hosting", serving.instance_type or "", INSTANCE_HOURS,
                     low * HOURS_PER_MONTH, high * HOURS_PER_MONTH, note)]


def pipeline_lines(config: PlatformConfig, stage: str, instances: PipelineInstances,
                   assumptions: Assumptions) -> list[LineItem]:
    """Each billed pipeline step: scheduled runs (min), plus at most one triggered run per cooldown (max)."""
    expression = config.retraining_schedule.expression_string
    scheduled = runs_per_month(expression) if config.retraining_scheduled else 0.0
    triggers = config.retraining_on_drift or config.retraining_on_new_data
    cooldown = config.retraining_cooldown_minutes
    triggered = HOURS_PER_MONTH * 60 / cooldown if triggers else 0.0
    runs = (f"{expression}: {scheduled:,.2f} scheduled runs/month" if config.retraining_scheduled
            else "no scheduled runs")
    lines = []
    for step in instances.steps:
        hours = assumptions.step_hours(step.name)
        note = (f"min: {runs}; max: plus a triggered run (drift, new data) at most every {cooldown} min cooldown "
                f"({triggered:,.1f}/month)" if triggers else f"{runs}; no triggers") + \
            f"; {hours:g} h per step assumed"
        per_run = hours * step.instance_count
        lines.append(LineItem(stage, f"pipeline: {step.name}", step.usage, step.instance_type, INSTANCE_HOURS,
                              scheduled * per_run, (scheduled + triggered) * per_run, note))
    return lines


def _price(line: LineItem, book: PriceBook, region: str, allow_unpriced: bool, notes: list[str]) -> LineItem:
    try:
        if line.usage in USAGES:
            price = book.instance_hour(line.usage, line.instance_type, region)
            return dataclasses.replace(line, usd_min=line.quantity_min * price, usd_max=line.quantity_max * price)
        if line.usage == "lambda":
            gb_second, request = book.lambda_price(LAMBDA_ARCHITECTURE, region)
            return dataclasses.replace(line, usd_min=line.quantity_min * gb_second + line.requests_min * request,
                                       usd_max=line.quantity_max * gb_second + line.requests_max * request)
        gb_second = book.serverless_gb_second(region)
        if gb_second is None:  # usage-based, and the Price List parser does not read it: no error
            notes.append(f"{line.stage}: serverless inference is unpriced: add serverless_inference.gb_second "
                         f"for {region} to the price book to price its upper bound.")
            return line
        return dataclasses.replace(line, usd_min=line.quantity_min * gb_second, usd_max=line.quantity_max * gb_second)
    except ConfigurationError as error:
        if not allow_unpriced:
            raise ConfigurationError(f"{error} (needed by {line.stage}: {line.resource})") from None
        notes.append(f"{line.stage}: {line.resource} is unpriced: {error}")
        return line


def _configs(value: Any) -> list[PlatformConfig]:
    configs = [value] if isinstance(value, PlatformConfig) else list(value) if isinstance(value, Sequence) else None
    if not configs or not all(isinstance(c, PlatformConfig) for c in configs):
        raise invalid(_OWNER, "config_or_configs", value, "a PlatformConfig or a non-empty list of them")
    return configs


def _instances(pipeline: Any) -> PipelineInstances:
    if isinstance(pipeline, PipelineDefinition):
        return pipeline_instances(pipeline.body)
    if isinstance(pipeline, (str, Mapping)):
        return pipeline_instances(pipeline)
    raise invalid(_OWNER, "pipeline", pipeline, "pipeline definition JSON, its parsed object, a PipelineDefinition or None")


def _course_pipeline(config: PlatformConfig) -> PipelineInstances:
    """The course pipeline's billed steps; rendered once per distinct input (names do not change the steps)."""
    key = json.dumps([config.accuracy_threshold, repr(config.bias_facets), list(config.monitoring_features)])
    if key not in _COURSE_PIPELINES:
        from ..stacks.model_build import course_pipeline  # renders with the sagemaker SDK: only when needed

        _COURSE_PIPELINES[key] = pipeline_instances(course_pipeline(config).body)
    return _COURSE_PIPELINES[key]


__all__ = ["LEFT_OUT", "Assumptions", "endpoint_lines", "estimate", "pipeline_lines"]
