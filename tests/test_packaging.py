"""pyproject.toml and environment.yml declare the same dependencies."""

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]

# PyPI name -> conda-forge name where they differ
CONDA_NAMES = {"python-duckdb": "duckdb"}


def _name_spec(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return m.group(1).lower(), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    pp = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = pp["project"]["dependencies"] + pp["project"]["optional-dependencies"]["dev"]
    wanted = dict(_name_spec(r) for r in reqs)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    have = {}
    for dep in env["dependencies"]:
        if not isinstance(dep, str):
            continue
        name, spec = _name_spec(dep)
        if name in ("python", "pip"):
            continue
        have[CONDA_NAMES.get(name, name)] = spec
    assert have == wanted


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme
    assert re.search(r"^make test$", ci, re.M)
