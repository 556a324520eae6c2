"""Build hook: the report notebooks ship inside the package.

The notebooks live in ``notebooks/`` at the top of the checkout, where analysts open
them. An installed wheel has no checkout, so the build copies each declared report's
notebook into ``branchbook/_notebooks/`` (see ``branchbook.reports.notebook_dir``).
Everything else is configured in ``pyproject.toml``.
"""

import ast
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def declared_reports() -> list[str]:
    """The report names of ``REPORTS`` in ``lib/branchbook/reports.py``, read without importing."""
    tree = ast.parse((ROOT / "lib" / "branchbook" / "reports.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "REPORTS":
            return [k.value for k in node.value.keys]
    raise SystemExit("lib/branchbook/reports.py: REPORTS not found")


class BuildWithNotebooks(build_py):
    def run(self):
        super().run()
        dest = Path(self.build_lib) / "branchbook" / "_notebooks"
        dest.mkdir(parents=True, exist_ok=True)
        for name in declared_reports():
            shutil.copy2(ROOT / "notebooks" / f"{name}.ipynb", dest / f"{name}.ipynb")


# setuptools would otherwise build in build/, the folder the reports are made in
setup(
    cmdclass={"build_py": BuildWithNotebooks},
    options={"build": {"build_base": ".wheel-build"}},
)
