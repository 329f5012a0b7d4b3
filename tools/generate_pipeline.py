"""Regenerate ``mlops_cdk/_data/training_pipeline_generated.json``: the course pipeline of the reference
configurations, rendered with the installed sagemaker SDK (see ``mlops_cdk.pipeline_defs.prerendered``).

Reference configurations: each stage of cdk.json's default context (what `cdk synth`, `-c stage=...`
and `-c stages=all` build), its dev stage with ``-c network=create``, and ``PlatformConfig()``'s defaults. Run with ``make pipeline`` after
changing the pipeline's code, the SDK pin or those defaults; until then they render with the SDK
(slower, same definition) and ``tests/test_prerendered.py`` fails.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

os.environ.setdefault("SAGEMAKER_SKIP_TELEMETRY", "1")
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlops_cdk.config import PlatformConfig  # noqa: E402
from mlops_cdk.pipeline_defs import prerendered  # noqa: E402
from mlops_cdk.pipeline_defs.training_pipeline import build_training_pipeline  # noqa: E402
from mlops_cdk.settings import STAGES  # noqa: E402
from mlops_cdk.stacks.model_build import course_pipeline_arguments  # noqa: E402


def reference_configurations() -> dict[str, PlatformConfig]:
    """Label -> configuration of every reference configuration."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    configs = {f"cdk.json context, stage {stage}": PlatformConfig.from_context({**context, "stage": stage})
               for stage in STAGES}
    configs.update({f"PlatformConfig(stage={stage!r})": PlatformConfig(stage=stage) for stage in STAGES})
    # `-c network=create` (or any network): the jobs run in a VPC, a definition of its own.
    configs["cdk.json context, stage dev, network create"] = PlatformConfig.from_context(
        {**context, "stage": "dev", "network": "create"})
    return configs


def render_entries() -> dict[str, dict]:
    """Key -> entry, each rendered by a fresh SDK build; configurations that share arguments share an entry."""
    from mlops_cdk.pipeline_defs.offline_session import pipeline_definition

    found: dict[str, dict] = {}
    for label, config in reference_configurations().items():
        built = build_training_pipeline(**course_pipeline_arguments(config))
        key = prerendered.cache_key(built.arguments)
        if key is None:
            raise RuntimeError(f"{label}: its arguments cannot be cached: {dict(built.arguments)}")
        if key not in found:
            found[key] = {"configurations": [], "arguments": prerendered._plain(dict(built.arguments)),
                          "definition": pipeline_definition(built.pipeline)}
        found[key]["configurations"].append(label)
    return dict(sorted(found.items()))


def render_file(definitions: dict[str, dict]) -> str:
    document = {
        "generated": "by tools/generate_pipeline.py from the installed sagemaker SDK; do not edit, run `make pipeline`",
        "sdk": prerendered.sdk_releases(),
        "builder": prerendered.builder_digest(),
        "definitions": definitions,
    }
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def main() -> int:
    prerendered.DATA_FILE.write_text(render_file(render_entries()))
    print(f"wrote {prerendered.DATA_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
