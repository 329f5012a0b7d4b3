"""Reading region gates (mlops_cdk.regions) in synthesized templates, as CloudFormation and cfn-lint would."""

from __future__ import annotations

import json

from mlops_cdk._data import regions_generated

# What the issue measured with cfn-lint 1.58.0 (the reference for the table, not taken from it).
MODEL_MONITOR_GAPS = ("af-south-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
                      "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2",
                      "il-central-1", "me-central-1", "mx-central-1")
MONITOR_TYPES = ("AWS::SageMaker::DataQualityJobDefinition", "AWS::SageMaker::ModelQualityJobDefinition",
                 "AWS::SageMaker::ModelBiasJobDefinition", "AWS::SageMaker::ModelExplainabilityJobDefinition",
                 "AWS::SageMaker::MonitoringSchedule")


def schema_types(region: str) -> frozenset[str]:
    """The resource types cfn-lint's own schemas give ``region`` (what E3006 checks)."""
    from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

    return frozenset(PROVIDER_SCHEMA_MANAGER.get_resource_types(region=region))


def holds(expression, region: str, conditions: dict) -> bool:
    """Evaluate a condition or rule expression built from Ref AWS::Region, as CloudFormation would in ``region``."""
    def value(x):
        return region if x == {"Ref": "AWS::Region"} else x

    (function, argument), = expression.items()
    if function == "Condition":
        return holds(conditions[argument], region, conditions)
    if function == "Fn::Not":
        return not holds(argument[0], region, conditions)
    if function in ("Fn::Or", "Fn::And"):
        results = [holds(a, region, conditions) for a in argument]
        return any(results) if function == "Fn::Or" else all(results)
    if function == "Fn::Equals":
        return value(argument[0]) == value(argument[1])
    if function == "Fn::Contains":
        return value(argument[1]) in [value(v) for v in argument[0]]
    raise AssertionError(f"not a region expression: {expression}")


def mentions(expression, name: str) -> bool:
    return f'{{"Condition": "{name}"}}' in json.dumps(expression)


def region_gates(template: dict) -> dict[str, frozenset[str]]:
    """``{<Name>InRegion: the commercial regions where it is false}``."""
    conditions = template.get("Conditions", {})
    return {name: frozenset(r for r in regions_generated.COMMERCIAL_REGIONS if not holds(expr, r, conditions))
            for name, expr in conditions.items() if name.endswith("InRegion")}
