"""Lint every template of a cloud assembly with cfn-lint and print a per-stack summary.

Usage: python tools/lint_templates.py [cdk.out]   (exit 1 on any finding)

Warnings count as findings: a template the platform ships should be clean.
Templates are linted for several regions because they are region-agnostic and
a resource type missing in one region would only fail there at deploy time.
"""

from __future__ import annotations

import functools
import json
import pathlib
import sys

LINT_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


@functools.cache
def _runner(regions: tuple[str, ...]):
    """One cfn-lint runner per region set: loading its rules costs more than linting a template."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=list(regions)))


def lint_template(path: pathlib.Path | str, regions=LINT_REGIONS) -> list[str]:
    """cfn-lint findings for one template file, as ``RULE message (path)`` strings."""
    from cfnlint.decode.decode import decode_str

    template, matches = decode_str(pathlib.Path(path).read_text())
    if template is not None:
        matches = list(_runner(tuple(regions)).validate_template(template))
    return [f"{m.rule.id} {m.message} ({'/'.join(str(p) for p in m.path)})" for m in matches]


def templates(assembly: pathlib.Path) -> list[pathlib.Path]:
    """Every stack template of the assembly, nested stages included."""
    return sorted(assembly.rglob("*.template.json"))


def stack_label(path: pathlib.Path) -> str:
    """How the summary names a template: its stack name, prefixed by the stage for a nested assembly
    (``assembly-<stage>/``), whose artifact ids (the file names) are long and hashed."""
    name = path.name.removesuffix(".template.json")
    manifest = path.parent / "manifest.json"
    if not path.parent.name.startswith("assembly-") or not manifest.exists():
        return name
    for artifact in json.loads(manifest.read_text()).get("artifacts", {}).values():
        properties = artifact.get("properties", {})
        if properties.get("templateFile") == path.name:
            name = properties.get("stackName", name)
    return f"{path.parent.name.removeprefix('assembly-')}/{name}"


def main(argv: list[str]) -> int:
    assembly = pathlib.Path(argv[1] if len(argv) > 1 else "cdk.out")
    paths = templates(assembly)
    if not paths:
        print(f"no templates under {assembly}: run cdk synth first", file=sys.stderr)
        return 1
    rows, failures = [], 0
    for path in paths:
        findings = lint_template(path)
        failures += len(findings)
        for finding in findings:
            print(f"{stack_label(path)}: {finding}", file=sys.stderr)
        resources = len(json.loads(path.read_text()).get("Resources", {}))
        rows.append((stack_label(path), resources, path.stat().st_size / 1024, len(findings)))
    width = max(len(r[0]) for r in rows + [("stack",)])
    print(f"{'stack':<{width}}  {'resources':>9}  {'template KB':>11}  {'cfn-lint':>8}")
    for name, resources, kb, findings in rows:
        print(f"{name:<{width}}  {resources:>9}  {kb:>11.1f}  {findings:>8}")
    print(f"{len(rows)} stacks, {sum(r[1] for r in rows)} resources, cfn-lint findings: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
