"""Monitoring's monthly usage: Model Monitor jobs by schedule x maximum runtime, own checkers' Lambda GB-seconds.

What runs follows ``MonitoringStack``: ``config.monitoring_mode`` when the endpoint is deployed
and captures its traffic, else ``own``; ``both`` runs as ``own`` in a region whose
CloudFormation lacks Model Monitor. The numbers come from where the library keeps them (the
stack's and monitors' defaults, the checkers' memory and timeout, the job options the
configuration implies), so the estimate follows when they change. Both kinds are upper bounds:
a job is counted at its maximum runtime, a Lambda run at its timeout.
"""

from __future__ import annotations

import inspect

from ..config import PlatformConfig
from ..constructs.monitoring import drift_checker, prediction_checker
from ..constructs.monitoring.clarify_monitors import BiasMonitor, FeatureAttributionMonitor
from ..constructs.monitoring.data_quality import DataQualityMonitor
from ..constructs.monitoring.model_quality import ModelQualityMonitor
from ..constructs.monitoring.monitor_base import MonitorBase, _runtime_seconds
from ..regions import MODEL_MONITOR, missing_types
from ..settings import model_monitor_jobs as jobs
from ..settings.monitoring import MonitorSchedule
from ..stacks.monitoring import MonitoringStack
from .report import GB_SECONDS, INSTANCE_HOURS, LineItem
from .schedules import runs_per_month

# PlatformFunction deploys every function of the library on Graviton (lambda_.Architecture.ARM_64).
LAMBDA_ARCHITECTURE = "arm64"
_STACK_DEFAULTS = inspect.signature(MonitoringStack.__init__).parameters
_MONITOR_DEFAULTS = inspect.signature(MonitorBase.__init__).parameters
MONITOR_INSTANCE_TYPE: str = _STACK_DEFAULTS["monitor_instance_type"].default
MONITOR_INSTANCE_COUNT: int = _MONITOR_DEFAULTS["instance_count"].default
DATA_QUALITY_SCHEDULE: MonitorSchedule = _STACK_DEFAULTS["data_quality_schedule"].default
_TWO_JOBS = ("each run is a ground-truth merge job and the analysis job, each up to the maximum runtime "
             "(SageMaker divides a run between the two)")


def monitoring_mode(config: PlatformConfig, region: str, *, deployed: bool, captures: bool) -> tuple[str | None, str]:
    """(the mode that runs, why it differs from the configured one); ``None``: no monitoring synthesizes."""
    mode = config.monitoring_mode if deployed and captures else "own"
    why = ""
    if mode != config.monitoring_mode:
        why = (f"monitoring_mode '{config.monitoring_mode}' runs as 'own' "
               + ("until the endpoint is deployed" if not deployed else "while the endpoint captures no data"))
    missing = missing_types(MODEL_MONITOR, region) if mode != "own" else ()
    if missing and mode == "both":
        mode, why = "own", f"monitoring_mode 'both' runs as 'own' in {region}: no Model Monitor ({', '.join(missing)})"
    elif missing:
        mode, why = None, f"monitoring_mode 'model_monitor' cannot synthesize in {region}: no {', '.join(missing)}"
    return mode, why


def model_monitor_lines(config: PlatformConfig, stage: str, instance_type: str | None = None) -> list[LineItem]:
    """The Model Monitor (and Clarify) jobs ``MonitoringStack`` schedules from the configuration alone."""
    instance_type = instance_type or MONITOR_INSTANCE_TYPE
    delay = config.ground_truth_delay_hours
    planned: list[tuple[str, type[MonitorBase], MonitorSchedule, int]] = [
        ("Model Monitor: data quality", DataQualityMonitor, DATA_QUALITY_SCHEDULE, 1)]
    if config.ground_truth_s3_uri is not None:
        options = jobs.model_quality_options(config.problem_type, delay)
        planned.append(("Model Monitor: model quality", ModelQualityMonitor, options.schedule, 2))
    for facet in config.bias_facets:
        options = jobs.bias_options(facet, config.monitoring_features, delay)
        planned.append((f"Clarify: bias ({facet.facet})", BiasMonitor, options.schedule, 2))
    attribution = None
    if config.explainability is not None:
        attribution = jobs.feature_attribution_options(config.explainability, config.prefix, config.monitoring_features)
        planned.append(("Clarify: feature attribution", FeatureAttributionMonitor, attribution.schedule, 1))
    lines = []
    for resource, monitor, schedule, jobs_per_run in planned:
        runs = runs_per_month(schedule.expression)
        hours = _runtime_seconds(monitor.__name__, None, schedule, monitor.HOURLY_MAX_RUNTIME) / 3600
        quantity = runs * jobs_per_run * hours * MONITOR_INSTANCE_COUNT
        note = (f"upper bound: {runs:,.1f} runs/month ({schedule.expression}) x {jobs_per_run} job(s) x "
                f"{hours:g} h maximum runtime x {MONITOR_INSTANCE_COUNT} instance(s), billed as processing"
                + (f"; {_TWO_JOBS}" if jobs_per_run == 2 else ""))
        lines.append(LineItem(stage, resource, "processing", instance_type, INSTANCE_HOURS, quantity, quantity, note))
        if monitor is FeatureAttributionMonitor and attribution is not None:
            shadow = runs * hours * attribution.shadow_instance_count
            lines.append(LineItem(
                stage, "Clarify: shadow endpoint", "hosting", attribution.shadow_instance_type, INSTANCE_HOURS,
                shadow, shadow, f"upper bound: Clarify's temporary endpoint lives at most the job's {hours:g} h "
                f"maximum runtime, {runs:,.1f} runs/month x {attribution.shadow_instance_count} instance(s)"))
    return lines


def checker_lines(config: PlatformConfig, stage: str) -> list[LineItem]:
    """The own checkers' scheduled Lambda runs: every window, each counted at its timeout (an upper bound)."""
    planned = [("drift checker (Lambda)", config.drift_window_hours, drift_checker)]
    planned.append(("quality checker (Lambda)", config.quality_window_hours, prediction_checker))
    if config.bias_facets:
        planned.append(("bias checker (Lambda)", config.quality_window_hours, prediction_checker))
    lines = []
    for resource, window_hours, module in planned:
        runs = runs_per_month(f"rate({window_hours} hours)")
        memory_mb, timeout_s = module.DEFAULT_MEMORY_MB, module.DEFAULT_TIMEOUT.to_seconds()
        gb_seconds = runs * memory_mb / 1024 * timeout_s
        note = (f"upper bound: {runs:,.1f} runs/month (every {window_hours} h), each lasting its {timeout_s:g} s "
                f"timeout at {memory_mb} MB; plus one request per run; retries of failed runs not included")
        lines.append(LineItem(stage, resource, "lambda", f"{LAMBDA_ARCHITECTURE}, {memory_mb} MB", GB_SECONDS,
                              gb_seconds, gb_seconds, note, requests_min=runs, requests_max=runs))
    return lines


__all__ = ["LAMBDA_ARCHITECTURE", "MONITOR_INSTANCE_TYPE", "checker_lines", "model_monitor_lines", "monitoring_mode"]
