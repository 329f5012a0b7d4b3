"""Monitoring constructs: SageMaker Model Monitor jobs, the own drift checker, quality metrics, alarms, a dashboard."""
