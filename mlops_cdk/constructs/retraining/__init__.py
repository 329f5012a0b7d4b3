"""Retraining: start a pipeline on a schedule (``ScheduledRetraining``), on drift, quality alarms or new
data through one gate (``RetrainingGate``), and report every run (``PipelineNotifications``)."""
