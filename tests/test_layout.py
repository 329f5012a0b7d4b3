"""The layout shows the architecture: imports point one way, modules stay small.

config -> settings only; constructs never import stacks, config or the app builder;
pipeline_defs never imports constructs; Lambda code imports nothing of the library
(it runs alone in Lambda, with the _shared modules copied next to it).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

from tests.harness import ROOT

PACKAGE = ROOT / "mlops_cdk"
MAX_LINES = 400
GENERATED = {"mlops_cdk/_data/images_generated.py"}


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: pathlib.Path) -> set[str]:
    """Every mlops_cdk module ``path`` imports, relative imports resolved."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {m for m in found if m == "mlops_cdk" or m.startswith("mlops_cdk.")}


MODULES = sorted(PACKAGE.rglob("*.py"))


def _modules_under(prefix: str) -> list[pathlib.Path]:
    return [p for p in MODULES if _module_name(p) == prefix or _module_name(p).startswith(prefix + ".")]


RULES = [
    # (modules, forbidden import prefixes, why)
    ("mlops_cdk.config", ("mlops_cdk.constructs", "mlops_cdk.stacks", "mlops_cdk.app_builder", "mlops_cdk.pipeline_defs"),
     "configuration is plain data"),
    ("mlops_cdk.settings", ("mlops_cdk.constructs", "mlops_cdk.stacks", "mlops_cdk.app_builder", "mlops_cdk.pipeline_defs",
                            "mlops_cdk.config"), "settings are plain data"),
    ("mlops_cdk.constructs", ("mlops_cdk.stacks", "mlops_cdk.app_builder", "mlops_cdk.config"),
     "constructs take typed props, not the platform's configuration"),
    ("mlops_cdk.stacks", ("mlops_cdk.app_builder",), "stacks are composed by the app builder, not the other way"),
    ("mlops_cdk.pipeline_defs", ("mlops_cdk.constructs", "mlops_cdk.stacks", "mlops_cdk.app_builder", "mlops_cdk.config"),
     "constructs use pipeline definitions, never the reverse"),
    ("mlops_cdk.lambdas", ("mlops_cdk",), "Lambda code runs alone: it imports its _shared modules as flat modules"),
    ("mlops_cdk.cost", ("mlops_cdk.app_builder",), "the estimate reads configuration and the library's defaults, not the app"),
    ("mlops_cdk.delivery_checks", ("mlops_cdk",), "CodeBuild runs these scripts with nothing but boto3"),
]


@pytest.mark.parametrize("prefix, forbidden, why", RULES, ids=[r[0] for r in RULES])
def test_imports_point_one_way(prefix, forbidden, why):
    modules = _modules_under(prefix)
    assert modules, prefix
    offending = {
        str(path.relative_to(ROOT)): sorted(m for m in _imports(path) if m.startswith(forbidden))
        for path in modules
    }
    assert {k: v for k, v in offending.items() if v} == {}, why


def test_the_rule_checker_sees_relative_imports():
    config = PACKAGE / "config.py"
    assert "mlops_cdk.settings" in _imports(config) and "mlops_cdk._validation" in _imports(config)


def test_no_module_is_large_enough_to_hold_two_concerns():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in MODULES}
    too_big = {path: lines for path, lines in sizes.items() if lines > MAX_LINES and path not in GENERATED}
    assert too_big == {}


def test_constructs_are_grouped_by_concern():
    groups = {p.name for p in (PACKAGE / "constructs").iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert groups == {"common", "foundation", "build", "serving", "monitoring", "retraining", "features", "cost",
                      "network", "studio", "delivery"}
    loose = [p.name for p in (PACKAGE / "constructs").glob("*.py") if p.name != "__init__.py"]
    assert loose == []
