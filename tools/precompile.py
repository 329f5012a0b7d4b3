"""Byte-compile, on every core, the installed modules the platform and its tests import.

``make setup`` installs without compiling (seconds instead of minutes), so each
fresh process would compile aws-cdk-lib, the sagemaker SDK, cfn-lint, moto ... on
first import, and pytest's workers would each do it at once. This compiles the
files listed in ``tools/hot_modules.txt`` (paths under site-packages, written by
``--write``, which ``make lock`` runs) once, in parallel. A stale list only costs
time: a missing file is skipped, an unlisted one compiles on first import.

Usage: python tools/precompile.py          compile the listed modules
       python tools/precompile.py --write  list what the platform and its tests import
"""

from __future__ import annotations

import concurrent.futures
import pathlib
import py_compile
import subprocess
import sys
import sysconfig

HOT_LIST = pathlib.Path(__file__).with_name("hot_modules.txt")
SITE = pathlib.Path(sysconfig.get_paths()["purelib"])
# What a test session imports: the library, the SDK adapter, the test tooling, the reference computations.
IMPORTS = ("mlops_cdk.app_builder, mlops_cdk.pipeline_defs.offline_session, mlops_cdk.pipeline_defs.training_steps, "
           "aws_cdk.assertions, cdk_nag, moto, cfnlint.api, cfnlint.runner, hypothesis, syrupy, pandas, sklearn.metrics, "
           "sklearn.datasets, sklearn.linear_model, sklearn.model_selection, sklearn.naive_bayes, sklearn.pipeline, "
           "sklearn.preprocessing, scipy.stats, scipy.special, hypothesis.strategies, hypothesis.extra.pytz, xdist, "
           "jsonpath_ng.ext, moto.server, moto.s3.models, moto.s3.responses, moto.sqs.models, moto.sqs.responses, "
           "moto.sagemaker.models, moto.sagemaker.responses, moto.events.models, moto.events.responses, "
           "moto.cloudwatch.models, moto.cloudwatch.responses, moto.sns.models, moto.sns.responses, moto.iam.models, "
           "moto.sts.models, moto.sts.responses, moto.moto_api._internal, cryptography.x509, xdist.scheduler, "
           "xdist.remote, syrupy.extensions.json, anyio.abc, anyio.streams.memory, moto.ssm.models, moto.ssm.responses, "
           "moto.codepipeline.models, moto.codepipeline.responses, moto.ec2.models, moto.sagemakerruntime.models, "
           "yaml, mlops_cdk.compliance, mlops_cdk.stacks.delivery, mlops_cdk.stacks.studio")


def _compile(path: str) -> None:
    py_compile.compile(path, quiet=2)


def compile_listed() -> int:
    files = [str(SITE / line) for line in HOT_LIST.read_text().split() if (SITE / line).is_file()]
    with concurrent.futures.ProcessPoolExecutor() as pool:
        list(pool.map(_compile, files, chunksize=32))
    return len(files)


# cfn-lint loads its rules (~400 modules) when it first lints, not on import: lint one template as the tests do.
_LINT_ONCE = ("from cfnlint.api import lint_all; "
              "lint_all('{\"Resources\": {\"Q\": {\"Type\": \"AWS::SQS::Queue\"}}}')\n")


def write_list() -> None:
    code = (f"import sys, {IMPORTS}\n" + _LINT_ONCE +
            "print('\\n'.join(sorted({m.__file__ for m in list(sys.modules.values())\n"
            "                        if (getattr(m, '__file__', None) or '').endswith('.py')})))")
    files = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    # Every cfn-lint rule: which ones load depends on the template linted, and the tests lint them all.
    files += [str(p) for p in (SITE / "cfnlint" / "rules").rglob("*.py")]
    relative = sorted({str(pathlib.Path(f).relative_to(SITE)) for f in files if pathlib.Path(f).is_relative_to(SITE)})
    HOT_LIST.write_text("\n".join(relative) + "\n")
    print(f"wrote {len(relative)} modules to {HOT_LIST}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_list()
    else:
        print(f"byte-compiled {compile_listed()} modules")
