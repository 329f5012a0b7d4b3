"""Static checks over the code base: no unused imports or names, no undefined names (pyflakes)."""

import subprocess
import sys

from tests.harness import ROOT


def test_pyflakes_finds_nothing():
    paths = ["mlops_cdk", "tools", "tests", "bench", "examples", "app.py"]
    result = subprocess.run([sys.executable, "-m", "pyflakes", *paths], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout + result.stderr == ""


def test_readme_python_snippets_are_valid_python():
    import re

    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) >= 8
    for block in blocks:
        compile(block, "README.md", "exec")
