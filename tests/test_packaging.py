"""The wheel a user installs carries the runtime code the constructs deploy as assets."""

import subprocess
import sys
import zipfile

from tests.harness import ROOT


# What a PEP 517 front end (pip, uv, build) does without build isolation: call the backend pyproject.toml names.
_BUILD_WHEEL = """
import importlib, sys, tomllib
backend = tomllib.load(open("pyproject.toml", "rb"))["build-system"]["build-backend"]
importlib.import_module(backend).build_wheel(sys.argv[1])
"""


def test_wheel_ships_lambdas_and_pipeline_scripts(tmp_path):
    run = subprocess.run([sys.executable, "-c", _BUILD_WHEEL, str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    (wheel,) = tmp_path.glob("mlops_cdk-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        str(path.relative_to(ROOT))
        for pattern in ("mlops_cdk/lambdas/*/*.py", "mlops_cdk/pipeline_defs/scripts/*.py")
        for path in ROOT.glob(pattern)
    }
    assert expected <= names, sorted(expected - names)
    assert "mlops_cdk/_data/images_generated.py" in names
    assert not any(n.startswith(("tests/", "tools/", "bench/")) for n in names)


def test_the_floors_users_get_are_the_releases_make_test_lowest_checks():
    import re
    import tomllib

    floors = {}
    for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        name, floor = re.match(r"^([A-Za-z0-9_.-]+)>=([0-9.]+),", requirement).groups()
        floors[name.lower()] = floor
    lowest = dict(line.lower().split("==") for line in (ROOT / "requirements-lowest.txt").read_text().splitlines()
                  if line and not line.startswith("#"))
    assert {name: lowest.get(name) for name in floors} == floors
