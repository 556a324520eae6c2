"""pyproject.toml and environment.yml declare the same dependencies."""

import re
from pathlib import Path

import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]

# PyPI name -> conda-forge name where they differ
CONDA_NAMES = {"python-duckdb": "duckdb"}


def _name_spec(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    # an extra (psycopg[binary]) is pip's way to ask for a build conda ships anyway
    return m.group(1).lower(), re.sub(r"^\[[^\]]*\]", "", m.group(2).replace(" ", ""))


def test_environment_yml_matches_pyproject():
    pp = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = pp["project"]["dependencies"] + pp["project"]["optional-dependencies"]["dev"]
    wanted = dict(_name_spec(r) for r in reqs)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    have = {}
    # the pip section holds what conda-forge does not ship as a Python package (typst)
    pip = [d for dep in env["dependencies"] if isinstance(dep, dict) for d in dep.get("pip", [])]
    for dep in [d for d in env["dependencies"] if isinstance(d, str)] + pip:
        if dep.startswith("-e"):
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


@pytest.mark.slow
def test_a_wheel_lists_the_reports_and_runs_outside_the_checkout(tmp_path):
    """``pip wheel .`` installed in a fresh virtual environment outside the repository:
    the four reports are there (their notebooks ship inside the package) and
    ``branchbook run`` publishes from a warehouse and parameters given by path."""
    import os
    import shutil
    import site
    import subprocess
    import sys

    import pytest

    from branchbook import demo

    pytest.importorskip("setuptools")
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(wheels)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    [wheel] = wheels.glob("branchbook-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # the dependencies come from this environment; branchbook itself only from the wheel
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    Path(purelib, "deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRANCHBOOK_", "PYTHONPATH"))}
    where = tmp_path / "elsewhere"
    where.mkdir()
    listed = subprocess.run(
        [
            py,
            "-c",
            "import branchbook, branchbook.reports as r; "
            "print(branchbook.__file__); print(r.notebook_dir()); print(list(r.registry()))",
        ],
        capture_output=True,
        text=True,
        cwd=where,
        env=env,
        timeout=300,
    )
    assert listed.returncode == 0, listed.stderr[-2000:]
    file, notebooks, names = listed.stdout.strip().splitlines()
    assert file.startswith(purelib) and notebooks.startswith(purelib)
    assert names == "['segmentation', 'risk', 'satisfaction', 'staff_kpi']"
    bank = tmp_path / "bank"
    shutil.copytree(ROOT / "params", bank / "params")
    for extra in (bank / "params" / "branches").glob("*.yaml"):
        extra.unlink()
    demo.build(bank / "w.duckdb", branches=2, customers=800, months=13, seed=19)
    run = subprocess.run(
        [
            venv / "bin" / "branchbook",
            "run",
            "--warehouse",
            str(bank / "w.duckdb"),
            "--params",
            str(bank / "params"),
            "--out",
            str(bank / "reports"),
            "--build",
            str(bank / "build"),
            "--branches",
            "0101",
            "--formats",
            "html",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        cwd=where,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    published = sorted(p.name for p in (bank / "reports").glob("*/0101/*.html"))
    assert published == [
        f"{n}.html" for n in sorted(["segmentation", "risk", "satisfaction", "staff_kpi"])
    ]
