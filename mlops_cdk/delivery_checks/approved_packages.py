"""Turns the approved-package SSM parameters into the synth step's ``-c approved_packages=<JSON>`` value.

The synth step runs ``aws ssm get-parameters --names <one per stage> --output json > <file>`` (one call; a
parameter that does not exist is listed under ``InvalidParameters`` instead of failing it, and means "no
approved version for that stage yet") and then
``python3 mlops_cdk/delivery_checks/approved_packages.py <file> dev=<name> staging=<name> ...``, which prints
``{"dev": "arn:...:model-package/<group>/<n>", ...}``: the stages with a recorded version only.

A parameter holding ``none`` (what the approval trigger creates it with) means no approved version either.
A parameter holding anything else that is not a model package version ARN stops the build (exit 2):
deploying something else, or silently nothing, would be worse than a failed run.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

# contract.MODEL_PACKAGE_ARN_RE (this script runs without the library installed)
PACKAGE_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}/\d{1,9}$")
NO_APPROVED_PACKAGE = "none"  # contract.NO_APPROVED_PACKAGE


class ParameterError(ValueError):
    """A recorded approved package that is not a model package version."""


def approved_packages(response: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, str]:
    """stage -> recorded version ARN, from a GetParameters response and stage -> parameter name."""
    values = {p.get("Name"): p.get("Value") for p in response.get("Parameters", [])}
    found = {}
    for stage, name in names.items():
        value = values.get(name)
        if value is None or (isinstance(value, str) and value.strip() == NO_APPROVED_PACKAGE):
            continue
        if not isinstance(value, str) or not PACKAGE_ARN_RE.match(value.strip()):
            raise ParameterError(f"SSM parameter {name} ({stage}) holds {value!r}, not a model package version ARN")
        found[stage] = value.strip()
    return found


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2 or any("=" not in a for a in argv[2:]):
        print("usage: approved_packages.py <get-parameters.json> <stage>=<parameter name> ...", file=sys.stderr)
        return 2
    names = dict(a.split("=", 1) for a in argv[2:])
    with open(argv[1], encoding="utf-8") as handle:
        response = json.load(handle)
    try:
        packages = approved_packages(response, names)
    except ParameterError as error:
        print(f"approved packages: {error}", file=sys.stderr)
        return 2
    for stage in names:
        print(f"approved package of {stage}: {packages.get(stage, 'none recorded')}", file=sys.stderr)
    print(json.dumps(packages, separators=(",", ":"), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
