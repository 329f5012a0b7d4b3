"""How many jsii round trips (Python -> node) one synth of the reference app makes, and where they come from.

Every call of aws-cdk-lib from Python (creating a construct, reading a property, a static getter such
as ``Aws.REGION``, a method) is one message to the node process and one answer (node calling back
into Python, for a Python validation or aspect, happens inside such a call). The cost of a synth above its floor is those
round trips plus the node-side work they start. This counts them: the reference app runs in this
process with jsii's entry points wrapped; each call is charged to the first ``mlops_cdk`` frame (or
app.py) that made it. Counts are exact and do not depend on the machine; the times are the wall time
spent in each call (node's work included, nested calls excluded) and only indicative.

Usage (from the repository root; the cdk.json context, plus -c key=value pairs as JSON values or strings):
    .venv/bin/python bench/jsii_round_trips.py [--top N] [-c stages=all ...]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import runpy
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
KINDS = ("create", "invoke", "get", "set", "sinvoke", "sget", "sset")


def _site() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if f"{os.sep}mlops_cdk{os.sep}" in name or name.endswith("app.py"):
            relative = pathlib.Path(name).resolve().relative_to(ROOT)
            return f"{relative}:{frame.f_lineno}"
        frame = frame.f_back
    return "(aws-cdk-lib itself)"


def count(context: dict[str, object]) -> tuple[collections.Counter, dict[str, list[float]], float]:
    import jsii

    kinds: collections.Counter = collections.Counter()
    sites: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
    nested: list[float] = []

    def wrap(kind: str):
        original = getattr(jsii, kind)

        def counted(*args, **kwargs):
            site = _site()
            start = time.perf_counter()
            nested.append(0.0)
            try:
                return original(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                inner = nested.pop()
                if nested:
                    nested[-1] += spent
                kinds[kind] += 1
                sites[site][0] += 1
                sites[site][1] += spent - inner
        setattr(jsii, kind, counted)

    for kind in KINDS:
        wrap(kind)
    outdir = tempfile.mkdtemp(prefix="bench-round-trips-")
    os.environ.update(CDK_CONTEXT_JSON=json.dumps(context), CDK_OUTDIR=outdir, CDK_VALIDATION="false")
    start = time.perf_counter()
    sys.argv = [str(ROOT / "app.py")]
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")
    return kinds, sites, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("-c", dest="context", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    for pair in args.context:
        key, _, value = pair.partition("=")
        try:
            context[key] = json.loads(value)
        except json.JSONDecodeError:
            context[key] = value
    sys.path.insert(0, str(ROOT))
    kinds, sites, seconds = count(context)
    total = sum(kinds.values())
    print(f"{total} round trips ({', '.join(f'{k} {n}' for k, n in kinds.most_common())}); "
          f"app.py took {seconds:.2f} s in this process")
    print("| calls | ms | site |\n|---:|---:|---|")
    for site, (calls, spent) in sorted(sites.items(), key=lambda kv: -kv[1][0])[:args.top]:
        print(f"| {calls} | {spent * 1000:.0f} | {site} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
